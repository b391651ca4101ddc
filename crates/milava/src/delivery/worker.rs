//! The worker's loop: claim, send, record; sleep until something can change. Two lanes share it: Telegram
//! (its rate budget, per-chat holds, `DELIVERY_CONCURRENCY` requests in flight) and email (one SMTP
//! conversation at a time, `EMAIL_MAX_PER_MINUTE`), each claiming only its own channel's rows.
use super::classify::{ErrorClass, classify};
use super::email::{EmailError, EmailSender};
use super::limiter::RateLimiter;
use super::{Doorbell, Settings};
use crate::clock::Clock;
use crate::db::DbError;
use crate::db::outbox::{self, Delivery};
use crate::domain::outbox::{
    AfterTransient, MAX_ATTEMPTS, Payload, after_transient, email_after_transient,
};
use crate::fault_log::{Fault, FaultLog};
use crate::send_budget::SendBudget;
use chrono::{DateTime, Utc};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use teloxide::types::ChatId;
use teloxide::{Bot, RequestError};
use tokio::sync::watch;
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;

/// How long to wait before touching the database again after it failed.
const DB_RETRY: Duration = Duration::from_secs(5);
/// Stored error texts are cut to this many characters.
const MAX_REASON_CHARS: usize = 500;

pub(super) struct Worker {
    pool: crate::db::Db,
    bot: Bot,
    clock: Arc<dyn Clock>,
    signal: Doorbell,
    settings: Settings,
    limiter: RateLimiter,
    /// The overall rate, shared with the replies.
    budget: Arc<SendBudget>,
    in_flight: JoinSet<Finished>,
    /// Each request in flight: (chat, row id). A chat has at most one, which keeps its messages in order.
    tasks: HashMap<Id, (i64, i64)>,
    next_prune: DateTime<Utc>,
    faults: Arc<FaultLog>,
    /// None when email is off (no `SMTP_URL`): email rows then wait.
    email: Option<EmailLane>,
}

/// The email lane: one message at a time, spaced by its own budget.
struct EmailLane {
    sender: EmailSender,
    interval: Duration,
    next_slot: Instant,
    /// The task and row in flight.
    in_flight: Option<(Id, i64)>,
}

struct Finished {
    delivery: Delivery,
    result: Outcome,
    /// When the send budget counted it as started.
    started: Instant,
}

enum Outcome {
    Telegram(Result<i64, RequestError>),
    Email(Result<(), EmailError>),
}

/// What the loop waits for, besides the signal, finishing requests and the daily prune.
#[derive(Default)]
struct Wait {
    /// The next row falls due (injected clock).
    due: Option<DateTime<Utc>>,
    /// The rate budget or a held chat allows the next message (real time).
    ready: Option<Instant>,
}

enum Event {
    Stop,
    Finished(Box<Result<(Id, Finished), JoinError>>),
    Woken,
    Prune,
}

impl Worker {
    pub fn new(
        pool: crate::db::Db,
        bot: Bot,
        clock: Arc<dyn Clock>,
        signal: Doorbell,
        settings: Settings,
        faults: Arc<FaultLog>,
        budget: Arc<SendBudget>,
    ) -> Self {
        let next_prune = clock.now();
        let email = settings.email.clone().map(|sender| EmailLane {
            sender,
            interval: settings.email_interval,
            next_slot: Instant::now(),
            in_flight: None,
        });
        budget.configure(settings.limits.per_second, settings.limits.window);
        Worker {
            email,
            pool,
            bot,
            limiter: RateLimiter::new(settings.limits),
            budget,
            clock,
            signal,
            settings,
            in_flight: JoinSet::new(),
            tasks: HashMap::new(),
            next_prune,
            faults,
        }
    }

    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        self.recover().await;
        self.prune().await;
        log::info!(
            "delivery worker started (at most {} messages/s overall, adapting to Telegram; {} in flight; email {})",
            self.settings.limits.per_second,
            self.settings.concurrency,
            if self.email.is_some() { "on" } else { "off" }
        );
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            let wait = self.dispatch().await;
            let clock = self.clock.clone();
            let signal = self.signal.clone();
            let next_prune = self.next_prune;
            let event = tokio::select! {
                // A send, or the handle dropped: either way, stop.
                _ = stop.changed() => Event::Stop,
                Some(done) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => {
                    Event::Finished(Box::new(done))
                }
                () = signal.woken() => Event::Woken,
                () = sleep_until_due(clock.as_ref(), wait.due) => Event::Woken,
                () = sleep_until_ready(wait.ready) => Event::Woken,
                () = clock.sleep_until(next_prune) => Event::Prune,
            };
            match event {
                Event::Stop => break,
                Event::Finished(done) => self.finish(*done).await,
                Event::Woken => {}
                Event::Prune => self.prune().await,
            }
        }
        self.drain().await;
    }

    /// Rows left `sending` by a previous run were in flight when it ended: they are sent again.
    async fn recover(&self) {
        match outbox::release_all_sending(&self.pool).await {
            Ok(0) => {}
            Ok(n) => log::warn!(
                "{n} outbox message(s) were being sent when the bot last stopped; sending them again"
            ),
            Err(e) => log::error!("outbox: cannot release rows left in flight: {e}"),
        }
    }

    async fn prune(&mut self) {
        let now = self.clock.now();
        match outbox::prune(&self.pool, now - self.settings.retention).await {
            Ok(0) => {}
            Ok(n) => log::info!("outbox: deleted {n} finished row(s) past retention"),
            Err(e) => log::error!("outbox: pruning failed: {e}"),
        }
        self.next_prune = now + chrono::Duration::days(1);
    }

    /// Starts as many due rows as the rate budgets and the in-flight limits allow; says what to wait for next.
    async fn dispatch(&mut self) -> Wait {
        let email_ready = self.dispatch_email().await;
        let mut wait = self.dispatch_telegram().await;
        wait.ready = match (wait.ready, email_ready) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // The next due time (`idle`) covers both channels' rows.
        wait
    }

    /// The email lane: starts the next due email when none is in flight and its budget allows; returns when
    /// to look again if it is waiting for its budget or the database failed.
    async fn dispatch_email(&mut self) -> Option<Instant> {
        let lane = self.email.as_mut()?;
        if lane.in_flight.is_some() {
            return None;
        }
        let now_rt = Instant::now();
        if lane.next_slot > now_rt {
            return Some(lane.next_slot);
        }
        let now = self.clock.now();
        match outbox::claim_next_email(&self.pool, now).await {
            Ok(Some(delivery)) => {
                lane.next_slot = now_rt + lane.interval;
                let sender = lane.sender.clone();
                let row = delivery.id;
                let task = self.in_flight.spawn(async move {
                    let result = Outcome::Email(sender.send(&delivery, now).await);
                    Finished {
                        delivery,
                        result,
                        started: now_rt,
                    }
                });
                lane.in_flight = Some((task.id(), row));
                None
            }
            Ok(None) => None,
            Err(e) => {
                self.faults.error(
                    Fault::OutboxStorage,
                    format_args!("cannot claim the next email: {e}"),
                );
                Some(now_rt + DB_RETRY)
            }
        }
    }

    async fn dispatch_telegram(&mut self) -> Wait {
        loop {
            if self.tasks.len() >= self.settings.concurrency {
                return Wait::default();
            }
            let now_rt = Instant::now();
            if let Some(at) = self.budget.outbox_wait(now_rt) {
                return Wait {
                    due: None,
                    ready: Some(at),
                };
            }
            let held = self.limiter.held_chats(now_rt);
            let excluded: Vec<i64> = held
                .iter()
                .map(|(chat, _)| *chat)
                .chain(self.tasks.values().map(|(chat, _)| *chat))
                .collect();
            let now = self.clock.now();
            match outbox::claim_next(&self.pool, now, &excluded).await {
                Ok(Some(delivery)) => {
                    self.faults.recovered(Fault::OutboxStorage);
                    // Stamped now, not before the claim: the claim may have waited for the write turn.
                    let started = Instant::now();
                    self.budget.outbox_started(started);
                    self.start(delivery, started);
                }
                Ok(None) => return self.idle(now, &held).await,
                Err(e) => {
                    self.faults.error(
                        Fault::OutboxStorage,
                        format_args!("cannot claim the next message: {e}"),
                    );
                    return Wait {
                        due: None,
                        ready: Some(now_rt + DB_RETRY),
                    };
                }
            }
        }
    }

    /// Nothing can start now: wake when a held chat with due rows may receive, or when the next row is due.
    async fn idle(&self, now: DateTime<Utc>, held: &[(i64, Instant)]) -> Wait {
        let held_chats: Vec<i64> = held.iter().map(|(chat, _)| *chat).collect();
        let mut ready = match outbox::chats_with_due_rows(&self.pool, now, &held_chats).await {
            Ok(waiting) => held
                .iter()
                .filter(|(chat, _)| waiting.contains(chat))
                .map(|(_, at)| *at)
                .min(),
            Err(e) => {
                self.faults.error(
                    Fault::OutboxStorage,
                    format_args!("cannot read waiting chats: {e}"),
                );
                Some(Instant::now() + DB_RETRY)
            }
        };
        let due = match outbox::next_due_after(&self.pool, now).await {
            Ok(due) => due,
            Err(e) => {
                self.faults.error(
                    Fault::OutboxStorage,
                    format_args!("cannot read the next due time: {e}"),
                );
                ready = Some(Instant::now() + DB_RETRY);
                None
            }
        };
        Wait { due, ready }
    }

    fn start(&mut self, delivery: Delivery, started: Instant) {
        let chat = delivery.chat_id;
        let row = delivery.id;
        let bot = self.bot.clone();
        let task = self.in_flight.spawn(async move {
            let result = Outcome::Telegram(match &delivery.payload {
                Payload::Telegram(message) => {
                    crate::telegram::send_one(&bot, ChatId(delivery.chat_id), message).await
                }
                // The email lane takes these rows; one here is a bug, refused like a bad request.
                Payload::Email(_) => Err(RequestError::Api(teloxide::ApiError::Unknown(
                    "Bad Request: an email row reached the Telegram sender".into(),
                ))),
            });
            Finished {
                delivery,
                result,
                started,
            }
        });
        self.tasks.insert(task.id(), (chat, row));
    }

    async fn finish(&mut self, done: Result<(Id, Finished), JoinError>) {
        let (
            id,
            Finished {
                delivery,
                result,
                started,
            },
        ) = match done {
            Ok(done) => done,
            Err(e) => {
                // Only a panic in teloxide or lettre could get here; the row goes back to wait.
                if let Some(lane) = self.email.as_mut()
                    && let Some((_, row)) = lane.in_flight.take_if(|(id, _)| *id == e.id())
                {
                    log::error!("outbox: sending email {row} ended abnormally: {e}");
                    if let Err(e) = outbox::release(&self.pool, row).await {
                        log::error!("outbox: email {row}: cannot put it back: {e}");
                    }
                    return;
                }
                if let Some((chat, row)) = self.tasks.remove(&e.id()) {
                    log::error!(
                        "outbox: sending message {row} to chat {chat} ended abnormally: {e}"
                    );
                    self.limiter.record(chat, Instant::now());
                    if let Err(e) = outbox::release(&self.pool, row).await {
                        log::error!("outbox: message {row}: cannot put it back: {e}");
                    }
                }
                return;
            }
        };
        let now = self.clock.now();
        let recorded = match result {
            Outcome::Email(result) => {
                if let Some(lane) = self.email.as_mut() {
                    lane.in_flight = None;
                }
                match result {
                    Ok(()) => {
                        self.faults.recovered(Fault::Email);
                        outbox::mark_email_sent(&self.pool, delivery.id, now).await
                    }
                    Err(error) => self.email_failed(&delivery, &error, now).await,
                }
            }
            Outcome::Telegram(result) => {
                self.tasks.remove(&id);
                self.limiter.record(delivery.chat_id, Instant::now());
                match result {
                    Ok(message_id) => {
                        self.budget.accepted(started, Instant::now());
                        self.faults.recovered(Fault::Sending);
                        outbox::mark_sent(&self.pool, &delivery, message_id, now).await
                    }
                    Err(error) => self.failed(&delivery, &error, now).await,
                }
            }
        };
        if let Err(e) = recorded {
            // The row stays `sending` and is sent again after the next start (the crash rule).
            log::error!(
                "outbox: message {} to chat {}: cannot record the outcome: {e}",
                delivery.id,
                delivery.chat_id
            );
        }
    }

    async fn failed(
        &mut self,
        d: &Delivery,
        error: &RequestError,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let reason = self.reason(error);
        match classify(error) {
            ErrorClass::PauseAll(wait) => {
                let now_rt = Instant::now();
                let slowed = if matches!(error, RequestError::RetryAfter(_)) {
                    self.budget.too_many(now_rt, wait)
                } else {
                    self.budget.pause_until(now_rt + wait);
                    false
                };
                log::warn!(
                    "outbox: Telegram asks to wait {} s ({reason}); the outbox pauses{}, message {} will be sent again",
                    wait.as_secs(),
                    if slowed {
                        format!(" and slows to {:.1}/s", self.budget.rate())
                    } else {
                        String::new()
                    },
                    d.id
                );
                outbox::release(&self.pool, d.id).await
            }
            ErrorClass::Unreachable => {
                let others = outbox::skip_unreachable(&self.pool, d, &reason, now).await?;
                log::info!(
                    "outbox: chat {} is unreachable ({reason}); skipped message {} and {others} more",
                    d.chat_id,
                    d.id
                );
                Ok(())
            }
            ErrorClass::Migrated(to) => {
                let attempts = d.attempts + 1;
                if to == d.chat_id || attempts >= MAX_ATTEMPTS {
                    log::warn!("outbox: message {}: {reason}; given up", d.id);
                    return outbox::mark_failed(&self.pool, d.id, &reason, Some(attempts)).await;
                }
                log::info!(
                    "outbox: group {} is now supergroup {to}; its messages go there",
                    d.chat_id
                );
                outbox::move_chat(&self.pool, d.id, d.chat_id, to, attempts).await
            }
            ErrorClass::Permanent => {
                log::warn!(
                    "outbox: message {} to chat {} failed: {reason}",
                    d.id,
                    d.chat_id
                );
                outbox::mark_failed(&self.pool, d.id, &reason, None).await
            }
            ErrorClass::Transient => match after_transient(d.attempts) {
                AfterTransient::RetryIn { attempts, delay } => {
                    let due =
                        now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                    // Logged once while the trouble lasts (a 5xx storm would be a line per message).
                    self.faults.error(
                        Fault::Sending,
                        format_args!("message {} to chat {}: {reason}", d.id, d.chat_id),
                    );
                    log::debug!(
                        "outbox: message {} to chat {}: {reason}; try {attempts} failed, next in {} s",
                        d.id,
                        d.chat_id,
                        delay.as_secs()
                    );
                    outbox::retry_at(&self.pool, d.id, due, attempts, &reason).await
                }
                AfterTransient::GiveUp { attempts } => {
                    log::warn!(
                        "outbox: message {} to chat {}: {reason}; given up after {attempts} tries",
                        d.id,
                        d.chat_id
                    );
                    outbox::mark_failed(&self.pool, d.id, &reason, Some(attempts)).await
                }
            },
        }
    }

    /// An email that did not go: retried with the email backoff, or given up (see `EmailError::is_permanent`).
    /// The stored and logged reason is the server's answer or the connection's trouble: never the address.
    async fn email_failed(
        &mut self,
        d: &Delivery,
        error: &EmailError,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let reason: String = without_addresses(&error.to_string())
            .chars()
            .take(MAX_REASON_CHARS)
            .collect();
        if error.is_permanent() {
            log::warn!("outbox: email {} refused for good: {reason}", d.id);
            return outbox::mark_failed(&self.pool, d.id, &reason, Some(d.attempts + 1)).await;
        }
        match email_after_transient(d.attempts) {
            AfterTransient::RetryIn { attempts, delay } => {
                let due = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                self.faults
                    .error(Fault::Email, format_args!("email {}: {reason}", d.id));
                log::debug!(
                    "outbox: email {}: {reason}; try {attempts} failed, next in {} s",
                    d.id,
                    delay.as_secs()
                );
                outbox::retry_at(&self.pool, d.id, due, attempts, &reason).await
            }
            AfterTransient::GiveUp { attempts } => {
                log::warn!(
                    "outbox: email {}: {reason}; given up after {attempts} tries",
                    d.id
                );
                outbox::mark_failed(&self.pool, d.id, &reason, Some(attempts)).await
            }
        }
    }

    /// The error as stored and logged (see `request_error_text`), cut to the column's length.
    fn reason(&self, error: &RequestError) -> String {
        super::request_error_text(error, self.bot.token())
            .chars()
            .take(MAX_REASON_CHARS)
            .collect()
    }

    /// After a stop: lets requests in flight finish within the grace period; rows still unanswered then go
    /// back to `pending` (they may have reached Telegram: the crash rule's bound).
    async fn drain(&mut self) {
        let deadline = Instant::now() + self.settings.stop_grace;
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, self.in_flight.join_next_with_id()).await {
                Ok(Some(done)) => self.finish(done).await,
                Ok(None) => break,
                Err(_) => {
                    self.in_flight.abort_all();
                    if let Some((_, row)) = self.email.as_mut().and_then(|l| l.in_flight.take()) {
                        log::warn!(
                            "outbox: email {row} unanswered at shutdown; it will be sent again"
                        );
                        if let Err(e) = outbox::release(&self.pool, row).await {
                            log::error!("outbox: email {row}: cannot put it back: {e}");
                        }
                    }
                    for (_, (chat, row)) in self.tasks.drain() {
                        log::warn!(
                            "outbox: message {row} to chat {chat} unanswered at shutdown; it will be sent again"
                        );
                        if let Err(e) = outbox::release(&self.pool, row).await {
                            log::error!("outbox: message {row}: cannot put it back: {e}");
                        }
                    }
                    break;
                }
            }
        }
    }
}

async fn sleep_until_due(clock: &dyn Clock, due: Option<DateTime<Utc>>) {
    match due {
        Some(due) => clock.sleep_until(due).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_ready(ready: Option<Instant>) {
    match ready {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A mail server's answer with every email address taken out: servers often quote the recipient
/// (`550 5.1.1 <anna@example.fi>: Recipient address rejected`), and reasons are logged and stored.
fn without_addresses(answer: &str) -> String {
    answer
        .split(' ')
        .map(|word| {
            if word.contains('@') {
                "<address>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod address_tests {
    #[test]
    fn a_servers_answer_keeps_no_address() {
        assert_eq!(
            super::without_addresses(
                "SMTP: permanent error (550): 5.1.1 <anna@example.fi>: no such user"
            ),
            "SMTP: permanent error (550): 5.1.1 <address> no such user"
        );
        assert_eq!(
            super::without_addresses("connection refused"),
            "connection refused"
        );
    }
}
