//! Starts the real bot against the fake Telegram Bot API (real HTTP on 127.0.0.1, random port) and a
//! fresh SQLite file per test, and drives users through it.
use chrono::{TimeZone, Utc};
use milava_bot::clock::ManualClock;
use milava_bot::config::Config;
use milava_bot::db::outbox::{self, NewDelivery};
use milava_bot::delivery::Doorbell;
use milava_bot::fake_telegram::{FAKE_BOT_TOKEN, FakeTelegram, FakeUser, SentMessage};
use milava_bot::metrics::Metrics;
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
            ("DATABASE_URL", db_url.clone()),
            ("DIALOGUES_DIR", dialogues_dir().display().to_string()),
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
        bot.db = SqlitePool::connect(&db_url)
            .await
            .expect("test pool on the bot's database");
        bot
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
        let metrics = app.ctx.metrics.clone();
        let outbox = app.ctx.outbox.clone();
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
            stop,
            task,
        });
    }

    /// Stops the bot cleanly (as on SIGTERM) and starts it again on the same database.
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            tokio::time::timeout(STEP_TIMEOUT, running.task)
                .await
                .expect("bot stops in time")
                .expect("bot task ends");
        }
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
    async fn exchange(&self, chat: i64, push: impl FnOnce(&FakeTelegram)) -> Vec<SentMessage> {
        let before = self.fake.sent_to(chat).len();
        let target = self.metrics().handled() + 1;
        push(&self.fake);
        assert!(
            self.metrics().wait_handled(target, STEP_TIMEOUT).await,
            "the bot did not handle the update in time"
        );
        self.fake.sent_to(chat).into_iter().skip(before).collect()
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
