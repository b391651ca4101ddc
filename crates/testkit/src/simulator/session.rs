//! One simulator session: the fake Bot API, the real app on a manual clock, and the simulated people.
use super::input::{self, HELP, Line};
use super::output::{Output, Style};
use super::{Options, SIM_COORDINATOR_ID, SimError};
use crate::bot::{Builder, SimulatedBot};
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use fake_telegram::{FakeEvent, FakeGroup, FakeTelegram, FakeUser, SentKind, SentMessage};
use milava_bot::clock::{Clock, ManualClock};
use milava_bot::config::Config;
use milava_bot::db;
use milava_bot::metrics::Metrics;
use serde_json::json;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// How long to wait for the bot to answer one input before saying so.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Session {
    fake: FakeTelegram,
    clock: ManualClock,
    tz: Tz,
    metrics: Arc<Metrics>,
    scheduler: milava_bot::doorbell::Doorbell,
    pool: milava_bot::db::Db,
    events: broadcast::Receiver<FakeEvent>,
    out: Output,
    users: Vec<FakeUser>,
    current: usize,
    group: Option<FakeGroup>,
    /// Every group chat entered so far, to name them when the bot posts there later.
    groups: Vec<FakeGroup>,
    /// Text of each message the bot sent, to show edits as what changed.
    texts: HashMap<(i64, i64), String>,
    last_own_message: HashMap<i64, i64>,
    files_dir: PathBuf,
    /// The simulated bot the session drives (the fields above are its parts, at hand).
    bot: SimulatedBot,
}

impl Session {
    pub async fn start(
        mut config: Config,
        options: &Options,
        scripted: bool,
    ) -> Result<Session, SimError> {
        // Scripts type faster than people, on a clock that stands still: no per-person budget here.
        config.flood_burst = 0;
        let tz = config.timezone;
        let content = milava_bot::content::load(&config.dialogues_dir)
            .map_err(milava_bot::startup::StartupError::from)?;
        let start_local = options.start.unwrap_or_else(|| default_start(&content));
        let mut builder = Builder::from_config(config)
            .content(content)
            .start_at(to_utc(tz, start_local))
            .polling_timeout(Duration::from_secs(10))
            .coordinator(SIM_COORDINATOR_ID)
            .database_file("simulator.db");
        if let Some(path) = &options.database {
            builder = builder.database(format!("sqlite://{}", path.display()));
        }
        let bot = builder.start().await?;
        let fake = bot.fake.clone();
        let clock = bot.clock.clone();
        let ctx = bot.ctx();
        let metrics = ctx.metrics.clone();
        let scheduler = ctx.scheduler.clone();
        let pool = ctx.pool.clone();
        let events = fake.subscribe();
        let out = if scripted {
            Output::scripted()
        } else {
            Output::interactive(std::io::stdout().is_terminal())
        };
        let mut session = Session {
            fake,
            clock,
            tz,
            metrics,
            scheduler,
            pool,
            events,
            out,
            users: vec![FakeUser::new(1001, "Matti", Some("fi"))],
            current: 0,
            group: None,
            groups: Vec::new(),
            texts: HashMap::new(),
            last_own_message: HashMap::new(),
            files_dir: options.files_dir.clone(),
            bot,
        };
        // Wait until the bot is polling, so its start-up requests are not mixed into the first answer.
        let ready = session.fake.clone();
        ready
            .wait_until("the bot to start polling", ANSWER_TIMEOUT, |f| {
                !f.requests_to("getUpdates").is_empty()
            })
            .await;
        session.drain_events();
        if !scripted {
            session.out.line(Style::System, "milava-bot simulator — the real bot, a fake Telegram and a clock you control. :help lists commands.");
        }
        let now = session.local_now();
        let user = session.users[0].first_name.clone();
        session.out.line(
            Style::System,
            &format!("Clock: {now}. You are {user} (fi). Try /start."),
        );
        Ok(session)
    }

    pub async fn run_script(&mut self, script: &str) -> Result<(), SimError> {
        for raw in script.lines() {
            if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
                continue;
            }
            let prompt = self.prompt();
            self.out
                .line(Style::Input, &format!("{prompt}{}", raw.trim()));
            if !self.handle_line(raw).await {
                break;
            }
        }
        Ok(())
    }

    pub async fn run_interactive(&mut self) -> Result<(), SimError> {
        let mut editor =
            rustyline::DefaultEditor::new().map_err(|e| SimError::Editor(e.to_string()))?;
        loop {
            let prompt = self.prompt();
            let (returned, line) = tokio::task::spawn_blocking(move || {
                let line = editor.readline(&prompt);
                (editor, line)
            })
            .await
            .map_err(|e| SimError::Editor(e.to_string()))?;
            editor = returned;
            match line {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    if !self.handle_line(&line).await {
                        return Ok(());
                    }
                }
                Err(
                    rustyline::error::ReadlineError::Interrupted
                    | rustyline::error::ReadlineError::Eof,
                ) => return Ok(()),
                Err(e) => return Err(SimError::Editor(e.to_string())),
            }
        }
    }

    /// Stops the bot cleanly and returns the transcript (empty in interactive mode).
    pub async fn finish(&mut self) -> String {
        if let Err(e) = self.bot.try_stop(Duration::from_secs(10)).await {
            log::error!("simulated bot: {e}");
        }
        self.out.take_transcript()
    }

    fn prompt(&self) -> String {
        let user = &self.users[self.current].first_name;
        match &self.group {
            Some(group) => format!("{user}@{}> ", group.title),
            None => format!("{user}> "),
        }
    }

    fn user(&self) -> FakeUser {
        self.users[self.current].clone()
    }

    fn chat_id(&self) -> i64 {
        self.group
            .as_ref()
            .map(|g| g.id)
            .unwrap_or(self.users[self.current].id)
    }

    /// Handles one line; false means quit.
    async fn handle_line(&mut self, raw: &str) -> bool {
        let line = match input::parse(raw) {
            Ok(line) => line,
            Err(bad) => {
                self.out.line(Style::Error, &bad.0);
                return true;
            }
        };
        match line {
            Line::Blank => {}
            Line::Quit => return false,
            Line::Help => {
                for help_line in HELP.lines() {
                    self.out.line(Style::System, help_line);
                }
            }
            Line::Say(text) => self.say(&text).await,
            Line::Edit(text) => self.edit(&text).await,
            Line::Media(kind) => self.media(kind).await,
            Line::PressNumber(n) => self.press_number(n).await,
            Line::Press(label) => self.press_label(&label).await,
            Line::User { name, lang } => self.switch_user(&name, lang.as_deref()),
            Line::Coordinator => self.switch_to_coordinator(),
            Line::Group(name) => self.enter_group(&name),
            Line::Advance(by) => {
                let target = self.clock.now() + by;
                self.advance_to(target).await;
            }
            Line::Until(local) => {
                let target = to_utc(self.tz, local);
                if target < self.clock.now() {
                    let now = self.local_now();
                    self.out.line(
                        Style::Error,
                        &format!(
                            "{} is in the past (it is now {now}); the clock only moves forward",
                            fmt_local(self.tz, target)
                        ),
                    );
                } else {
                    self.advance_to(target).await;
                }
            }
            Line::Now => {
                let now = self.local_now();
                self.out
                    .line(Style::System, &format!("It is {now} ({}).", self.tz));
            }
            Line::Due => self.show_due().await,
            Line::Db => self.show_db().await,
        }
        true
    }

    async fn exchange(&mut self, push: impl FnOnce(&FakeTelegram, &FakeUser, Option<&FakeGroup>)) {
        let target = self.metrics.handled() + 1;
        let user = self.user();
        push(&self.fake, &user, self.group.as_ref());
        if !self.metrics.wait_handled(target, ANSWER_TIMEOUT).await {
            self.out.line(
                Style::Error,
                &format!(
                    "(the bot did not answer within {} s)",
                    ANSWER_TIMEOUT.as_secs()
                ),
            );
        }
        self.settle().await;
    }

    async fn say(&mut self, text: &str) {
        let mut sent_id = 0;
        self.exchange(|fake, user, group| {
            sent_id = match group {
                Some(group) => fake.send_group_text(group, user, text),
                None => fake.send_private_text(user, text),
            };
        })
        .await;
        self.last_own_message.insert(self.chat_id(), sent_id);
    }

    async fn edit(&mut self, text: &str) {
        let Some(message_id) = self
            .last_own_message
            .get(&self.chat_id())
            .copied()
            .filter(|_| self.group.is_none())
        else {
            self.out.line(
                Style::Error,
                "there is no message of yours in this private chat to edit",
            );
            return;
        };
        self.exchange(|fake, user, _| fake.edit_private_text(user, message_id, text))
            .await;
    }

    async fn media(&mut self, kind: &'static str) {
        let fields = match kind {
            "sticker" => {
                json!({"sticker": {"file_id": "sim-sticker", "file_unique_id": "sim-sticker", "type": "regular",
                "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍"}})
            }
            _ => {
                json!({"photo": [{"file_id": "sim-photo", "file_unique_id": "sim-photo", "width": 640, "height": 480, "file_size": 20480}]})
            }
        };
        self.exchange(|fake, user, group| {
            match group {
                Some(group) => fake.send_group_message(group, user, fields),
                None => fake.send_private_message(user, fields),
            };
        })
        .await;
    }

    /// The newest bot message in the current chat that has buttons.
    fn newest_with_buttons(&self) -> Option<SentMessage> {
        self.fake
            .sent_to(self.chat_id())
            .into_iter()
            .rev()
            .find(|m| !m.inline_buttons().is_empty())
    }

    async fn press_number(&mut self, n: usize) {
        let Some(message) = self.newest_with_buttons() else {
            self.out.line(
                Style::Error,
                &format!("there is no button {n}: no message in this chat has buttons"),
            );
            return;
        };
        let buttons: Vec<(String, String)> =
            message.inline_buttons().into_iter().flatten().collect();
        match n.checked_sub(1).and_then(|i| buttons.get(i)) {
            Some((label, data)) => self.press(&message, label, data).await,
            None => self.out.line(
                Style::Error,
                &format!(
                    "there is no button {n} (the newest message has buttons 1–{})",
                    buttons.len()
                ),
            ),
        }
    }

    async fn press_label(&mut self, label: &str) {
        let found = self
            .fake
            .sent_to(self.chat_id())
            .into_iter()
            .rev()
            .find_map(|m| {
                let data = m
                    .inline_buttons()
                    .into_iter()
                    .flatten()
                    .find(|(l, _)| l.eq_ignore_ascii_case(label))?
                    .1;
                Some((m, data))
            });
        match found {
            Some((message, data)) => self.press(&message, label, &data).await,
            None => self.out.line(
                Style::Error,
                &format!("no button labelled '{label}' in this chat"),
            ),
        }
    }

    async fn press(&mut self, message: &SentMessage, label: &str, data: &str) {
        if data.starts_with("http://") || data.starts_with("https://") {
            self.out.line(
                Style::System,
                &format!("(the button '{label}' opens {data})"),
            );
            return;
        }
        let chat = self.chat_id();
        self.exchange(|fake, user, _| {
            fake.press_button_in(chat, user, message.message_id, data);
        })
        .await;
    }

    fn switch_user(&mut self, name: &str, lang: Option<&str>) {
        self.group = None;
        if let Some(index) = self
            .users
            .iter()
            .position(|u| u.first_name.eq_ignore_ascii_case(name))
        {
            self.current = index;
            if lang.is_some() {
                self.out.line(
                    Style::System,
                    &format!(
                        "{name} already exists; their language is chosen in the bot with /language"
                    ),
                );
            }
            return;
        }
        let id = 1001 + self.users.len() as i64;
        let lang = lang.unwrap_or("fi");
        self.users.push(FakeUser::new(id, name, Some(lang)));
        self.current = self.users.len() - 1;
        self.out.line(
            Style::System,
            &format!("You are now {name} (Telegram id {id}, app language {lang})."),
        );
    }

    fn switch_to_coordinator(&mut self) {
        self.group = None;
        if let Some(index) = self.users.iter().position(|u| u.id == SIM_COORDINATOR_ID) {
            self.current = index;
        } else {
            self.users.push(FakeUser::new(
                SIM_COORDINATOR_ID,
                "Koordinaattori",
                Some("fi"),
            ));
            self.current = self.users.len() - 1;
        }
        self.out.line(Style::System, &format!("You are now the coordinator (Telegram id {SIM_COORDINATOR_ID}). Try /stats or /participants."));
    }

    fn enter_group(&mut self, name: &str) {
        let id = -1_000_000_000_000 - name.bytes().map(i64::from).sum::<i64>();
        let group = FakeGroup::new(id, name);
        self.fake.add_group(&group);
        if !self.groups.contains(&group) {
            self.groups.push(group.clone());
            // Whoever opens a group chat first created it, so administers it (what /linkgroup asks).
            self.fake.set_chat_member(
                id,
                self.users[self.current].id,
                serde_json::json!({"status": "creator", "is_anonymous": false}),
            );
        }
        self.out.line(
            Style::System,
            &format!(
                "You are {} in the group chat '{name}' ({id}). :user NAME leaves it.",
                self.users[self.current].first_name
            ),
        );
        self.group = Some(group);
    }

    /// Moves the clock to `target`, stopping at each moment something is due or the scheduler acts, so
    /// everything is shown at the local time it happens.
    async fn advance_to(&mut self, target: DateTime<Utc>) {
        loop {
            let now = self.clock.now();
            let outbox = match db::stats::outbox_next_due(&self.pool).await {
                Ok(next) => next,
                Err(e) => {
                    self.out
                        .line(Style::Error, &format!("cannot read the outbox: {e}"));
                    None
                }
            };
            let next = [outbox, self.metrics.scheduler_next_run()]
                .into_iter()
                .flatten()
                .filter(|t| *t > now && *t <= target)
                .min();
            self.clock.set(next.unwrap_or(target));
            // Moving the clock wakes the scheduler through its sleep; ringing makes "settled" mean it has looked.
            self.scheduler.wake();
            self.settle().await;
            if next.is_none() {
                break;
            }
        }
        let now = self.local_now();
        self.out.line(Style::System, &format!("Clock: {now}."));
    }

    /// Waits until the scheduler has acted on everything so far and nothing due is left unsent, then shows
    /// what was sent.
    async fn settle(&mut self) {
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        if !self.scheduler.settled(ANSWER_TIMEOUT).await {
            self.out
                .line(Style::Error, "(the scheduler did not finish within 30 s)");
        }
        let mut changed = self.fake.subscribe();
        loop {
            match db::stats::outbox_due_count(&self.pool, self.clock.now()).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                self.out
                    .line(Style::Error, "(deliveries still pending after 30 s)");
                break;
            }
            // A send shows up at the fake at once; its outcome is recorded by the worker a moment later.
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(20), changed.recv()).await;
        }
        self.drain_events();
    }

    async fn show_due(&mut self) {
        match db::stats::outbox_upcoming(&self.pool, 10).await {
            Ok(rows) if rows.is_empty() => self.out.line(Style::System, "Nothing is scheduled."),
            Ok(rows) => {
                for (due, chat, what) in rows {
                    let who = self.chat_name(chat);
                    let what: String = what
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .chars()
                        .take(70)
                        .collect();
                    self.out.line(
                        Style::System,
                        &format!("{} → {who}: {what}", fmt_local(self.tz, due)),
                    );
                }
            }
            Err(e) => self
                .out
                .line(Style::Error, &format!("cannot read the outbox: {e}")),
        }
    }

    async fn show_db(&mut self) {
        match db::stats::summary(&self.pool).await {
            Ok(s) => {
                let roles: Vec<String> = s
                    .participants_by_role
                    .iter()
                    .map(|(r, n)| format!("{r} {n}"))
                    .collect();
                let steps: Vec<String> = s
                    .dialogues_by_step
                    .iter()
                    .map(|(st, n)| format!("{st} {n}"))
                    .collect();
                self.out.line(Style::System, &format!("users: {}", s.users));
                self.out.line(
                    Style::System,
                    &format!(
                        "participants: {}",
                        if roles.is_empty() {
                            "none".into()
                        } else {
                            roles.join(", ")
                        }
                    ),
                );
                self.out.line(
                    Style::System,
                    &format!(
                        "dialogues in progress: {}",
                        if steps.is_empty() {
                            "none".into()
                        } else {
                            steps.join(", ")
                        }
                    ),
                );
                for (status, n) in &s.deliveries_by_status {
                    self.out
                        .line(Style::System, &format!("deliveries {status}: {n}"));
                }
                self.out.line(
                    Style::System,
                    &format!("audit log entries: {}", s.audit_entries),
                );
            }
            Err(e) => self
                .out
                .line(Style::Error, &format!("cannot read the database: {e}")),
        }
    }

    fn chat_name(&self, chat: i64) -> String {
        if let Some(user) = self.users.iter().find(|u| u.id == chat) {
            return user.first_name.clone();
        }
        if let Some(group) = self.groups.iter().find(|g| g.id == chat) {
            return group.title.clone();
        }
        format!("chat {chat}")
    }

    fn local_now(&self) -> String {
        fmt_local(self.tz, self.clock.now())
    }

    /// Prints every event the fake has seen since the last call, in order.
    fn drain_events(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(FakeEvent::MessageSent(message)) => self.show_sent(&message),
                Ok(FakeEvent::MessageEdited(message)) => self.show_edit(&message),
                Ok(FakeEvent::CallbackAnswered {
                    text: Some(text), ..
                }) => self
                    .out
                    .line(Style::Bot, &format!("  (notice on the button: {text})")),
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(n)) => self
                    .out
                    .line(Style::System, &format!("({n} events not shown)")),
                Err(_) => return,
            }
        }
    }

    fn show_sent(&mut self, message: &SentMessage) {
        let who = self.chat_name(message.chat_id);
        let now = self.local_now();
        self.out.line(Style::Bot, &format!("bot → {who} · {now}"));
        if let SentKind::Copy {
            from_chat_id,
            message_id,
        } = &message.kind
        {
            self.out.line(
                Style::Bot,
                &format!("  (a copy of message {message_id} from chat {from_chat_id})"),
            );
        }
        if let Some(document) = &message.document {
            let path = self.save_document(&document.file_name, &document.bytes);
            // A photo shows in the chat; a document is a file to open.
            let icon = if matches!(message.kind, SentKind::Photo) {
                "🖼"
            } else {
                "📎"
            };
            self.out.line(
                Style::Bot,
                &format!(
                    "  {icon} {} ({} bytes) saved to {path}",
                    document.file_name,
                    document.bytes.len()
                ),
            );
        }
        let text = message.text.clone().unwrap_or_default();
        for line in text.lines() {
            self.out.line(Style::Bot, &format!("  {line}"));
        }
        self.texts
            .insert((message.chat_id, message.message_id), text);
        self.show_buttons(message);
    }

    fn show_buttons(&mut self, message: &SentMessage) {
        let mut number = 0;
        for row in message.inline_buttons() {
            let cells: Vec<String> = row
                .iter()
                .map(|(label, _)| {
                    number += 1;
                    format!("[{number}] {label}")
                })
                .collect();
            self.out
                .line(Style::Button, &format!("  {}", cells.join("  ")));
        }
        if let Some(keyboard) = message.reply_keyboard() {
            for row in keyboard {
                self.out
                    .line(Style::Button, &format!("  keyboard: {}", row.join(" | ")));
            }
        }
    }

    fn show_edit(&mut self, message: &SentMessage) {
        let text = message.text.clone().unwrap_or_default();
        let old = self
            .texts
            .insert((message.chat_id, message.message_id), text.clone())
            .unwrap_or_default();
        let shown = match text.strip_prefix(old.as_str()) {
            Some(added) if !old.is_empty() => added.trim().to_string(),
            _ => text,
        };
        for line in shown.lines().filter(|l| !l.trim().is_empty()) {
            self.out.line(Style::Bot, &format!("  (edited) {line}"));
        }
        self.show_buttons(message);
    }

    fn save_document(&self, name: &str, bytes: &[u8]) -> String {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // Owner-only new files: a document the simulator already saved (or a link someone put there) is kept,
        // and this one gets a numbered name beside it.
        if let Err(e) = milava_bot::files::create_private_dir(&self.files_dir) {
            return format!("(not saved: {e})");
        }
        let (stem, extension) = match safe.rsplit_once('.') {
            Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
            _ => (safe.as_str(), String::new()),
        };
        for n in 1..1000 {
            let name = if n == 1 {
                safe.clone()
            } else {
                format!("{stem}-{n}{extension}")
            };
            let path = self.files_dir.join(name);
            match milava_bot::files::write_new_private(&path, bytes) {
                Ok(()) => return path.display().to_string(),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return format!("(not saved: {e})"),
            }
        }
        "(not saved: too many files of this name)".to_string()
    }
}

/// 9.00 local time on the day before the programme's first session, so the whole series can be walked.
fn default_start(content: &milava_bot::content::Content) -> NaiveDateTime {
    let first = content.series.iter().filter_map(|s| s.first_start()).min();
    match first
        .and_then(|f| f.date().pred_opt())
        .and_then(|d| d.and_hms_opt(9, 0, 0))
    {
        Some(start) => start,
        None => Utc::now().naive_utc(),
    }
}

fn to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    milava_bot::domain::time::local_to_utc(tz, local)
}

fn fmt_local(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz)
        .format("%a %-d.%-m.%Y %H:%M")
        .to_string()
}
