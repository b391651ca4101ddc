//! `bench broadcast`: a coordinator's broadcast to `recipients` people, end to end, with Telegram's real flood
//! limits on in the fake (30 messages a second overall — every message counts, replies too, in a sliding
//! window, which is stricter than Telegram — 1 a second per private chat with a burst of 3).
//!
//! The real app (`startup::App`, real clock, a temporary SQLite database, the content of `DIALOGUES_DIR`,
//! `DELIVERY_MAX_PER_SECOND` and `DELIVERY_CONCURRENCY` from the settings) runs against the in-process fake Bot
//! API on 127.0.0.1. The recipients are registered directly in the database. A coordinator then goes through
//! `/broadcast` → "everyone" → a text → "send now" over the fake, at a human pace (a second between steps, so
//! their own chat stays within its limit). While the copies go out, `chatters` other people (default 5) each send
//! `/help` once every `period` (default 1 s), staggered evenly, and the time from the update being queued to the
//! bot's answer reaching the fake is their reply latency.
//!
//! Measured: seconds from "send now" to the last copy, copies per second as a fraction of the configured
//! ceiling, every message the fake accepted meanwhile (copies plus replies) per second as a fraction of 30,
//! 429 answers from the fake (to anything the bot sent) and whether each was obeyed (the refused chat got
//! nothing before `retry_after` had passed), the process's peak RSS (the fake keeps no
//! request log here, so this is the bot plus the fake's small per-chat state) and the interactive latency
//! percentiles. Bounded: the run gives up after three times the ideal duration plus two minutes.
use super::{BenchError, peak_rss_mib, percentile};
use crate::bot::Builder;
use fake_telegram::{FakeEvent, FakeTelegram, FakeUser, SentKind};
use milava_bot::config::Config;
use milava_bot::db::outbox;
use milava_bot::domain::CallbackData;
use milava_bot::domain::callback::BroadcastAction;
use serde_json::json;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

const COORDINATOR: i64 = 900_000_001;
/// Recipients' ids start after this.
const FIRST_RECIPIENT: i64 = 1_000_000;
const FIRST_CHATTER: i64 = 2_000_000;
/// Telegram's documented overall limit, which the fake enforces.
const TELEGRAM_PER_SECOND: f64 = 30.0;
/// A reply not seen within this long counts as unanswered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Between the coordinator's steps, as a person would take (and within their chat's limit).
const HUMAN_PAUSE: Duration = Duration::from_millis(1100);

pub async fn run(
    config: Config,
    recipients: usize,
    chatters: usize,
    period: Duration,
) -> Result<serde_json::Value, BenchError> {
    if recipients == 0 {
        return Err(BenchError::Failed("--recipients must be at least 1".into()));
    }
    let fake = FakeTelegram::start().await?;
    fake.set_flood_limits(true);
    fake.set_request_log(false);
    // Only the coordinator's chat is read back (its buttons, the progress message).
    fake.keep_messages_only_for([COORDINATOR]);
    let ceiling = f64::from(config.delivery_max_per_second.max(1));
    let mut content = milava_bot::content::load(&config.dialogues_dir)
        .map_err(milava_bot::startup::StartupError::from)?;
    // It measures sending, on today's clock: the programme must not be over (fathers would be erased).
    content.programme_ends =
        chrono::NaiveDate::from_ymd_opt(9999, 12, 30).unwrap_or(content.programme_ends);
    let mut bot = Builder::from_config(config)
        .content(content)
        .system_clock()
        .polling_timeout(Duration::from_secs(2))
        .coordinator(COORDINATOR)
        .database_file("bench-broadcast.db")
        .start_on(fake.clone())
        .await?;
    let pool = bot.ctx().pool;
    super::seed_fathers(&pool, FIRST_RECIPIENT + 1, recipients).await?;
    eprintln!(
        "bench broadcast: {recipients} recipients registered; ceiling {ceiling}/s, so about {:.0} s of sending",
        recipients as f64 / ceiling
    );
    let result = measure(&fake, &pool, recipients, ceiling, chatters, period).await;
    bot.try_stop(Duration::from_secs(30))
        .await
        .map_err(BenchError::Failed)?;
    result
}

/// Registers `n` fathers directly through the database functions, as if each had finished registration.
/// What the event collector saw from "send now" on.
#[derive(Default)]
struct Seen {
    copies: usize,
    first_copy: Option<Instant>,
    last_copy: Option<Instant>,
    /// Every message the fake accepted, with when (copies, replies, the coordinator's answers).
    all: Vec<(i64, Instant)>,
    http_429: usize,
    /// Each 429: the chat, when, and the wait asked for.
    refusals: Vec<(i64, Instant, Duration)>,
    lagged: u64,
}

async fn measure(
    fake: &FakeTelegram,
    pool: &milava_bot::db::Db,
    recipients: usize,
    ceiling: f64,
    chatters: usize,
    period: Duration,
) -> Result<serde_json::Value, BenchError> {
    let coordinator = FakeUser::new(COORDINATOR, "Koordinaattori", Some("fi"));
    let mut all_events = fake.subscribe();
    // The coordinator's steps: each waits for the bot's answer, then a human pause.
    fake.send_private_text(&coordinator, "/broadcast");
    let menu = wait_for_button(
        fake,
        |a| matches!(a, BroadcastAction::Audience(code) if code == "all"),
    )
    .await?;
    tokio::time::sleep(HUMAN_PAUSE).await;
    fake.press_button(&coordinator, menu.0, &menu.1);
    let before = fake.sent_to(COORDINATOR).len();
    wait(fake, "the request for the message", |f| {
        f.sent_to(COORDINATOR).len() > before
    })
    .await?;
    tokio::time::sleep(HUMAN_PAUSE).await;
    fake.send_private_text(&coordinator, "Tiedote: kevään tapaamiset alkavat pian.");
    let go = wait_for_button(fake, |a| matches!(a, BroadcastAction::SendNow(_))).await?;
    let id = match CallbackData::decode(&go.1) {
        Some(CallbackData::Broadcast(BroadcastAction::SendNow(id))) => id,
        _ => return Err(BenchError::Failed("no broadcast id on the button".into())),
    };
    tokio::time::sleep(HUMAN_PAUSE).await;
    // Only what follows the confirmation counts (the coordinator's steps above were within the limits, too:
    // any 429 there is reported as a failure below).
    let early_429 = drain_429s(&mut all_events);
    drop(all_events);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let collector = {
        let seen = seen.clone();
        let mut events = fake.subscribe();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(FakeEvent::MessageSent(m)) => {
                        seen.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .all
                            .push((m.chat_id, Instant::now()));
                        if m.chat_id >= FIRST_RECIPIENT
                            && m.chat_id < FIRST_CHATTER
                            && matches!(m.kind, SentKind::Copy { .. })
                        {
                            let now = Instant::now();
                            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                            seen.copies += 1;
                            seen.first_copy.get_or_insert(now);
                            seen.last_copy = Some(now);
                        }
                    }
                    Ok(FakeEvent::RequestFailed {
                        error_code: Some(429),
                        request,
                        description,
                    }) => {
                        let wait = description
                            .rsplit(' ')
                            .next()
                            .and_then(|n| n.parse::<u64>().ok())
                            .map_or(Duration::from_secs(1), Duration::from_secs);
                        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                        seen.http_429 += 1;
                        let chat = request.chat_id().unwrap_or(0);
                        seen.refusals.push((chat, Instant::now(), wait));
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        seen.lock().unwrap_or_else(|e| e.into_inner()).lagged += n
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    };
    let started = Instant::now();
    fake.press_button(&coordinator, go.0, &go.1);

    let (chatting, chatting_stopped) = watch::channel(false);
    let chatting_tasks: Vec<_> = (1..=chatters)
        .map(|i| {
            let fake = fake.clone();
            let stopped = chatting_stopped.clone();
            let offset = period.mul_f64((i - 1) as f64 / chatters as f64);
            tokio::spawn(chat(
                fake,
                FIRST_CHATTER + i as i64,
                offset,
                period,
                stopped,
            ))
        })
        .collect();

    let ideal = Duration::from_secs_f64(recipients as f64 / ceiling);
    let deadline = started + ideal * 3 + Duration::from_secs(120);
    let batch = milava_bot::domain::outbox::broadcast_batch(id);
    loop {
        let progress = outbox::batch_progress(pool, &batch).await?;
        if progress.total() > 0 && progress.remaining == 0 {
            break;
        }
        if Instant::now() > deadline {
            let _ = chatting.send(true);
            collector.abort();
            return Err(BenchError::Failed(format!(
                "gave up after {:.0} s: {progress:?}",
                started.elapsed().as_secs_f64()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The last answers reach the fake just before their rows are recorded.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = chatting.send(true);
    let mut latencies = Vec::new();
    let mut unanswered = 0;
    for chatter in chatting_tasks {
        let (answered, missed) = chatter
            .await
            .map_err(|e| BenchError::Failed(format!("a chatting task failed: {e}")))?;
        latencies.extend(answered);
        unanswered += missed;
    }
    collector.abort();
    let progress = outbox::batch_progress(pool, &batch).await?;
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    if seen.lagged > 0 {
        return Err(BenchError::Failed(format!(
            "{} fake events were missed; the counts would be wrong",
            seen.lagged
        )));
    }
    let last = seen.last_copy.unwrap_or(started);
    let seconds = last.duration_since(started).as_secs_f64();
    let per_second = if seconds > 0.0 {
        seen.copies as f64 / seconds
    } else {
        0.0
    };
    latencies.sort_by(f64::total_cmp);
    // Everything the fake accepted from "send now" to the last copy, and whether each 429 was obeyed: the
    // refused chat got nothing before the wait asked for had passed.
    let total = seen
        .all
        .iter()
        .filter(|(_, at)| *at >= started && *at <= last)
        .count();
    let total_per_second = if seconds > 0.0 {
        total as f64 / seconds
    } else {
        0.0
    };
    let disobeyed = seen
        .refusals
        .iter()
        .filter(|(chat, at, wait)| {
            seen.all
                .iter()
                .any(|(c, t)| c == chat && *t > *at && *t < *at + *wait - Duration::from_millis(20))
        })
        .count();
    let round = |x: f64, places: i32| {
        let f = 10f64.powi(places);
        (x * f).round() / f
    };
    Ok(json!({
        "scenario": "broadcast",
        "recipients": recipients,
        "delivered": seen.copies,
        "sent": progress.sent,
        "blocked": progress.blocked,
        "failed": progress.failed,
        "seconds": round(seconds, 2),
        "messages_per_second": round(per_second, 2),
        "ceiling": ceiling,
        "fraction_of_ceiling": round(per_second / ceiling, 3),
        "all_messages_per_second": round(total_per_second, 2),
        "fraction_of_telegram_30": round(total_per_second / TELEGRAM_PER_SECOND, 3),
        "chatters": chatters,
        "chat_period_ms": period.as_millis() as u64,
        "http_429": seen.http_429 + early_429,
        "http_429_not_obeyed": disobeyed,
        // Which chats the 429s were for: copies of the broadcast, the chatters' replies, the coordinator.
        "http_429_to_copies": seen.refusals.iter().filter(|(c, _, _)| (FIRST_RECIPIENT..FIRST_CHATTER).contains(c)).count(),
        "http_429_to_replies": seen.refusals.iter().filter(|(c, _, _)| *c >= FIRST_CHATTER).count(),
        "http_429_to_coordinator": seen.refusals.iter().filter(|(c, _, _)| *c == COORDINATOR).count(),
        "peak_rss_mib": peak_rss_mib().map(|m| round(m, 1)),
        "interactive_replies": latencies.len(),
        "interactive_unanswered": unanswered,
        "interactive_p50_ms": percentile(&latencies, 50.0).map(|x| round(x, 1)),
        "interactive_p95_ms": percentile(&latencies, 95.0).map(|x| round(x, 1)),
        "interactive_p99_ms": percentile(&latencies, 99.0).map(|x| round(x, 1)),
    }))
}

/// 429s seen so far (on the coordinator's way to the confirmation).
fn drain_429s(events: &mut broadcast::Receiver<FakeEvent>) -> usize {
    let mut n = 0;
    loop {
        match events.try_recv() {
            Ok(FakeEvent::RequestFailed {
                error_code: Some(429),
                ..
            }) => n += 1,
            Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return n,
        }
    }
}

/// One person sending `/help` every `period` (first after `offset`) until stopped; returns the reply
/// latencies in milliseconds and how many replies never came.
async fn chat(
    fake: FakeTelegram,
    id: i64,
    offset: Duration,
    period: Duration,
    mut stopped: watch::Receiver<bool>,
) -> (Vec<f64>, usize) {
    let user = FakeUser::new(id, "Juttelija", Some("fi"));
    let mut latencies = Vec::new();
    let mut unanswered = 0;
    let mut next = Instant::now() + offset;
    loop {
        tokio::select! {
            _ = stopped.changed() => return (latencies, unanswered),
            _ = tokio::time::sleep_until(next) => {}
        }
        next += period;
        let mut events = fake.subscribe();
        let asked = Instant::now();
        fake.send_private_text(&user, "/help");
        let answered = tokio::time::timeout(REPLY_TIMEOUT, async {
            loop {
                match events.recv().await {
                    Ok(FakeEvent::MessageSent(m)) if m.chat_id == id => return true,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return false,
                }
            }
        })
        .await;
        match answered {
            Ok(true) => latencies.push(asked.elapsed().as_secs_f64() * 1000.0),
            _ => unanswered += 1,
        }
        // After a late or missing reply, skip the missed turns rather than catch up in a burst (which would
        // break the chat's own limit of one message a second).
        while next <= Instant::now() {
            next += period;
        }
        if *stopped.borrow() {
            return (latencies, unanswered);
        }
    }
}

/// Waits for an inline button in the coordinator's chat whose broadcast action satisfies `f`; returns the
/// message id and its callback data.
async fn wait_for_button(
    fake: &FakeTelegram,
    f: impl Fn(&BroadcastAction) -> bool,
) -> Result<(i64, String), BenchError> {
    let find = |fake: &FakeTelegram| {
        fake.sent_to(COORDINATOR).into_iter().rev().find_map(|m| {
            m.inline_buttons()
                .into_iter()
                .flatten()
                .find(|(_, data)| {
                    matches!(CallbackData::decode(data), Some(CallbackData::Broadcast(a)) if f(&a))
                })
                .map(|(_, data)| (m.message_id, data))
        })
    };
    wait(fake, "the coordinator's buttons", |fake| {
        find(fake).is_some()
    })
    .await?;
    find(fake).ok_or_else(|| BenchError::Failed("the button went away".into()))
}

async fn wait(
    fake: &FakeTelegram,
    what: &str,
    f: impl Fn(&FakeTelegram) -> bool,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f(fake) {
        if Instant::now() > deadline {
            return Err(BenchError::Failed(format!("timed out waiting for {what}")));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 95.0), Some(95.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
