//! The simulated bot: the fake Telegram Bot API (real HTTP on 127.0.0.1, a random port), a temporary SQLite
//! database, a manual clock and the real app (`startup::App`) — the one start-up that the integration tests,
//! the terminal simulator and the benchmarks share. [`SimulatedBot::builder`] starts from test settings on the
//! fixture content; [`Builder::from_config`] from a config the caller made (the simulator's and benchmarks'
//! environment). `drive.rs` has what a test does with a running bot (send, press, move the clock).
mod drive;

pub use drive::{Arrival, joined, labels};

use crate::content::fixture_dir;
use chrono::{DateTime, TimeZone, Utc};
use fake_telegram::{FAKE_BOT_TOKEN, FakeTelegram};
use milava_bot::clock::{Clock, ManualClock, SystemClock};
use milava_bot::config::Config;
use milava_bot::content::Content;
use milava_bot::delivery::Doorbell;
use milava_bot::metrics::Metrics;
use milava_bot::services::Ctx;
use milava_bot::startup::{App, Intake, Listening, StartupError};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Generous upper bound for one step; tests finish in milliseconds unless something is broken.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where the tests' clock starts unless told otherwise: Tue 12.3.2024 09:00 in Helsinki, a week before the
/// fixture programme's first session.
pub fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 12, 7, 0, 0).unwrap()
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("settings: {0}")]
    Settings(#[from] milava_bot::config::ConfigError),
}

enum Base {
    /// Settings as the environment would give them, over the tests' defaults.
    Settings(HashMap<String, String>),
    /// A config made by the caller, taken as it is.
    Config(Box<Config>),
}

/// How to start a [`SimulatedBot`].
pub struct Builder {
    base: Base,
    database: Option<String>,
    database_file: &'static str,
    content: Option<Content>,
    start: Option<DateTime<Utc>>,
    delivery_speedup: f64,
    progress_tick: Option<Duration>,
    polling_timeout: Duration,
    intake: Intake,
    coordinators: Vec<i64>,
}

impl Builder {
    /// A bot for a test: the fixture content, the per-person budget off (tests send faster than people do,
    /// on a clock that stands still; `FLOOD_BURST` turns it on), the clock at [`default_start`].
    fn for_tests() -> Builder {
        let settings = [
            ("DIALOGUES_DIR", fixture_dir().display().to_string()),
            ("FLOOD_BURST", "0".to_string()),
        ];
        Builder::new(Base::Settings(
            settings
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ))
    }

    /// A bot on `config` as the caller made it (token, API address and database are the simulated bot's).
    pub fn from_config(config: Config) -> Builder {
        Builder::new(Base::Config(Box::new(config)))
    }

    fn new(base: Base) -> Builder {
        Builder {
            base,
            database: None,
            database_file: "milava.db",
            content: None,
            start: Some(default_start()),
            delivery_speedup: 1.0,
            progress_tick: None,
            polling_timeout: Duration::from_secs(5),
            intake: Intake::Polling,
            coordinators: Vec::new(),
        }
    }

    /// One setting as the environment would give it (`COORDINATOR_IDS`, `DIALOGUES_DIR`, `DATABASE_URL` …).
    /// Only over the tests' defaults: a builder `from_config` takes its config as it is.
    pub fn setting(mut self, key: &str, value: &str) -> Builder {
        match &mut self.base {
            Base::Settings(settings) => {
                settings.insert(key.to_string(), value.to_string());
            }
            Base::Config(_) => panic!("setting {key}: this builder starts from a config"),
        }
        self
    }

    pub fn settings(self, extra: &[(&str, &str)]) -> Builder {
        extra.iter().fold(self, |b, (k, v)| b.setting(k, v))
    }

    /// The database at `url` instead of a fresh file in a temporary directory.
    pub fn database(mut self, url: impl Into<String>) -> Builder {
        self.database = Some(url.into());
        self
    }

    /// The temporary database's file name (what a benchmark's or the simulator's files are called).
    pub fn database_file(mut self, name: &'static str) -> Builder {
        self.database_file = name;
        self
    }

    /// Content already loaded (and perhaps changed) instead of the content of `DIALOGUES_DIR`; used again at
    /// each restart.
    pub fn content(mut self, content: Content) -> Builder {
        self.content = Some(content);
        self
    }

    /// The manual clock starts at `at` (default: [`default_start`]).
    pub fn start_at(mut self, at: DateTime<Utc>) -> Builder {
        self.start = Some(at);
        self
    }

    /// The app reads the real clock (a benchmark); `SimulatedBot::clock` then stands at the start and is
    /// not the app's.
    pub fn system_clock(mut self) -> Builder {
        self.start = None;
        self
    }

    /// The delivery worker's rate limits run `factor` times faster (pair with the fake's scaled limits).
    pub fn delivery_speedup(mut self, factor: f64) -> Builder {
        self.delivery_speedup = factor;
        self
    }

    /// How often a running broadcast's progress is reported (default: the app's).
    pub fn progress_tick(mut self, tick: Duration) -> Builder {
        self.progress_tick = Some(tick);
        self
    }

    /// The long poll's timeout (default 5 s).
    pub fn polling_timeout(mut self, timeout: Duration) -> Builder {
        self.polling_timeout = timeout;
        self
    }

    /// How updates come in (default: long polling; `Intake::Webhook` with `WEBHOOK_LISTEN` set).
    pub fn intake(mut self, intake: Intake) -> Builder {
        self.intake = intake;
        self
    }

    /// One more coordinator (added to `COORDINATOR_IDS`).
    pub fn coordinator(mut self, id: i64) -> Builder {
        self.coordinators.push(id);
        self
    }

    /// Starts the fake Bot API and the bot on it.
    pub async fn start(self) -> Result<SimulatedBot, StartError> {
        let fake = FakeTelegram::start()
            .await
            .map_err(|source| StartError::Io {
                what: "starting the fake Bot API",
                source,
            })?;
        self.start_on(fake).await
    }

    /// Starts the bot on a fake Bot API the caller has already set up (flood limits, request log).
    pub async fn start_on(self, fake: FakeTelegram) -> Result<SimulatedBot, StartError> {
        let (database_url, dir) = match self.database {
            Some(url) => (url, None),
            None => {
                let dir = tempfile::tempdir().map_err(|source| StartError::Io {
                    what: "creating a temporary database",
                    source,
                })?;
                let url = format!("sqlite://{}", dir.path().join(self.database_file).display());
                (url, Some(dir))
            }
        };
        let mut config = match self.base {
            Base::Settings(settings) => Config::from_lookup(|k| settings.get(k).cloned())?,
            Base::Config(config) => *config,
        };
        config.token = Some(FAKE_BOT_TOKEN.to_string());
        config.api_url = Some(fake.api_url());
        config.database_url = database_url;
        config.coordinator_ids.extend(self.coordinators);
        let clock = ManualClock::new(self.start.unwrap_or_else(|| SystemClock.now()));
        let app_clock: Arc<dyn Clock> = match self.start {
            Some(_) => Arc::new(clock.clone()),
            None => Arc::new(SystemClock),
        };
        let mut bot = SimulatedBot {
            fake,
            clock,
            db: SqlitePool::connect_lazy("sqlite::memory:").expect("placeholder pool"),
            store: None,
            _dir: dir,
            launch: Launch {
                config,
                content: self.content,
                clock: app_clock,
                delivery_speedup: self.delivery_speedup,
                progress_tick: self.progress_tick,
                polling_timeout: self.polling_timeout,
                intake: self.intake,
            },
            running: None,
        };
        bot.try_launch().await?;
        // The pool of the test (it outlives restarts), once the app has made the database.
        bot.db = SqlitePool::connect(&bot.launch.config.database_url)
            .await
            .map_err(|e| StartupError::from(milava_bot::db::DbError::from(e)))?;
        bot.store = Some(
            milava_bot::db::connect(&bot.launch.config.database_url)
                .await
                .map_err(StartupError::from)?,
        );
        Ok(bot)
    }
}

/// What each (re)start of the app is made of.
struct Launch {
    config: Config,
    content: Option<Content>,
    clock: Arc<dyn Clock>,
    delivery_speedup: f64,
    progress_tick: Option<Duration>,
    polling_timeout: Duration,
    intake: Intake,
}

pub struct SimulatedBot {
    pub fake: FakeTelegram,
    /// The clock the app runs on (unless built with `system_clock`); the caller moves it.
    pub clock: ManualClock,
    /// A pool of the caller's own on the bot's database.
    pub db: SqlitePool,
    /// The same database through the bot's own handle, for calling `milava_bot::db` functions that write.
    store: Option<milava_bot::db::Db>,
    /// Holds the temporary database file; removed when the bot is dropped.
    _dir: Option<tempfile::TempDir>,
    launch: Launch,
    running: Option<Running>,
}

struct Running {
    metrics: Arc<Metrics>,
    outbox: Doorbell,
    /// The app's shared context (its scheduler doorbell, pool, content), to settle and to run passes directly.
    ctx: Ctx,
    listening: Listening,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), StartupError>>,
}

impl SimulatedBot {
    pub fn builder() -> Builder {
        let _ = env_logger::builder().is_test(true).try_init();
        Builder::for_tests()
    }

    /// A bot for a test, on the fixture content, with the clock at [`default_start`].
    pub async fn start() -> SimulatedBot {
        Self::start_with(&[]).await
    }

    /// Starts with extra settings, e.g. `[("COORDINATOR_IDS", "900")]`.
    pub async fn start_with(extra: &[(&str, &str)]) -> SimulatedBot {
        Self::start_sped_up(extra, 1.0).await
    }

    /// Like `start_with`, with the delivery worker's rate limits `speedup` times faster. A broadcast's progress
    /// is reported every 100 ms instead of 3 s, so its summary follows at once.
    pub async fn start_sped_up(extra: &[(&str, &str)], speedup: f64) -> SimulatedBot {
        let mut builder = Self::builder()
            .settings(extra)
            .delivery_speedup(speedup)
            .progress_tick(Duration::from_millis(100));
        if let Some((_, url)) = extra.iter().find(|(k, _)| *k == "DATABASE_URL") {
            builder = builder.database(*url);
        }
        builder.start().await.expect("the simulated bot starts")
    }

    /// The settings the bot runs with.
    pub fn config(&self) -> Config {
        self.launch.config.clone()
    }

    /// The bot's database handle (writes take the bot's write turn).
    pub fn store(&self) -> &milava_bot::db::Db {
        self.store.as_ref().expect("started")
    }

    /// Changes who the coordinators are, from the next `restart` (or `start_again`) on.
    pub fn set_coordinators(&mut self, ids: &[i64]) {
        self.launch.config.coordinator_ids = ids.iter().copied().collect();
    }

    /// The console's address (`http://127.0.0.1:<port>/`), once it listens (start with `console_settings`).
    pub async fn console_url(&self) -> String {
        let listening = self.listening();
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

    async fn try_launch(&mut self) -> Result<(), StartupError> {
        let launch = &self.launch;
        let mut app = match &launch.content {
            Some(content) => {
                App::build_with_content(
                    launch.config.clone(),
                    Arc::new(content.clone()),
                    launch.clock.clone(),
                )
                .await?
            }
            None => App::build(launch.config.clone(), launch.clock.clone()).await?,
        };
        app.polling_timeout = launch.polling_timeout;
        app.intake = launch.intake.clone();
        app.delivery.limits = app.delivery.limits.sped_up(launch.delivery_speedup);
        if let Some(tick) = launch.progress_tick {
            app.progress_tick = tick;
        }
        let metrics = app.ctx.metrics.clone();
        let outbox = app.ctx.outbox.clone();
        let ctx = app.ctx.clone();
        let listening = app.listening.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run(async move {
            let _ = stopped.await;
        }));
        self.running = Some(Running {
            metrics,
            outbox,
            ctx,
            listening,
            stop,
            task,
        });
        Ok(())
    }

    async fn launch(&mut self) {
        self.try_launch().await.expect("app builds");
    }

    /// Stops the bot cleanly (as on SIGTERM) and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// Stops the bot cleanly (as on SIGTERM); `start_again` brings it back (the clock may move meanwhile).
    pub async fn stop(&mut self) {
        self.try_stop(STEP_TIMEOUT).await.expect("the bot stops");
    }

    /// Stops the bot cleanly, waiting at most `timeout`; says why if it ended otherwise.
    pub async fn try_stop(&mut self, timeout: Duration) -> Result<(), String> {
        let Some(running) = self.running.take() else {
            return Ok(());
        };
        let _ = running.stop.send(());
        match tokio::time::timeout(timeout, running.task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("the bot stopped with an error: {e}")),
            Ok(Err(e)) => Err(format!("the bot ended abnormally: {e}")),
            Err(_) => Err(format!("the bot did not stop in {} s", timeout.as_secs())),
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

    fn running(&self) -> &Running {
        self.running.as_ref().expect("bot is running")
    }

    /// The running app's metrics (updates handled, the scheduler's next run).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.running().metrics.clone()
    }

    /// The running app's context (to run a scheduler pass directly, or read its content).
    pub fn ctx(&self) -> Ctx {
        self.running().ctx.clone()
    }

    /// The running app's outbox signal.
    pub fn outbox(&self) -> Doorbell {
        self.running().outbox.clone()
    }

    /// The addresses the running app's HTTP servers bound (webhook, health).
    pub fn listening(&self) -> Listening {
        self.running().listening.clone()
    }

    /// The directory of the content the bot reads (`DIALOGUES_DIR`).
    pub fn dialogues_dir(&self) -> PathBuf {
        self.launch.config.dialogues_dir.clone()
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

/// An outbox key for a test's own message: any name, stored as a coaching step's key (the worker never
/// looks at what a key names).
pub fn test_key(name: &str) -> milava_bot::domain::outbox::OutboxKey {
    milava_bot::domain::outbox::OutboxKey::Coaching {
        user: 0,
        step: name.into(),
    }
}
