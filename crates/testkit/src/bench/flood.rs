//! `bench flood`: one person sends `messages` texts as fast as possible while `others` people chat normally
//! (each sends `/help`, waits for the whole answer, pauses `think_ms` ±50 % and does it again, `rounds`
//! times). The bot runs as its own process (`milava-bot run`, this executable, with its settings from the
//! environment), against the fake Bot API with Telegram's flood limits off, so the bot itself is measured.
//!
//! Reported: the others' reply latency (from queuing their update at the fake to the last message of its
//! answer reaching the fake) and how many of their messages went unanswered within `STEP_TIMEOUT`; what the
//! flooder got back (answers, slow-down notices); the bot's peak RSS. The flood starts once the others are
//! chatting (after `FLOOD_AFTER`).
use super::BenchError;
use super::interactive::{BotProcess, Mailboxes, mailbox, spawn_collector};
use super::{peak_rss_mib, percentile};
use fake_telegram::{FakeTelegram, FakeUser, SentMessage};
use milava_bot::config::Config;
use milava_bot::domain::Lang;
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

const FLOODER: i64 = 8_000_000;
const FIRST_OTHER: i64 = 8_100_000;
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// The calibration person's answer is complete when nothing more arrives for this long.
const QUIET: Duration = Duration::from_millis(300);
/// The flood begins this long after the others start.
const FLOOD_AFTER: Duration = Duration::from_millis(500);

pub async fn run(
    config: Config,
    messages: usize,
    others: usize,
    rounds: usize,
    think_ms: u64,
) -> Result<serde_json::Value, BenchError> {
    let content = milava_bot::content::load(&config.dialogues_dir)
        .map_err(milava_bot::startup::StartupError::from)?;
    let slow_down = content.text(Lang::Fi, "flood.slow_down").to_string();
    let fake = FakeTelegram::start().await?;
    fake.set_request_log(false);
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", dir.path().join("bench-flood.db").display());
    eprintln!(
        "bench flood: one person sends {messages} texts at once while {others} others send /help {rounds} times"
    );
    let mailboxes: Mailboxes = Default::default();
    let collector = spawn_collector(&fake, mailboxes.clone());
    let bot = BotProcess::start(&config, &fake, &database_url).await?;
    let mut flooder_inbox = mailbox(&mailboxes, FLOODER);
    let result = async {
        let expected = calibrate(&fake, &mailboxes).await?;
        let started = Instant::now();
        let mut people = Vec::with_capacity(others);
        for i in 0..others {
            let id = FIRST_OTHER + 1 + i as i64;
            let inbox = mailbox(&mailboxes, id);
            let fake = fake.clone();
            people.push(tokio::spawn(async move {
                chat(
                    &fake,
                    FakeUser::new(id, "Matti", Some("fi")),
                    inbox,
                    expected,
                    rounds,
                    think_ms,
                )
                .await
            }));
        }
        tokio::time::sleep(FLOOD_AFTER).await;
        let flooder = FakeUser::new(FLOODER, "Tulva", Some("fi"));
        let flood_began = Instant::now();
        for i in 0..messages {
            fake.send_private_text(&flooder, &format!("viesti {i}"));
        }
        let flood_queued_ms = flood_began.elapsed().as_secs_f64() * 1000.0;
        let mut latencies = Vec::with_capacity(others * rounds);
        let mut unanswered = 0;
        for person in people {
            let (answered, missing) = person
                .await
                .map_err(|e| BenchError::Failed(format!("a virtual person failed: {e}")))?;
            latencies.extend(answered);
            unanswered += missing;
        }
        let seconds = started.elapsed().as_secs_f64();
        // What reached the flooder, once nothing more arrives for a second.
        let mut flooder_got = Vec::new();
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_secs(1), flooder_inbox.recv()).await
        {
            flooder_got.push(message);
        }
        Ok::<_, BenchError>((latencies, unanswered, seconds, flood_queued_ms, flooder_got))
    }
    .await;
    let bot_rss = bot.peak_rss_mib();
    let bot_cpu = bot.cpu_seconds();
    let stopped = bot.stop().await;
    collector.abort();
    let (mut latencies, unanswered, seconds, flood_queued_ms, flooder_got) = result?;
    stopped?;
    latencies.sort_by(f64::total_cmp);
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let notices = flooder_got
        .iter()
        .filter(|m| m.text.as_deref() == Some(slow_down.as_str()))
        .count();
    Ok(json!({
        "scenario": "flood",
        "flood_messages": messages,
        "flood_queued_ms": round(flood_queued_ms),
        "others": others,
        "rounds": rounds,
        "think_ms": think_ms,
        "others_answered": latencies.len(),
        "others_unanswered": unanswered,
        "seconds": (seconds * 100.0).round() / 100.0,
        "latency_p50_ms": percentile(&latencies, 50.0).map(round),
        "latency_p95_ms": percentile(&latencies, 95.0).map(round),
        "latency_p99_ms": percentile(&latencies, 99.0).map(round),
        "latency_max_ms": percentile(&latencies, 100.0).map(round),
        "flooder_messages_received": flooder_got.len(),
        "flooder_slow_down_notices": notices,
        "bot_peak_rss_mib": bot_rss.map(round),
        "bot_cpu_seconds": bot_cpu.map(|s| (s * 100.0).round() / 100.0),
        "bench_peak_rss_mib": peak_rss_mib().map(round),
    }))
}

/// How many messages answer `/help`, learnt from one person.
async fn calibrate(fake: &FakeTelegram, mailboxes: &Mailboxes) -> Result<usize, BenchError> {
    let user = FakeUser::new(FIRST_OTHER, "Kalibroija", Some("fi"));
    let mut inbox = mailbox(mailboxes, user.id);
    fake.send_private_text(&user, "/help");
    let mut count = 0;
    loop {
        let wait = if count == 0 { STEP_TIMEOUT } else { QUIET };
        match tokio::time::timeout(wait, inbox.recv()).await {
            Ok(Some(_)) => count += 1,
            _ => break,
        }
    }
    if count == 0 {
        return Err(BenchError::Failed("no answer to /help".into()));
    }
    Ok(count)
}

/// One person chatting: returns the latency of each answered `/help` in ms, and how many went unanswered
/// (after one, the person stops: their later answers could not be told apart).
async fn chat(
    fake: &FakeTelegram,
    user: FakeUser,
    mut inbox: mpsc::UnboundedReceiver<SentMessage>,
    expected: usize,
    rounds: usize,
    think_ms: u64,
) -> (Vec<f64>, usize) {
    let mut latencies = Vec::with_capacity(rounds);
    for round in 0..rounds {
        tokio::time::sleep(think_time(think_ms, user.id, round)).await;
        let began = std::time::Instant::now();
        fake.send_private_text(&user, "/help");
        let mut answered = began;
        for _ in 0..expected {
            match tokio::time::timeout(STEP_TIMEOUT, inbox.recv()).await {
                Ok(Some(message)) => answered = answered.max(message.received_at),
                _ => return (latencies, rounds - round),
            }
        }
        latencies.push((answered - began).as_secs_f64() * 1000.0);
    }
    (latencies, 0)
}

/// `think_ms` on average, spread ±50 % by a fixed hash so that people do not move in lockstep.
fn think_time(think_ms: u64, user: i64, round: usize) -> Duration {
    let spread = (user.unsigned_abs() * 7919 + round as u64 * 104_729) % 1000;
    Duration::from_millis(think_ms / 2 + think_ms * spread / 1000)
}
