//! Starts the real bot against the fake Telegram Bot API (real HTTP on 127.0.0.1, random port) and a
//! fresh SQLite file per test, and drives users through it.
use chrono::{DateTime, TimeZone, Utc};
use milava_bot::clock::{Clock, ManualClock};
use milava_bot::config::Config;
use milava_bot::db::outbox::{self, NewDelivery};
use milava_bot::delivery::Doorbell;
use milava_bot::fake_telegram::{FAKE_BOT_TOKEN, FakeTelegram, FakeUser, SentMessage};
use milava_bot::metrics::Metrics;
use milava_bot::services::Ctx;
use milava_bot::startup::App;
use serde_json::Value;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Generous upper bound for one step; tests finish in milliseconds unless something is broken.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

pub struct TestBot {
    pub fake: FakeTelegram,
    pub clock: ManualClock,
    pub db: SqlitePool,
    /// Holds the database file; removed when the test ends.
    _dir: tempfile::TempDir,
    settings: HashMap<String, String>,
    /// The delivery worker's limits run this many times faster (pair with `set_flood_limits_scaled`).
    delivery_speedup: f64,
    running: Option<Running>,
}

struct Running {
    metrics: Arc<Metrics>,
    outbox: Doorbell,
    /// The app's shared context (its scheduler doorbell, pool, content), to settle and to run passes directly.
    ctx: Ctx,
    /// The addresses the app's HTTP servers bound (the console's, with `console_settings`).
    listening: milava_bot::startup::Listening,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

pub fn dialogues_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialogues")
}

impl TestBot {
    pub async fn start() -> TestBot {
        Self::start_with(&[]).await
    }

    /// Starts with extra settings, e.g. `[("COORDINATOR_IDS", "900")]`.
    pub async fn start_with(extra: &[(&str, &str)]) -> TestBot {
        Self::start_sped_up(extra, 1.0).await
    }

    /// Like `start_with`, with the delivery worker's rate limits `speedup` times faster.
    pub async fn start_sped_up(extra: &[(&str, &str)], speedup: f64) -> TestBot {
        let _ = env_logger::builder().is_test(true).try_init();
        let fake = FakeTelegram::start().await.expect("fake Telegram starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}", dir.path().join("milava.db").display());
        let mut settings: HashMap<String, String> = [
            ("TELOXIDE_TOKEN", FAKE_BOT_TOKEN.to_string()),
            ("TELOXIDE_API_URL", fake.api_url().to_string()),
            ("DATABASE_URL", db_url),
            ("DIALOGUES_DIR", dialogues_dir().display().to_string()),
            // Tests send faster than people do, on a clock that stands still: the per-person budget is off
            // unless a test turns it on (tests/bot/flood.rs).
            ("FLOOD_BURST", "0".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in extra {
            settings.insert(k.to_string(), v.to_string());
        }
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 3, 12, 7, 0, 0).unwrap());
        let mut bot = TestBot {
            fake,
            clock,
            db: SqlitePool::connect_lazy("sqlite::memory:").expect("placeholder pool"),
            _dir: dir,
            settings,
            delivery_speedup: speedup,
            running: None,
        };
        bot.launch().await;
        // The settings' database, which `extra` may have moved elsewhere.
        bot.db = SqlitePool::connect(&bot.config().database_url)
            .await
            .expect("test pool on the bot's database");
        bot
    }

    /// Changes a setting for the next `restart` (or `start_again`).
    pub fn set(&mut self, key: &str, value: &str) {
        self.settings.insert(key.to_string(), value.to_string());
    }

    /// The registration step stored for `user`, if they are in a dialogue.
    pub async fn stored_step(&self, user: &FakeUser) -> Option<String> {
        sqlx::query_scalar("SELECT step FROM dialogues WHERE telegram_user_id = ?")
            .bind(user.id)
            .fetch_optional(&self.db)
            .await
            .unwrap()
    }

    pub fn config(&self) -> Config {
        Config::from_lookup(|k| self.settings.get(k).cloned()).expect("test settings are valid")
    }

    async fn launch(&mut self) {
        let mut app = App::build(self.config(), Arc::new(self.clock.clone()))
            .await
            .expect("app builds");
        app.polling_timeout = Duration::from_secs(5);
        app.delivery.limits = app.delivery.limits.sped_up(self.delivery_speedup);
        // A broadcast's progress is reported every 100 ms instead of 3 s, so its summary follows at once.
        app.progress_tick = Duration::from_millis(100);
        let metrics = app.ctx.metrics.clone();
        let outbox = app.ctx.outbox.clone();
        let ctx = app.ctx.clone();
        let listening = app.listening.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run(async move {
                let _ = stopped.await;
            })
            .await
            .expect("bot runs");
        });
        self.running = Some(Running {
            metrics,
            outbox,
            ctx,
            listening,
            stop,
            task,
        });
    }

    /// Stops the bot cleanly (as on SIGTERM) and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// Stops the bot cleanly (as on SIGTERM); `start_again` brings it back (the clock may move meanwhile).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            tokio::time::timeout(STEP_TIMEOUT, running.task)
                .await
                .expect("bot stops in time")
                .expect("bot task ends");
        }
    }

    /// Starts the bot again after `stop`, on the same database, settings and clock.
    pub async fn start_again(&mut self) {
        assert!(self.running.is_none(), "the bot is still running");
        self.launch().await;
    }

    /// Ends the bot abruptly, without any clean-up, and starts it again on the same database.
    pub async fn crash_and_restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.task.abort();
            let _ = running.task.await;
        }
        self.launch().await;
    }

    fn metrics(&self) -> &Metrics {
        &self.running.as_ref().expect("bot is running").metrics
    }

    /// The running app's context (to run a scheduler pass directly, or read its content).
    pub fn ctx(&self) -> Ctx {
        self.running.as_ref().expect("bot is running").ctx.clone()
    }

    /// The console's address (`http://127.0.0.1:<port>/`), once it listens (start with `console_settings`).
    pub async fn console_url(&self) -> String {
        let listening = &self.running.as_ref().expect("bot is running").listening;
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(addr) = listening.console.get() {
                return format!("http://{addr}/");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the console did not start listening (is ADMIN_ADDR set?)"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A link the bot sent (under `CONSOLE_PUBLIC_URL`) as the console's real address on this machine.
    pub async fn console_link(&self, sent: &str) -> String {
        let start = sent
            .find(CONSOLE_PUBLIC_URL)
            .unwrap_or_else(|| panic!("no console link in {sent:?}"));
        let path: String = sent[start + CONSOLE_PUBLIC_URL.len()..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        format!("{}{path}", self.console_url().await)
    }

    /// Waits until the scheduler has made a pass after everything so far (it is rung, so it looks at the
    /// clock as it is now) and the outbox has nothing due left unsent.
    pub async fn settle(&self) {
        let ctx = self.ctx();
        ctx.scheduler.wake();
        assert!(
            ctx.scheduler.settled(STEP_TIMEOUT).await,
            "the scheduler did not finish a pass in time"
        );
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        let mut changed = self.fake.subscribe();
        loop {
            let due = milava_bot::db::stats::outbox_due_count(&self.db, self.clock.now())
                .await
                .expect("outbox readable");
            if due == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{due} due deliveries still unsent at {}",
                self.clock.now()
            );
            // A send shows up at the fake at once; the worker records its outcome a moment later.
            let _ = tokio::time::timeout(Duration::from_millis(20), changed.recv()).await;
        }
    }

    /// Moves the clock forward to `target`, stopping at every moment something is due in the outbox or the
    /// scheduler wants to run, and settling there. Returns each message the bot created meanwhile with the
    /// clock's time when it reached the fake.
    pub async fn advance_to(&self, target: DateTime<Utc>) -> Vec<Arrival> {
        self.advance_from(self.sent_count(), target).await
    }

    /// How many messages the bot has created so far (to pass to `advance_from`).
    pub fn sent_count(&self) -> usize {
        self.fake.sent_messages().len()
    }

    /// Like `advance_to`, also returning the messages created since the `sent_count()` taken earlier (say,
    /// before a restart whose first pass sends at once), stamped with the clock's time now.
    pub async fn advance_from(&self, since: usize, target: DateTime<Utc>) -> Vec<Arrival> {
        let mut arrivals = Vec::new();
        let mut seen = since;
        self.settle().await;
        loop {
            let now = self.clock.now();
            self.collect_arrivals(&mut seen, now, &mut arrivals);
            let outbox = milava_bot::db::stats::outbox_next_due(&self.db)
                .await
                .expect("outbox readable");
            let next = [outbox, self.metrics().scheduler_next_run()]
                .into_iter()
                .flatten()
                .filter(|t| *t > now && *t <= target)
                .min();
            self.clock.set(next.unwrap_or(target));
            self.settle().await;
            if next.is_none() {
                let now = self.clock.now();
                self.collect_arrivals(&mut seen, now, &mut arrivals);
                return arrivals;
            }
        }
    }

    fn collect_arrivals(&self, seen: &mut usize, at: DateTime<Utc>, into: &mut Vec<Arrival>) {
        let sent = self.fake.sent_messages();
        into.extend(sent[*seen..].iter().map(|message| Arrival {
            at,
            message: message.clone(),
        }));
        *seen = sent.len();
    }

    /// Puts messages in the outbox (one transaction, as a producer would) and wakes the delivery worker;
    /// returns how many were new.
    pub async fn enqueue(&self, deliveries: &[NewDelivery]) -> usize {
        let mut tx = milava_bot::db::begin_write(&self.db).await.expect("begin");
        let mut added = 0;
        for d in deliveries {
            if outbox::enqueue(&mut tx, d).await.expect("enqueue") {
                added += 1;
            }
        }
        tx.commit().await.expect("commit");
        self.outbox().wake();
        added
    }

    /// The running app's outbox signal.
    pub fn outbox(&self) -> Doorbell {
        self.running
            .as_ref()
            .expect("bot is running")
            .outbox
            .clone()
    }

    /// Pushes an update and waits until the bot has handled it; returns what it sent to `chat` meanwhile.
    pub async fn exchange(&self, chat: i64, push: impl FnOnce(&FakeTelegram)) -> Vec<SentMessage> {
        let before = self.fake.sent_to(chat).len();
        let target = self.metrics().handled() + 1;
        push(&self.fake);
        assert!(
            self.metrics().wait_handled(target, STEP_TIMEOUT).await,
            "the bot did not handle the update in time"
        );
        self.fake.sent_to(chat).into_iter().skip(before).collect()
    }

    /// Every user sends their text at the same moment (one poll of updates); waits until all are handled and
    /// returns what each was sent meanwhile, in the order given.
    pub async fn send_all_at_once(&self, messages: &[(&FakeUser, &str)]) -> Vec<Vec<SentMessage>> {
        let before: Vec<usize> = messages
            .iter()
            .map(|(user, _)| self.fake.sent_to(user.id).len())
            .collect();
        let target = self.metrics().handled() + messages.len() as u64;
        for (user, text) in messages {
            self.fake.send_private_text(user, text);
        }
        assert!(
            self.metrics().wait_handled(target, STEP_TIMEOUT).await,
            "the bot did not handle the updates in time"
        );
        messages
            .iter()
            .zip(before)
            .map(|((user, _), before)| {
                self.fake
                    .sent_to(user.id)
                    .into_iter()
                    .skip(before)
                    .collect()
            })
            .collect()
    }

    pub async fn send(&self, user: &FakeUser, text: &str) -> Vec<SentMessage> {
        self.exchange(user.id, |f| {
            f.send_private_text(user, text);
        })
        .await
    }

    /// Like `send`, also returning the id of the user's message (to edit it later).
    pub async fn send_with_id(&self, user: &FakeUser, text: &str) -> (i64, Vec<SentMessage>) {
        let mut id = 0;
        let replies = self
            .exchange(user.id, |f| {
                id = f.send_private_text(user, text);
            })
            .await;
        (id, replies)
    }

    pub async fn send_message(&self, user: &FakeUser, fields: Value) -> Vec<SentMessage> {
        self.exchange(user.id, |f| {
            f.send_private_message(user, fields);
        })
        .await
    }

    pub async fn edit(&self, user: &FakeUser, message_id: i64, text: &str) -> Vec<SentMessage> {
        self.exchange(user.id, |f| f.edit_private_text(user, message_id, text))
            .await
    }

    /// Presses the button labelled `label` on the newest message in the user's chat that has one.
    pub async fn press(&self, user: &FakeUser, label: &str) -> Vec<SentMessage> {
        let (message_id, data) = self
            .fake
            .sent_to(user.id)
            .iter()
            .rev()
            .find_map(|m| m.button_data(label).map(|d| (m.message_id, d)))
            .unwrap_or_else(|| {
                panic!(
                    "no button '{label}' in chat {}: {:#?}",
                    user.id,
                    self.texts_to(user)
                )
            });
        self.press_data(user, message_id, &data).await
    }

    pub async fn press_data(
        &self,
        user: &FakeUser,
        message_id: i64,
        data: &str,
    ) -> Vec<SentMessage> {
        self.exchange(user.id, |f| {
            f.press_button(user, message_id, data);
        })
        .await
    }

    pub fn texts_to(&self, user: &FakeUser) -> Vec<String> {
        self.fake
            .sent_to(user.id)
            .iter()
            .map(|m| m.text.clone().unwrap_or_default())
            .collect()
    }

    pub async fn count(&self, sql: &str, id: i64) -> i64 {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&self.db)
            .await
            .expect("count query")
    }
}

/// The console's public address in tests: the bot's links start with it, `console_link` maps them to the
/// console's real port.
pub const CONSOLE_PUBLIC_URL: &str = "http://console.test/";

/// Settings that turn the console on (any free port) with coordinator 900.
pub fn console_settings() -> [(&'static str, &'static str); 3] {
    [
        ("ADMIN_ADDR", "127.0.0.1:0"),
        ("ADMIN_PUBLIC_URL", CONSOLE_PUBLIC_URL),
        ("COORDINATOR_IDS", "900"),
    ]
}

/// A message the bot created, and the (manual) clock's time when it reached the fake.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub at: DateTime<Utc>,
    pub message: SentMessage,
}

/// All texts of a batch of replies, joined, for `contains` checks.
pub fn joined(messages: &[SentMessage]) -> String {
    messages
        .iter()
        .filter_map(|m| m.text.clone())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Labels of all buttons in a batch of replies.
pub fn labels(messages: &[SentMessage]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|m| m.inline_buttons())
        .flatten()
        .map(|(label, _)| label)
        .collect()
}
