//! Builds the application (content, database, bot, dispatcher) so that `run`, the simulator and the
//! tests all start the same thing.
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::content::{self, Content, ContentError};
use crate::db::{self, DbError};
use crate::delivery;
use crate::fault_log::{Fault, FaultLog};
use crate::services::Ctx;
use crate::telegram;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::ShutdownToken;
use teloxide::error_handlers::ErrorHandler;
use teloxide::prelude::*;
use teloxide::update_listeners::Polling;

/// Updates are handled in this many lanes, a chat always in the same one, so one chat's updates stay in order.
/// teloxide's default is a worker per chat; with a thousand people writing at once those thousand workers and
/// their queues held 82–93 MiB (bench interactive, saturation) against 38 MiB with 64 lanes.
pub(crate) const HANDLING_LANES: i64 = 64;

/// The lane of a chat: its id modulo `HANDLING_LANES` (never negative; group chats' ids are).
pub(crate) fn handling_lane(chat: ChatId) -> i64 {
    chat.0.rem_euclid(HANDLING_LANES)
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Content(#[from] ContentError),
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("cannot reach Telegram: {0}")]
    Telegram(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// How updates arrive: the bot asks Telegram (long polling, the default), or Telegram posts them to a public
/// https URL that a reverse proxy forwards to `WEBHOOK_LISTEN`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Intake {
    #[default]
    Polling,
    Webhook {
        public_url: url::Url,
    },
}

/// The addresses the app's HTTP servers actually bound (a setting may ask for port 0).
#[derive(Clone, Debug, Default)]
pub struct Listening {
    pub webhook: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    pub health: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    /// The coordinators' web console (`ADMIN_ADDR`).
    pub console: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
}

/// Everything the bot needs, ready to run.
pub struct App {
    pub ctx: Ctx,
    pub bot: Bot,
    /// Long-polling timeout for getUpdates.
    pub polling_timeout: Duration,
    /// How the outbox's delivery worker runs (from the config; tests may speed its limits up).
    pub delivery: delivery::Settings,
    /// How often a running broadcast's status message is updated (`scheduler::progress::TICK`; tests
    /// shorten it so that a finished broadcast's summary follows at once).
    pub progress_tick: Duration,
    pub intake: Intake,
    pub listening: Listening,
}

impl App {
    /// Loads and validates content, opens the database (applying migrations) and creates the bot client.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<App, StartupError> {
        let content = content::load(&config.dialogues_dir)?;
        Self::build_with_content(config, Arc::new(content), clock).await
    }

    pub async fn build_with_content(
        config: Config,
        content: Arc<Content>,
        clock: Arc<dyn Clock>,
    ) -> Result<App, StartupError> {
        let token = config.require_token()?.to_string();
        let pool = db::connect(&config.database_url).await?;
        let mut bot = telegram_bot(&token, config.telegram_timeout)?;
        if let Some(url) = &config.api_url {
            bot = bot.set_api_url(url.clone());
        }
        // The programme lives in the database: seed what it has never seen, then use what it holds.
        let mut tx = db::begin_write(&pool).await?;
        let content = crate::services::season::with_stored_programme(
            &mut tx,
            Arc::unwrap_or_clone(content),
            clock.now(),
        )
        .await??;
        tx.commit().await.map_err(DbError::from)?;
        let ctx = Ctx::new(pool, content, clock, config);
        crate::services::groups::seed_facilitators(&ctx.pool, &ctx.content.get(), ctx.clock.now())
            .await?;
        Ok(App {
            delivery: delivery::Settings::from_config(&ctx.config),
            ctx,
            bot,
            polling_timeout: Duration::from_secs(25),
            progress_tick: crate::scheduler::progress::TICK,
            intake: Intake::Polling,
            listening: Listening::default(),
        })
    }

    /// Runs until `shutdown` completes (or Ctrl-C / SIGTERM via the caller), then stops polling cleanly,
    /// confirming the updates already handled so they are not delivered again.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let token = self.ctx.config.token.clone().unwrap_or_default();
        let redact = |e: teloxide::RequestError| delivery::request_error_text(&e, &token);
        let me = self
            .bot
            .get_me()
            .await
            .map_err(|e| StartupError::Telegram(redact(e)))?;
        // The bot's own account, not a person's.
        let bot_account = me.username();
        log::info!("connected as @{bot_account}");
        let delivery = delivery::spawn(
            self.ctx.pool.clone(),
            self.bot.clone(),
            self.ctx.clock.clone(),
            self.ctx.outbox.clone(),
            self.delivery.clone(),
            self.ctx.faults.clone(),
            self.ctx.send_budget.clone(),
        );
        let scheduler = crate::scheduler::spawn(self.ctx.clone(), self.progress_tick);
        let coordinators: Vec<i64> = self.ctx.config.coordinator_ids.iter().copied().collect();
        if let Err(e) = telegram::publish_commands(
            &self.bot,
            &self.ctx.content.get(),
            self.ctx.config.default_language,
            &coordinators,
        )
        .await
        {
            log::warn!("command menus not published: {}", redact(e));
        }
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        if let Some(addr) = self.ctx.config.health_addr {
            let listener = bind(addr, &self.listening.health).await?;
            let mut stopped = stopped.clone();
            tokio::spawn(crate::health::serve(
                listener,
                self.ctx.pool.clone(),
                self.bot.clone(),
                self.ctx.clock.clone(),
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            ));
        }
        if let Some(addr) = self.ctx.config.admin_addr {
            let listener = bind(addr, &self.listening.console).await?;
            let mut stopped = stopped.clone();
            tokio::spawn(crate::console::serve(
                listener,
                self.ctx.clone(),
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            ));
        }
        // Every update passes the gate (per-person budget, lane room) before it is queued in a lane.
        let gate = telegram::intake::Gate::new(self.ctx.clone(), self.bot.clone());
        let mut dispatcher = Dispatcher::builder(self.bot.clone(), telegram::schema())
            .dependencies(dptree::deps![self.ctx.clone(), gate.clone()])
            .default_handler(|_| async {})
            .distribution_function(|update: &Update| update.chat().map(|c| handling_lane(c.id)))
            .worker_queue_size(telegram::intake::LANE_QUEUE)
            .build();
        spawn_shutdown(dispatcher.shutdown_token(), shutdown);
        let errors = Arc::new(IntakeErrors {
            faults: self.ctx.faults.clone(),
            token: self.bot.token().to_string(),
        });
        let dispatched = match &self.intake {
            Intake::Polling => {
                // teloxide does not lengthen a long poll's request timeout by the poll's own waiting time
                // (teloxide-core 0.13 leaves it commented out), so polls get a client of their own.
                let polling_bot = telegram_bot(
                    self.bot.token(),
                    self.ctx.config.telegram_timeout + self.polling_timeout,
                )?
                .set_api_url(self.bot.api_url());
                let listener = Polling::builder(polling_bot)
                    .timeout(self.polling_timeout)
                    .allowed_updates(telegram::ALLOWED_UPDATES.to_vec())
                    .delete_webhook()
                    .await
                    .build();
                let listener = telegram::intake::Gated::new(listener, gate);
                dispatcher
                    .try_dispatch_with_listener(listener, errors)
                    .await
                    .map_err(|e| StartupError::Telegram(redact(e)))
            }
            Intake::Webhook { public_url } => {
                let listener = crate::telegram::webhook::listen(
                    &self.bot,
                    &self.ctx.config,
                    public_url,
                    &self.listening,
                    self.ctx.faults.clone(),
                )
                .await?;
                let listener = telegram::intake::Gated::new(listener, gate);
                dispatcher
                    .try_dispatch_with_listener(listener, errors)
                    .await
                    .map_err(|e| StartupError::Telegram(redact(e)))
            }
        };
        let _ = stopping.send(true);
        scheduler.stop().await;
        delivery.stop().await;
        dispatched?;
        self.ctx.pool.close().await;
        log::info!("stopped");
        Ok(())
    }
}

/// Errors of the update intake (a poll that failed, Telegram unreachable): logged once while they last, and
/// without the token.
struct IntakeErrors {
    faults: Arc<FaultLog>,
    token: String,
}

impl<E: std::fmt::Debug> ErrorHandler<E> for IntakeErrors {
    fn handle_error(
        self: Arc<Self>,
        error: E,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        // Without the token, and without updates quoted in it (a getUpdates answer teloxide could not read).
        let detail = crate::log_privacy::without_update_content(
            format!("{error:?}").replace(&self.token, "<token>"),
        );
        self.faults.error(Fault::Intake, detail);
        Box::pin(async {})
    }
}

/// A Bot API client whose requests give up after `timeout` (teloxide's other HTTP defaults kept).
fn telegram_bot(token: &str, timeout: Duration) -> Result<Bot, StartupError> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(timeout)
        .build()
        .map_err(|e| StartupError::Telegram(format!("cannot set up the HTTP client: {e}")))?;
    Ok(Bot::with_client(token, client))
}

/// Binds `addr` and records the address actually bound.
pub(crate) async fn bind(
    addr: std::net::SocketAddr,
    bound: &std::sync::OnceLock<std::net::SocketAddr>,
) -> Result<tokio::net::TcpListener, StartupError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Listen { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    let _ = bound.set(local);
    log::info!("listening on {local}");
    Ok(listener)
}

fn spawn_shutdown(token: ShutdownToken, shutdown: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(async move {
        shutdown.await;
        // The dispatcher may still be starting; retry until it accepts the request.
        loop {
            match token.shutdown() {
                Ok(done) => {
                    done.await;
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    });
}

/// The async runtime the binary runs on: tokio's multi-thread scheduler with one worker fewer than the cores
/// (at least one), unless `TOKIO_WORKER_THREADS` says how many. The thread that calls `block_on` is busy
/// too: it runs the intake (the long poll or the webhook's queue, and the dispatcher that hands each update
/// to its lane). With a worker per core there were more busy threads than cores, and they spent the
/// difference waking, stealing from and waiting for each other: `bench interactive` at saturation on two
/// cores used 3.35 s of the bot's CPU with two workers and 2.61 s with one (docs/performance.md).
pub fn async_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(async_workers(cores()));
    }
    builder.enable_all().build()
}

/// The cores this process may use (1 when the system cannot say).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Tokio's workers on a machine of `cores` cores: the intake's thread takes one.
fn async_workers(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    log::warn!("cannot listen for SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    log::info!("shutting down");
}

#[cfg(test)]
mod runtime_tests {
    use super::{async_runtime, async_workers, cores};

    #[test]
    fn the_intake_thread_and_the_workers_together_are_as_many_as_the_cores() {
        assert_eq!(async_workers(1), 1);
        assert_eq!(async_workers(2), 1);
        assert_eq!(async_workers(8), 7);
        let runtime = async_runtime().expect("a runtime");
        let expected = match std::env::var("TOKIO_WORKER_THREADS") {
            Ok(set) => set.parse().expect("TOKIO_WORKER_THREADS is a number"),
            Err(_) => async_workers(cores()),
        };
        assert_eq!(runtime.metrics().num_workers(), expected);
    }
}

#[cfg(test)]
mod lane_tests {
    use super::{HANDLING_LANES, handling_lane};
    use teloxide::types::ChatId;

    #[test]
    fn every_chat_has_one_lane_in_range() {
        for id in [
            0,
            1,
            63,
            64,
            3_000_001,
            -1,
            -100_123_456_789,
            i64::MIN,
            i64::MAX,
        ] {
            let lane = handling_lane(ChatId(id));
            assert!((0..HANDLING_LANES).contains(&lane), "{id} -> {lane}");
            assert_eq!(lane, handling_lane(ChatId(id)));
        }
        assert_ne!(handling_lane(ChatId(1)), handling_lane(ChatId(2)));
    }
}
