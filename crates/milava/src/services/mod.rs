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
mod conversation;
mod coordinator;
mod csv;
mod effects;
pub mod flood;
pub mod groups;
mod help_now;
mod journal;
pub mod labels;
mod menus;
pub mod people;
pub(crate) mod present;
pub(crate) mod profile;
pub(crate) mod programme;
mod registration;
pub(crate) mod render;
pub mod retention;
pub mod roster;
pub mod season;
mod season_export;
pub(crate) mod surveys;
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
use conversation::Conversation;
use effects::{Effects, FollowUp};
use std::sync::Arc;

/// What every service needs, shared by the adapter.
#[derive(Clone)]
pub struct Ctx {
    /// The database (`read()` for reads; writes only through `write()`, which takes the turn).
    pub pool: crate::db::Db,
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

impl Ctx {
    /// A context on `pool` with fresh doorbells, metrics, fault log, batcher and send budget: what the app
    /// starts with (`startup::App`), and what a tool that runs a scheduler pass without the app needs.
    pub fn new(pool: db::Db, content: Content, clock: Arc<dyn Clock>, config: Config) -> Ctx {
        Ctx {
            pool,
            content: Arc::new(ContentStore::new(content)),
            clock,
            config: Arc::new(config),
            metrics: Default::default(),
            outbox: Default::default(),
            scheduler: Default::default(),
            faults: Default::default(),
            handling: Default::default(),
            send_budget: Default::default(),
        }
    }
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

/// Everything a handler knows about the user once their record is loaded.
/// Handlers get the input's write transaction beside it, never the pool: a read through the pool would not
/// see what this transaction (and, in a group commit, earlier inputs of the same batch) has written.
pub(crate) struct Turn<'a> {
    /// The settings (time zone, retention, coordinators…).
    pub config: &'a Config,
    /// The moment this input is handled (read once from the injected clock).
    pub now: chrono::DateTime<chrono::Utc>,
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
        self.config.is_coordinator(self.user.telegram_user_id)
    }

    /// `at` in the bot's time zone, in the user's language (see `present`).
    pub fn local_time(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        present::local_time(self.tz(), self.lang(), at)
    }

    /// The bot's time zone (`BOT_TIMEZONE`).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.config.timezone
    }
}

/// The privacy notice with the retention periods of the settings and the programme's end filled in.
pub(crate) fn privacy_notice(turn: &Turn<'_>) -> String {
    let days = turn.config.personal_data_retention_days.to_string();
    let unfinished = turn.config.unfinished_retention_days.to_string();
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
            ctx.content.put_in_use(content);
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
        config: &ctx.config,
        now,
        content: ctx.content.get(),
        user,
        first_name: &incoming.first_name,
        state,
        notify_flow_changed,
        wake: Default::default(),
        reloaded: None,
    };
    let effects = match &incoming.kind {
        IncomingKind::Command { command, args } => {
            on_command(tx, &mut turn, *command, args).await?
        }
        IncomingKind::UnknownCommand(name) => {
            let shown: String = name.chars().take(32).collect();
            Effects::text(turn.fill(
                "problem.unknown_command",
                &[("command", &format!("/{shown}"))],
            ))
            .ask_again()
        }
        IncomingKind::Button(raw) => on_button(tx, &mut turn, raw).await?,
        IncomingKind::Text(_) | IncomingKind::Media(_) => {
            let conversation = Conversation::load(tx, &turn, incoming.message_id).await?;
            on_message(tx, &mut turn, incoming, conversation).await?
        }
        IncomingKind::Edited => Effects::text(turn.text("problem.edited")).ask_again(),
    };
    let response = carry_out(tx, &mut turn, effects).await?;
    Ok(Handled {
        response,
        wake: turn.wake.load(std::sync::atomic::Ordering::Relaxed),
        reloaded: turn.reloaded.take(),
    })
}

/// A text or media message, routed on what the person is in the middle of.
async fn on_message(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    incoming: &Incoming,
    conversation: Conversation,
) -> Result<Effects, DbError> {
    use crate::domain::Input;
    let text = match &incoming.kind {
        IncomingKind::Text(text) => Some(text.as_str()),
        _ => None,
    };
    match (conversation, &incoming.kind) {
        (Conversation::ComposingBroadcast(draft, step), _) => {
            let (chat, message) = (incoming.chat_id, incoming.message_id);
            broadcast::on_message(tx, turn, (draft, step), chat, message, text).await
        }
        (Conversation::AnsweringSurvey(invitation), _) => {
            surveys::on_text(tx, turn, invitation, text).await
        }
        (Conversation::WritingReflection(coaching), IncomingKind::Text(text)) => {
            journal::on_reflection(tx, turn, coaching, text).await
        }
        // A registration or profile edit takes its answer; with no dialogue, registration says what to do.
        (
            Conversation::Registering
            | Conversation::EditingField
            | Conversation::WritingReflection(_)
            | Conversation::Idle,
            kind,
        ) => {
            let input = match kind {
                IncomingKind::Media(kind) => Input::Media(kind.clone()),
                _ => Input::Text(text.unwrap_or_default().to_string()),
            };
            registration::on_answer(tx, turn, input).await
        }
    }
}

/// What the dispatcher does after every handler: asks the pending question again if the handler says so,
/// then runs the follow-ups of a registration or a profile change (asking again can itself finish a
/// registration whose flow changed, so the follow-ups come after it), and gives the adapter its `Response`.
async fn carry_out(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    mut effects: Effects,
) -> Result<Response, DbError> {
    if std::mem::take(&mut effects.ask_again) {
        effects.extend(registration::remind(tx, turn).await?);
    }
    for follow_up in std::mem::take(&mut effects.follow_ups) {
        effects.extend(follow(tx, turn, follow_up).await?);
    }
    Ok(effects.into_response())
}

async fn follow(tx: &mut Tx, turn: &mut Turn<'_>, follow_up: FollowUp) -> Result<Effects, DbError> {
    match follow_up {
        FollowUp::Registered(participant) => {
            let mut effects = Effects {
                menu: Some(menus::menu(tx, turn).await?),
                ..Effects::default()
            };
            effects.extend(groups::after_registration(tx, turn, &participant).await?);
            effects.extend(coaching::after_registration(turn, &participant));
            Ok(effects)
        }
        FollowUp::InterestChanged(field, participant) => {
            let area_changed = field == crate::domain::Field::Area;
            let mut effects = groups::after_profile_change(tx, turn, area_changed).await?;
            if field == crate::domain::Field::Wants {
                effects.extend(coaching::after_profile_change(tx, turn, &participant).await?);
            }
            Ok(effects)
        }
    }
}

async fn on_command(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    command: Command,
    args: &str,
) -> Result<Effects, DbError> {
    if command.access().who == Who::Coordinators && !turn.is_coordinator() {
        log::warn!(
            "refused coordinator command /{} from user {}",
            command.name(),
            turn.user.telegram_user_id
        );
        if command == Command::Admin {
            console::refused_in_chat(tx, turn).await?;
        }
        return Ok(Effects::text(turn.text("coordinator.refused")).ask_again());
    }
    match command {
        Command::Start if args.trim() == help_now::START_PAYLOAD => {
            Ok(Effects::reply(help_now::resources(&turn.content, turn.lang())).ask_again())
        }
        Command::Start => registration::on_start(tx, turn, args.trim()).await,
        Command::Apua | Command::HelpNow => {
            Ok(Effects::reply(help_now::resources(&turn.content, turn.lang())).ask_again())
        }
        Command::Group => groups::my_group(tx, turn).await,
        Command::Rules => groups::my_rules(tx, turn).await,
        Command::Coaching => coaching::menu(tx, turn).await,
        Command::Journal => journal::show(tx, turn, 0, false).await,
        // Facilitators' commands work only in the linked group.
        Command::LinkGroup
        | Command::Prompt
        | Command::Skip
        | Command::Pause
        | Command::Resume
        | Command::Upcoming => Ok(Effects::text(turn.text("groups.use_in_group")).ask_again()),
        Command::Help => {
            let mut help = menus::help(tx, turn).await?;
            if turn.is_coordinator() {
                help = format!("{help}\n\n{}", turn.text("help.coordinator"));
            }
            Ok(Effects::text(help).ask_again())
        }
        Command::Profile => profile::show(tx, turn).await,
        Command::Language => Ok(Effects::reply(account::language_question(turn))),
        Command::Privacy => Ok(profile::privacy(tx, turn).await?.ask_again()),
        Command::MyData => Ok(profile::my_data(tx, turn).await?.ask_again()),
        Command::Forget => Ok(Effects::reply(account::forget_question(turn))),
        Command::Cancel => account::cancel(tx, turn).await,
        Command::Next => programme::next(tx, turn).await,
        Command::Schedule => programme::schedule(tx, turn).await,
        Command::Reminders => programme::reminders_menu(tx, turn).await,
        Command::Leave => programme::leave_question(tx, turn).await,
        Command::Stats => coordinator::stats(tx, turn).await,
        Command::Attendance => attendance::command(tx, turn, args).await,
        Command::Broadcast => broadcast::start(tx, turn).await,
        Command::Broadcasts => broadcast::list(tx, turn).await,
        Command::CancelBroadcast => broadcast::cancel_menu(tx, turn).await,
        Command::Announcements => broadcast::announcements(tx, turn, None).await,
        Command::Certificate => programme::certificate(tx, turn).await,
        Command::Participants => coordinator::participants(tx, turn).await,
        Command::Reload => coordinator::reload(tx, turn).await,
        Command::Admin => console::admin(tx, turn).await,
        Command::Survey => surveys::start_round(tx, turn).await,
        Command::Results => surveys::results_menu(tx, turn).await,
        Command::Export => surveys::export_menu(tx, turn).await,
    }
}

async fn on_button(tx: &mut Tx, turn: &mut Turn<'_>, raw: &str) -> Result<Effects, DbError> {
    let Some(data) = CallbackData::decode(raw) else {
        return Ok(Effects::toast(turn.text("problem.button_expired")).ask_again());
    };
    if data.coordinators_only() && !turn.is_coordinator() {
        log::warn!(
            "refused a coordinator's button ({raw}) from user {}",
            turn.user.telegram_user_id
        );
        return Ok(Effects::toast(turn.text("coordinator.refused")));
    }
    match data {
        CallbackData::Answer { step, value } => {
            registration::on_answer(tx, turn, crate::domain::Input::Button { step, value }).await
        }
        CallbackData::SetLanguage(lang) => account::set_language(tx, turn, lang).await,
        CallbackData::Edit { step } => profile::start_edit(tx, turn, &step).await,
        CallbackData::Forget { confirm } => account::forget(tx, turn, confirm).await,
        CallbackData::CheckIn { session } => programme::check_in(tx, turn, &session).await,
        CallbackData::Leave { series, confirm } => {
            programme::leave(tx, turn, &series, confirm).await
        }
        CallbackData::Reminders(choice) => programme::reminders_choice(tx, turn, choice).await,
        CallbackData::Attendance { session, user } => {
            attendance::toggle(tx, turn, &session, user).await
        }
        CallbackData::AttendanceCsv { session } => attendance::export(tx, turn, &session).await,
        CallbackData::AttendanceSeries { series } => Ok(attendance::pick_session(turn, &series)),
        CallbackData::AttendanceList { session } => attendance::show(tx, turn, &session).await,
        CallbackData::Broadcast(action) => broadcast::on_button(tx, turn, action).await,
        CallbackData::Announcements(on) => broadcast::announcements(tx, turn, Some(on)).await,
        CallbackData::Calendar { session } => {
            programme::calendar(tx, turn, Some(&session), None).await
        }
        CallbackData::CalendarAll { series } => {
            programme::calendar(tx, turn, None, Some(&series)).await
        }
        CallbackData::Survey(action) if action.is_coordinators() => {
            surveys::on_coordinator_button(tx, turn, action).await
        }
        CallbackData::Survey(action) => surveys::on_answer_button(tx, turn, action).await,
        CallbackData::Offer { series, accept } => {
            waitlist::offer_answer(tx, turn, &series, accept).await
        }
        CallbackData::Coaching(action) => coaching::on_button(tx, turn, action).await,
        CallbackData::Journal(page) => journal::show(tx, turn, page, true).await,
    }
}
