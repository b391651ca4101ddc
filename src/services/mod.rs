//! Use cases. `handle` takes one parsed input from a user and returns what to answer; all of its reads and
//! writes happen in one `BEGIN IMMEDIATE` transaction, so a failure leaves stored data as it was (inputs that
//! arrive together may share that transaction, see `batch`).
mod account;
mod attendance;
mod batch;
pub(crate) mod broadcast;
pub(crate) mod certificates;
pub mod changes;
pub(crate) mod coaching;
pub mod console;
mod coordinator;
mod csv;
pub mod flood;
pub mod groups;
mod help_now;
mod journal;
mod labels;
mod menus;
pub(crate) mod profile;
pub(crate) mod programme;
mod registration;
pub(crate) mod render;
pub mod retention;
mod surveys;
pub(crate) mod waitlist;
mod window;

pub use batch::Batcher;
pub use coordinator::participants_csv;
pub use surveys::export as survey_export;
pub(crate) use surveys::{Invitee, Occasion, invite as invite_to_survey};

use crate::clock::Clock;
use crate::config::Config;
use crate::content::{Content, ContentStore};
use crate::db::dialogues::{self, DialogueState};
use crate::db::{self, DbError, Tx};
use crate::domain::commands::{Command, Who};
use crate::domain::{CallbackData, Lang, Reply, UserInfo};
use crate::fault_log::Fault;
use sqlx::SqlitePool;
use std::sync::Arc;

/// What every service needs, shared by the adapter.
#[derive(Clone)]
pub struct Ctx {
    pub pool: SqlitePool,
    pub content: Arc<ContentStore>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Ring after committing outbox rows so the delivery worker sends them without delay.
    pub outbox: crate::doorbell::Doorbell,
    /// Ring after a change the scheduler should act on (registration, settings, `/reload`, a broadcast).
    pub scheduler: crate::doorbell::Doorbell,
    /// Repeating faults, logged once rather than per message.
    pub faults: Arc<crate::fault_log::FaultLog>,
    /// Inputs that arrive while others are being handled are handled together (group commit).
    pub handling: Arc<Batcher>,
    /// The sending budget replies and the outbox share (who sent how much, Telegram's 429s).
    pub send_budget: Arc<crate::send_budget::SendBudget>,
}

/// One input from a user in a private chat, parsed at the boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub user_id: i64,
    pub chat_id: i64,
    pub first_name: String,
    pub language_code: Option<String>,
    /// The user's message, when the input is one (a broadcast copies it).
    pub message_id: Option<i64>,
    pub kind: IncomingKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncomingKind {
    /// `/name args`, parsed (the bot's @username already removed).
    Command {
        command: Command,
        args: String,
    },
    /// A `/name` the bot does not know (lower-cased, without `@bot`).
    UnknownCommand(String),
    Text(String),
    /// A sticker, photo, voice message… named by kind.
    Media(String),
    /// An inline button was pressed (raw callback data).
    Button(String),
    /// The user edited an earlier message.
    Edited,
}

/// What to do in answer: messages to send, a short notice on the pressed button, and optionally a change
/// to the message whose button was pressed: a line appended (its buttons then removed), or its text and
/// buttons replaced (lists that are toggled in place).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub replies: Vec<Reply>,
    pub toast: Option<String>,
    pub mark_pressed: Option<String>,
    pub replace_pressed: Option<Reply>,
    /// Answers for the asker's private chat although the input came from a group (`/apua` in a group).
    pub private: Vec<Reply>,
    /// Sent to the input's chat instead when the private answers cannot be delivered (the person never
    /// started the bot).
    pub private_fallback: Vec<Reply>,
    /// Delete the user's message (their `/apua` in a group), if the bot may.
    pub delete_input: bool,
    /// The person's command menu changed (they registered, or chose a language): the adapter sets it for
    /// their chat.
    pub menu: Option<ChatMenu>,
}

/// A command menu for one private chat: (command, description) in the person's language. Set without a
/// language code, and also for each of `language_codes` (to outrank lists published per app language).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatMenu {
    pub commands: Vec<(String, String)>,
    pub language_codes: Vec<String>,
}

impl Response {
    fn push(&mut self, reply: Reply) {
        self.replies.push(reply);
    }
}

/// Everything a handler knows about the user once their record is loaded.
pub(crate) struct Turn<'a> {
    pub ctx: &'a Ctx,
    /// The content for this whole input (a `/reload` meanwhile does not mix versions).
    pub content: Arc<Content>,
    pub user: UserInfo,
    pub first_name: &'a str,
    pub state: Option<DialogueState>,
    /// The flow changed since the stored state was made (or it could not be read at all): the user is
    /// told once, and the moved state is saved.
    pub notify_flow_changed: bool,
    /// Set when this input queued outbox rows or changed what the scheduler plans; both are woken once the
    /// transaction has committed (a row they cannot see yet would otherwise wait for the next wake-up).
    wake: std::sync::atomic::AtomicBool,
    /// Content read by `/reload`, put in use once the transaction has committed.
    pub reloaded: Option<Content>,
}

impl Turn<'_> {
    pub fn lang(&self) -> Lang {
        self.user.language
    }

    pub fn text(&self, key: &str) -> String {
        self.content.text(self.lang(), key).to_string()
    }

    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        self.content.fill(self.lang(), key, values)
    }

    pub fn wake_after_commit(&self) {
        self.wake.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_coordinator(&self) -> bool {
        self.ctx.config.is_coordinator(self.user.telegram_user_id)
    }
}

/// The privacy notice with the retention periods of the settings and the programme's end filled in.
pub(crate) fn privacy_notice(turn: &Turn<'_>) -> String {
    let days = turn.ctx.config.personal_data_retention_days.to_string();
    let unfinished = turn.ctx.config.unfinished_retention_days.to_string();
    let ends = turn.content.programme_ends_text(turn.lang());
    turn.fill(
        "privacy.notice",
        &[
            ("retention_days", &days),
            ("unfinished_days", &unfinished),
            ("programme_ends", &ends),
        ],
    )
}

/// Handles one input. Never fails: a storage problem becomes a polite "could not save" answer (and one log
/// line when the problem begins, not one per message). Its answer is returned once its writes are committed.
pub async fn handle(ctx: &Ctx, incoming: &Incoming) -> Response {
    match batch::handle_with_others(ctx, incoming).await {
        Some(response) => response,
        None => handle_alone(ctx, incoming).await,
    }
}

/// Handles one input in a transaction of its own.
async fn handle_alone(ctx: &Ctx, incoming: &Incoming) -> Response {
    match handle_in_transaction(ctx, incoming).await {
        Ok(response) => {
            ctx.faults.recovered(Fault::Handling);
            response
        }
        Err(e) => refused(ctx, incoming, &e),
    }
}

/// The answer when an input could not be stored: "could not save, your earlier details are safe", in the
/// user's language; the problem is logged when it begins, not once per message.
fn refused(ctx: &Ctx, incoming: &Incoming, e: &DbError) -> Response {
    ctx.faults.error(
        Fault::Handling,
        format_args!(
            "user {}: could not handle {:?}: {e}",
            incoming.user_id,
            kind_name(&incoming.kind)
        ),
    );
    let lang = Lang::from_telegram(
        incoming.language_code.as_deref(),
        ctx.config.default_language,
    );
    Response {
        replies: vec![Reply::text(
            ctx.content.get().text(lang, "problem.save_failed"),
        )],
        ..Response::default()
    }
}

fn kind_name(kind: &IncomingKind) -> &str {
    match kind {
        IncomingKind::Command { command, .. } => command.name(),
        IncomingKind::UnknownCommand(_) => "unknown command",
        IncomingKind::Text(_) => "text",
        IncomingKind::Media(kind) => kind,
        IncomingKind::Button(_) => "button",
        IncomingKind::Edited => "edit",
    }
}

async fn handle_in_transaction(ctx: &Ctx, incoming: &Incoming) -> Result<Response, DbError> {
    let mut tx = db::begin_write(&ctx.pool).await?;
    let handled = handle_on(&mut tx, ctx, incoming).await?;
    tx.commit().await?;
    Ok(handled.after_commit(ctx))
}

/// What one input did inside a transaction that is not committed yet.
struct Handled {
    response: Response,
    /// Queued outbox rows or changed what the scheduler plans (see `Turn::wake_after_commit`).
    wake: bool,
    /// Content to put in use (`/reload`).
    reloaded: Option<Content>,
}

impl Handled {
    /// What is done once the input's transaction has committed; returns the answer.
    fn after_commit(self, ctx: &Ctx) -> Response {
        if let Some(content) = self.reloaded {
            ctx.content.replace(content);
        }
        if self.wake {
            ctx.outbox.wake();
            ctx.scheduler.wake();
        }
        self.response
    }
}

/// All reads and writes of one input, in the caller's write transaction.
async fn handle_on(tx: &mut Tx, ctx: &Ctx, incoming: &Incoming) -> Result<Handled, DbError> {
    let first_language = Lang::from_telegram(
        incoming.language_code.as_deref(),
        ctx.config.default_language,
    );
    let now = ctx.clock.now();
    let (user, dialogue) = db::users::touch_reading_dialogue(
        tx,
        incoming.user_id,
        incoming.chat_id,
        first_language,
        now,
    )
    .await?;
    let (state, notify_flow_changed) = match dialogue {
        Ok(state) => (state, false),
        Err(DbError::Corrupt(why)) => {
            log::warn!(
                "user {}: stored dialogue unreadable ({why}); restarting it",
                incoming.user_id
            );
            dialogues::delete(tx, incoming.user_id).await?;
            (None, true)
        }
        Err(e) => return Err(e),
    };
    let mut turn = Turn {
        ctx,
        content: ctx.content.get(),
        user,
        first_name: &incoming.first_name,
        state,
        notify_flow_changed,
        wake: Default::default(),
        reloaded: None,
    };
    let mut response = Response::default();
    match &incoming.kind {
        IncomingKind::Command { command, args } => {
            on_command(tx, &mut turn, *command, args, &mut response).await?
        }
        IncomingKind::UnknownCommand(name) => {
            let shown: String = name.chars().take(32).collect();
            response.push(Reply::text(turn.fill(
                "problem.unknown_command",
                &[("command", &format!("/{shown}"))],
            )));
            registration::remind(tx, &mut turn, &mut response).await?
        }
        IncomingKind::Button(raw) => on_button(tx, &mut turn, raw, &mut response).await?,
        IncomingKind::Text(_) | IncomingKind::Media(_)
            if turn.is_coordinator() && {
                let text = match &incoming.kind {
                    IncomingKind::Text(text) => Some(text.as_str()),
                    _ => None,
                };
                broadcast::on_message(
                    tx,
                    &mut turn,
                    incoming.chat_id,
                    incoming.message_id,
                    text,
                    &mut response,
                )
                .await?
            } => {}
        IncomingKind::Text(text)
            if surveys::on_text(tx, &mut turn, Some(text), &mut response).await? => {}
        IncomingKind::Media(_) if surveys::on_text(tx, &mut turn, None, &mut response).await? => {}
        // A survey's open text question comes first (the person tapped into it); then an open coaching
        // reflection.
        IncomingKind::Text(text)
            if turn.state.is_none()
                && journal::on_reflection(tx, &mut turn, text, &mut response).await? => {}
        IncomingKind::Text(text) => {
            registration::on_answer(
                tx,
                &mut turn,
                crate::domain::Input::Text(text.clone()),
                &mut response,
            )
            .await?
        }
        IncomingKind::Media(kind) => {
            registration::on_answer(
                tx,
                &mut turn,
                crate::domain::Input::Media(kind.clone()),
                &mut response,
            )
            .await?
        }
        IncomingKind::Edited => {
            response.push(Reply::text(turn.text("problem.edited")));
            registration::remind(tx, &mut turn, &mut response).await?;
        }
    }
    Ok(Handled {
        response,
        wake: turn.wake.load(std::sync::atomic::Ordering::Relaxed),
        reloaded: turn.reloaded.take(),
    })
}

async fn on_command(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    command: Command,
    args: &str,
    out: &mut Response,
) -> Result<(), DbError> {
    if command.access().who == Who::Coordinators && !turn.is_coordinator() {
        log::warn!(
            "refused coordinator command /{} from user {}",
            command.name(),
            turn.user.telegram_user_id
        );
        out.push(Reply::text(turn.text("coordinator.refused")));
        if command == Command::Admin {
            console::refused_in_chat(tx, turn).await?;
        }
        return registration::remind(tx, turn, out).await;
    }
    match command {
        Command::Start if args.trim() == help_now::START_PAYLOAD => {
            out.push(help_now::resources(&turn.content, turn.lang()));
            registration::remind(tx, turn, out).await
        }
        Command::Start => registration::on_start(tx, turn, args.trim(), out).await,
        Command::Apua | Command::HelpNow => {
            out.push(help_now::resources(&turn.content, turn.lang()));
            registration::remind(tx, turn, out).await
        }
        Command::Group => groups::my_group(tx, turn, out).await,
        Command::Rules => groups::my_rules(tx, turn, out).await,
        Command::Coaching => coaching::menu(tx, turn, out).await,
        Command::Journal => journal::show(tx, turn, 0, false, out).await,
        // Facilitators' commands work only in the linked group.
        Command::LinkGroup
        | Command::Prompt
        | Command::Skip
        | Command::Pause
        | Command::Resume
        | Command::Upcoming => {
            out.push(Reply::text(turn.text("groups.use_in_group")));
            registration::remind(tx, turn, out).await
        }
        Command::Help => {
            let mut help = menus::help(tx, turn).await?;
            if turn.is_coordinator() {
                help = format!("{help}\n\n{}", turn.text("help.coordinator"));
            }
            out.push(Reply::text(help));
            registration::remind(tx, turn, out).await
        }
        Command::Profile => profile::show(tx, turn, out).await,
        Command::Language => {
            out.push(account::language_question(turn));
            Ok(())
        }
        Command::Privacy => {
            profile::privacy(tx, turn, out).await?;
            registration::remind(tx, turn, out).await
        }
        Command::MyData => {
            profile::my_data(tx, turn, out).await?;
            registration::remind(tx, turn, out).await
        }
        Command::Forget => {
            out.push(account::forget_question(turn));
            Ok(())
        }
        Command::Cancel => account::cancel(tx, turn, out).await,
        Command::Next => programme::next(tx, turn, out).await,
        Command::Schedule => programme::schedule(tx, turn, out).await,
        Command::Reminders => programme::reminders_menu(tx, turn, out).await,
        Command::Leave => programme::leave_question(tx, turn, out).await,
        Command::Stats => coordinator::stats(tx, turn, out).await,
        Command::Attendance => attendance::command(tx, turn, args, out).await,
        Command::Broadcast => broadcast::start(tx, turn, out).await,
        Command::Broadcasts => broadcast::list(tx, turn, out).await,
        Command::CancelBroadcast => broadcast::cancel_menu(tx, turn, out).await,
        Command::Announcements => broadcast::announcements(tx, turn, None, out).await,
        Command::Certificate => programme::certificate(tx, turn, out).await,
        Command::Participants => coordinator::participants(tx, turn, out).await,
        Command::Reload => coordinator::reload(tx, turn, out).await,
        Command::Admin => console::admin(tx, turn, out).await,
        Command::Survey => surveys::start_round(tx, turn, out).await,
        Command::Results => surveys::results_menu(tx, turn, out).await,
        Command::Export => surveys::export_menu(tx, turn, out).await,
    }
}

async fn on_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    raw: &str,
    out: &mut Response,
) -> Result<(), DbError> {
    let Some(data) = CallbackData::decode(raw) else {
        out.toast = Some(turn.text("problem.button_expired"));
        return registration::remind(tx, turn, out).await;
    };
    if data.coordinators_only() && !turn.is_coordinator() {
        log::warn!(
            "refused a coordinator's button ({raw}) from user {}",
            turn.user.telegram_user_id
        );
        out.toast = Some(turn.text("coordinator.refused"));
        return Ok(());
    }
    match data {
        CallbackData::Answer { step, value } => {
            registration::on_answer(tx, turn, crate::domain::Input::Button { step, value }, out)
                .await
        }
        CallbackData::SetLanguage(lang) => account::set_language(tx, turn, lang, out).await,
        CallbackData::Edit { step } => profile::start_edit(tx, turn, &step, out).await,
        CallbackData::Forget { confirm } => account::forget(tx, turn, confirm, out).await,
        CallbackData::CheckIn { session } => programme::check_in(tx, turn, &session, out).await,
        CallbackData::Leave { series, confirm } => {
            programme::leave(tx, turn, &series, confirm, out).await
        }
        CallbackData::Reminders(choice) => programme::reminders_choice(tx, turn, choice, out).await,
        CallbackData::Attendance { session, user } => {
            attendance::toggle(tx, turn, &session, user, out).await
        }
        CallbackData::AttendanceCsv { session } => {
            attendance::export(tx, turn, &session, out).await
        }
        CallbackData::AttendanceSeries { series } => {
            attendance::pick_session(turn, &series, out);
            Ok(())
        }
        CallbackData::AttendanceList { session } => attendance::show(tx, turn, &session, out).await,
        CallbackData::Broadcast(action) => broadcast::on_button(tx, turn, action, out).await,
        CallbackData::Announcements(on) => broadcast::announcements(tx, turn, Some(on), out).await,
        CallbackData::Calendar { session } => {
            programme::calendar(tx, turn, Some(&session), None, out).await
        }
        CallbackData::CalendarAll { series } => {
            programme::calendar(tx, turn, None, Some(&series), out).await
        }
        CallbackData::Survey(action) if action.is_coordinators() => {
            surveys::on_coordinator_button(tx, turn, action, out).await
        }
        CallbackData::Survey(action) => surveys::on_answer_button(tx, turn, action, out).await,
        CallbackData::Offer { series, accept } => {
            waitlist::offer_answer(tx, turn, &series, accept, out).await
        }
        CallbackData::Coaching(action) => coaching::on_button(tx, turn, action, out).await,
        CallbackData::Journal(page) => journal::show(tx, turn, page, true, out).await,
    }
}
