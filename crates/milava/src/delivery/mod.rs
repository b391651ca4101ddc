//! The delivery worker: the one task that sends what the bot says on its own initiative (everything in the
//! outbox table `deliveries`), within Telegram's rate limits, and records each outcome. Answers to a user's
//! own message do not come through here (`telegram::send`), but they share the overall budget (`crate::send_budget`).
//!
//! How it runs: it claims the oldest due row whose chat may receive now, marks it `sending`, sends it and
//! records the outcome. It sleeps until a producer rings the [`Doorbell`], the next row falls due on the
//! injected clock, a held chat may receive again, or a request in flight finishes — never by polling.
//! Rate limits use real time; due times use the injected clock.
//!
//! Rate budget: at most `DELIVERY_MAX_PER_SECOND` (default 30) messages a second overall, replies included, in
//! any one-second window, spread evenly; the rate itself adapts to Telegram's 429s (`crate::send_budget`: ×0.8 on a
//! 429, then back up while Telegram accepts). One message a second per private chat, twenty a minute per
//! group, and a chat never has two requests in flight (its messages keep their order).
//!
//! Outcomes: sent → `sent`. Flood control (429, to an outbox message or a reply) → the outbox pauses for
//! `retry_after`, slows down, and the same row is sent again (not counted as a failure). Blocked by the user, account deleted, never started, bot removed
//! from the group → the person is marked unreachable, the row and that chat's other pending rows are
//! `skipped`. Group upgraded to a supergroup → sent to the new chat id. Chat not found and other refusals →
//! `failed` with Telegram's reason. Network errors, timeouts, dropped connections and server errors → tried
//! again after 5 s, 10 s, 20 s, 40 s, 80 s, then `failed`.
//!
//! **Crash rule.** A row is marked `sending` just before its request and gets its outcome right after the
//! answer. Rows found in `sending` at start-up were in flight when the process died; Telegram may or may
//! not have received them, so they are sent again. A crash can therefore duplicate at most the messages in
//! flight at that moment — at most `DELIVERY_CONCURRENCY` (default 1) — and loses none: a row leaves the
//! table only when it was sent, skipped, failed or cancelled and is older than `DELIVERY_RETENTION_DAYS`.
//! The same bound holds for a clean stop whose requests did not finish within the grace period, and for a
//! request that timed out on our side after Telegram had accepted it.
//!
//! Why one request in flight by default: against a fast API one at a time reaches the whole rate budget,
//! and a crash costs at most one duplicate. Against api.telegram.org a round trip takes roughly 50–150 ms,
//! so one in flight sends about 7–20 messages a second; set `DELIVERY_CONCURRENCY` to 2–3 to reach 30/s,
//! accepting as many duplicates per crash.
//!
//! **Email** (`email.rs`, on when `SMTP_URL` is set) is the outbox's second channel: rows of kind `email`
//! (`deliveries.channel = 'email'`) are claimed only by the worker's email lane — one SMTP conversation at a
//! time, at most `EMAIL_MAX_PER_MINUTE` — and never by the Telegram lane, so neither channel's budget or
//! trouble holds up the other. Same keys, statuses and crash rule; a Telegram block does not skip emails.
//! Failures: 550/551/553 (no such mailbox) and unbuildable messages → `failed`; everything else (server down,
//! timeouts, 4xx, other 5xx) → tried again after 1, 2, 4 … minutes, at most hourly, `failed` after 12 tries.
mod classify;
pub mod email;
mod limiter;
mod worker;

pub use crate::doorbell::Doorbell;
pub use classify::{ErrorClass, classify, classify_description};
pub use limiter::{Limits, RateLimiter};

use crate::clock::Clock;
use crate::config::Config;
use crate::fault_log::FaultLog;

use std::sync::Arc;
use std::time::Duration;
use teloxide::Bot;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A Telegram request's error as logged and stored: with its causes (reqwest's own text, "error sending
/// request", does not say whether it timed out, was refused or failed DNS or TLS) and without the bot token
/// (network errors name the request URL).
pub fn request_error_text(error: &teloxide::RequestError, token: &str) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        let part = e.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cause = e.source();
    }
    text.replace(token, "<token>")
}

/// How the worker runs; `from_config` gives the production values.
#[derive(Clone, Debug)]
pub struct Settings {
    pub limits: Limits,
    /// Requests in flight at once (and so the most messages a crash can duplicate).
    pub concurrency: usize,
    /// Finished rows older than this are deleted (checked at start and then daily).
    pub retention: chrono::Duration,
    /// How long `stop` lets requests in flight finish before giving their rows back.
    pub stop_grace: Duration,
    /// The email lane's sender; None = email off (`SMTP_URL` unset).
    pub email: Option<email::EmailSender>,
    /// The least time between two emails (`EMAIL_MAX_PER_MINUTE`).
    pub email_interval: Duration,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            limits: Limits::telegram(config.delivery_max_per_second),
            concurrency: config.delivery_concurrency.max(1),
            retention: chrono::Duration::days(i64::from(config.delivery_retention_days)),
            stop_grace: Duration::from_secs(3),
            email: config.smtp_url.as_ref().and_then(|url| {
                let from = config.email_from.as_deref().unwrap_or_default();
                email::EmailSender::new(url.expose(), from)
                    .inspect_err(|e| log::error!("email is off: {e}"))
                    .ok()
            }),
            email_interval: Duration::from_secs(60) / config.email_max_per_minute.max(1),
        }
    }
}

/// The running worker. Dropping it aborts the worker (like a crash); `stop` ends it cleanly.
pub struct DeliveryHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    stop_grace: Duration,
}

/// Starts the worker. First it gives back rows left `sending` by a previous run (see the crash rule) and
/// prunes old rows.
pub fn spawn(
    pool: crate::db::Db,
    bot: Bot,
    clock: Arc<dyn Clock>,
    signal: Doorbell,
    settings: Settings,
    faults: Arc<FaultLog>,
    budget: Arc<crate::send_budget::SendBudget>,
) -> DeliveryHandle {
    let (stop, stopped) = watch::channel(false);
    let stop_grace = settings.stop_grace;
    let worker = worker::Worker::new(pool, bot, clock, signal, settings, faults, budget);
    DeliveryHandle {
        stop,
        task: Some(tokio::spawn(worker.run(stopped))),
        stop_grace,
    }
}

impl DeliveryHandle {
    /// Stops claiming rows, lets requests in flight finish (up to the grace period; rows still unanswered
    /// then go back to `pending`), and returns once the worker has ended — within a few seconds.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let Some(task) = self.task.take() else {
            return;
        };
        let abort = task.abort_handle();
        match tokio::time::timeout(self.stop_grace + Duration::from_secs(2), task).await {
            Ok(Ok(())) => log::info!("delivery worker stopped"),
            Ok(Err(e)) => log::error!("delivery worker ended abnormally: {e}"),
            Err(_) => {
                log::warn!("delivery worker did not stop in time; aborted");
                abort.abort();
            }
        }
    }
}

impl Drop for DeliveryHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
