//! `bench interactive`: `users` people register at the same moment, on top of `registered` people already in
//! the database, through the fake Bot API with Telegram's flood limits off (so the bot itself is measured).
//! The bot runs as its own process (`milava-bot run`, this executable), so its peak memory is its own and
//! not the fake's or the virtual people's; it is stopped with SIGTERM at the end.
//!
//! Each virtual person goes through the fathers' registration as a person would — `/start`, the role button,
//! their name, area, interest, consent and research buttons — waiting for the bot's whole answer before the
//! next step. Without `--think-ms` there is no thinking time: every person is always waiting for the bot or
//! sending, which measures the most updates per second; with it, people pause between steps as people do.
//! How many messages a whole answer has is learnt first from one calibration person. Reply latency is the
//! time from queuing the update at the fake to the last message of its answer reaching the fake; throughput
//! is all updates answered over the wall time of the concurrent phase. Bounded: a step waits at most
//! `STEP_TIMEOUT`.
//!
//! With `--new-people`, the `users` people have never written before and each sends two messages at the same
//! moment (`NEW_PERSON_TEXT`, twice, without waiting); each is answered as an unregistered person's message
//! is (the calibration person shows how many messages that is). Latency is per message, from queuing the
//! second one to the last message of both answers.
use super::{BenchError, peak_rss_mib, percentile};
use fake_telegram::{FAKE_BOT_TOKEN, FakeEvent, FakeTelegram, FakeUser, SentMessage};
use milava_bot::config::Config;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// Virtual people's ids start here (the already registered ones start at `FIRST_REGISTERED`).
const FIRST_USER: i64 = 3_000_000;
const FIRST_REGISTERED: i64 = 5_000_000;
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// The calibration person's answers are complete when nothing more arrives for this long.
const QUIET: Duration = Duration::from_millis(300);

/// One step of the registration, as a person takes it.
#[derive(Clone, Copy, Debug)]
enum Action {
    Text(&'static str),
    Press(&'static str),
}

/// The fathers' registration in Finnish (labels of the shipped content).
const STEPS: &[Action] = &[
    Action::Text("/start"),
    Action::Press("Isä"),
    Action::Text("Matti Meikäläinen"),
    Action::Press("Oulu"),
    Action::Press("Vertaisryhmä"),
    Action::Press("Hyväksyn"),
    Action::Press("Ei, kiitos"),
];

/// What each new person sends, twice.
const NEW_PERSON_TEXT: &str = "Hei";

pub(super) type Mailboxes = Arc<Mutex<HashMap<i64, mpsc::UnboundedSender<SentMessage>>>>;

pub async fn run(
    mut config: Config,
    users: usize,
    registered: usize,
    think_ms: u64,
    new_people: bool,
) -> Result<serde_json::Value, BenchError> {
    if users == 0 {
        return Err(BenchError::Failed("--users must be at least 1".into()));
    }
    let content = super::content_with_programme_running(&config.dialogues_dir)?;
    config.dialogues_dir = content.path().to_path_buf();
    let fake = FakeTelegram::start().await?;
    fake.set_request_log(false);
    let dir = tempfile::tempdir()?;
    let database_url = format!(
        "sqlite://{}",
        dir.path().join("bench-interactive.db").display()
    );
    {
        let pool = milava_bot::db::connect(&database_url).await?;
        super::seed_fathers(&pool, FIRST_REGISTERED, registered).await?;
        pool.close().await;
    }
    eprintln!("bench interactive: {registered} people registered; {users} more register at once");

    let mailboxes: Mailboxes = Default::default();
    let collector = spawn_collector(&fake, mailboxes.clone());
    let bot = BotProcess::start(&config, &fake, &database_url).await?;
    let result = async {
        if new_people {
            return write_twice(&fake, &mailboxes, users).await;
        }
        let expected = calibrate(&fake, &mailboxes).await?;
        let started = Instant::now();
        let mut people = Vec::with_capacity(users);
        for i in 0..users {
            let id = FIRST_USER + 1 + i as i64;
            let inbox = mailbox(&mailboxes, id);
            let fake = fake.clone();
            let expected = expected.clone();
            people.push(tokio::spawn(async move {
                register(
                    &fake,
                    FakeUser::new(id, "Matti", Some("fi")),
                    inbox,
                    &expected,
                    think_ms,
                    &|| false,
                )
                .await
            }));
        }
        let mut latencies = Vec::with_capacity(users * STEPS.len());
        for person in people {
            let person = person
                .await
                .map_err(|e| BenchError::Failed(format!("a virtual person failed: {e}")))?;
            latencies.extend(person?);
        }
        Ok::<_, BenchError>((latencies, started.elapsed().as_secs_f64()))
    }
    .await;
    let bot_rss = bot.peak_rss_mib();
    let bot_cpu = bot.cpu_seconds();
    let stopped = bot.stop().await;
    collector.abort();
    let (mut latencies, seconds) = result?;
    stopped?;
    let pool = milava_bot::db::connect(&database_url).await?;
    let complete = milava_bot::db::stats::participants_from(&pool, FIRST_USER).await?;
    pool.close().await;

    latencies.sort_by(f64::total_cmp);
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Ok(json!({
        "scenario": if new_people { "interactive, new people" } else { "interactive" },
        "users": users,
        "think_ms": think_ms,
        "already_registered": registered,
        "registrations_completed": if new_people { 0 } else { complete - registered as i64 },
        "updates_answered": latencies.len(),
        "seconds": (seconds * 100.0).round() / 100.0,
        "updates_per_second": round(latencies.len() as f64 / seconds),
        "latency_p50_ms": percentile(&latencies, 50.0).map(round),
        "latency_p95_ms": percentile(&latencies, 95.0).map(round),
        "latency_p99_ms": percentile(&latencies, 99.0).map(round),
        "latency_max_ms": percentile(&latencies, 100.0).map(round),
        "bot_peak_rss_mib": bot_rss.map(round),
        "bot_cpu_seconds": bot_cpu.map(|s| (s * 100.0).round() / 100.0),
        "bench_peak_rss_mib": peak_rss_mib().map(round),
    }))
}

/// The bot as its own process (`milava-bot run`, this same executable), so its memory is measured alone.
pub(super) struct BotProcess {
    child: std::process::Child,
}

impl BotProcess {
    pub(super) async fn start(
        config: &Config,
        fake: &FakeTelegram,
        database_url: &str,
    ) -> Result<BotProcess, BenchError> {
        BotProcess::start_with(config, fake, database_url, &[]).await
    }

    /// Started with these settings besides the usual ones (e.g. the console's).
    pub(super) async fn start_with(
        config: &Config,
        fake: &FakeTelegram,
        database_url: &str,
        settings: &[(&str, String)],
    ) -> Result<BotProcess, BenchError> {
        let polls = fake.requests_to("getUpdates").len();
        let child = std::process::Command::new(std::env::current_exe()?)
            .arg("run")
            .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
            .env("TELOXIDE_TOKEN", FAKE_BOT_TOKEN)
            .env("TELOXIDE_API_URL", fake.api_url().as_str())
            .env("DATABASE_URL", database_url)
            .env("DIALOGUES_DIR", &config.dialogues_dir)
            .env("RUST_LOG", "warn")
            .env_remove("HEALTH_ADDR")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let bot = BotProcess { child };
        // Up once it polls; the fake counts polls only while its request log is on.
        fake.set_request_log(true);
        let deadline = Instant::now() + STEP_TIMEOUT;
        while fake.requests_to("getUpdates").len() <= polls {
            if Instant::now() > deadline {
                return Err(BenchError::Failed("the bot did not start polling".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        fake.set_request_log(false);
        Ok(bot)
    }

    /// The most memory the bot process has used so far (VmHWM), in MiB.
    pub(super) fn peak_rss_mib(&self) -> Option<f64> {
        super::peak_rss_mib_of(&format!("/proc/{}/status", self.child.id()))
    }

    /// CPU time the bot process has used so far (start-up and calibration included), in seconds.
    pub(super) fn cpu_seconds(&self) -> Option<f64> {
        super::cpu_seconds_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// SIGTERM, as a service manager would; the bot must be gone within 10 s.
    pub(super) async fn stop(mut self) -> Result<(), BenchError> {
        std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return if status.success() {
                    Ok(())
                } else {
                    Err(BenchError::Failed(format!("the bot exited with {status}")))
                };
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                return Err(BenchError::Failed(
                    "the bot did not stop within 10 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Forwards every message the bot sends to the mailbox of its chat.
pub(super) fn spawn_collector(
    fake: &FakeTelegram,
    mailboxes: Mailboxes,
) -> tokio::task::JoinHandle<()> {
    let mut events = fake.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(FakeEvent::MessageSent(message)) => {
                    let boxes = mailboxes.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(inbox) = boxes.get(&message.chat_id) {
                        let _ = inbox.send(message);
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    log::error!("bench interactive: the event collector missed {n} events");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

pub(super) fn mailbox(mailboxes: &Mailboxes, chat: i64) -> mpsc::UnboundedReceiver<SentMessage> {
    let (tx, rx) = mpsc::unbounded_channel();
    mailboxes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(chat, tx);
    rx
}

/// One person goes through the registration alone; returns how many messages answer each step.
pub(super) async fn calibrate(
    fake: &FakeTelegram,
    mailboxes: &Mailboxes,
) -> Result<Vec<usize>, BenchError> {
    let user = FakeUser::new(FIRST_USER, "Kalibroija", Some("fi"));
    let mut inbox = mailbox(mailboxes, user.id);
    let mut last: Option<SentMessage> = None;
    let mut counts = Vec::with_capacity(STEPS.len());
    for step in STEPS {
        act(fake, &user, *step, last.as_ref())?;
        let mut count = 0;
        loop {
            let wait = if count == 0 { STEP_TIMEOUT } else { QUIET };
            match tokio::time::timeout(wait, inbox.recv()).await {
                Ok(Some(message)) => {
                    count += 1;
                    last = Some(message);
                }
                _ => break,
            }
        }
        if count == 0 {
            return Err(BenchError::Failed(format!("no answer to {step:?}")));
        }
        counts.push(count);
    }
    Ok(counts)
}

/// `users` new people each send `NEW_PERSON_TEXT` twice at the same moment; returns the latency of each
/// message in ms (both count the time to the last message of both answers) and the wall time.
async fn write_twice(
    fake: &FakeTelegram,
    mailboxes: &Mailboxes,
    users: usize,
) -> Result<(Vec<f64>, f64), BenchError> {
    // How many messages answer one: a calibration person writes once.
    let calibration = FakeUser::new(FIRST_USER, "Kalibroija", Some("fi"));
    let mut inbox = mailbox(mailboxes, calibration.id);
    fake.send_private_text(&calibration, NEW_PERSON_TEXT);
    let mut per_message = 0;
    loop {
        let wait = if per_message == 0 {
            STEP_TIMEOUT
        } else {
            QUIET
        };
        match tokio::time::timeout(wait, inbox.recv()).await {
            Ok(Some(_)) => per_message += 1,
            _ => break,
        }
    }
    if per_message == 0 {
        return Err(BenchError::Failed("no answer to a new person".into()));
    }
    let mut inboxes = Vec::with_capacity(users);
    for i in 0..users {
        let id = FIRST_USER + 1 + i as i64;
        inboxes.push((
            FakeUser::new(id, "Matti", Some("fi")),
            mailbox(mailboxes, id),
        ));
    }
    let started = Instant::now();
    let mut people = Vec::with_capacity(users);
    for (user, mut inbox) in inboxes {
        let fake = fake.clone();
        people.push(tokio::spawn(async move {
            let began = std::time::Instant::now();
            fake.send_private_text(&user, NEW_PERSON_TEXT);
            fake.send_private_text(&user, NEW_PERSON_TEXT);
            let mut answered = began;
            for _ in 0..2 * per_message {
                match tokio::time::timeout(STEP_TIMEOUT, inbox.recv()).await {
                    Ok(Some(message)) => answered = answered.max(message.received_at),
                    _ => {
                        return Err(BenchError::Failed(format!(
                            "user {}: no complete answer within {STEP_TIMEOUT:?}",
                            user.id
                        )));
                    }
                }
            }
            let ms = (answered - began).as_secs_f64() * 1000.0;
            Ok::<_, BenchError>([ms, ms])
        }));
    }
    let mut latencies = Vec::with_capacity(users * 2);
    for person in people {
        let person = person
            .await
            .map_err(|e| BenchError::Failed(format!("a virtual person failed: {e}")))?;
        latencies.extend(person?);
    }
    Ok((latencies, started.elapsed().as_secs_f64()))
}

/// One virtual person's registration; returns the latency of each step in ms. Stops before a step once
/// `stopped` says so (the person is left registering).
pub(super) async fn register(
    fake: &FakeTelegram,
    user: FakeUser,
    mut inbox: mpsc::UnboundedReceiver<SentMessage>,
    expected: &[usize],
    think_ms: u64,
    stopped: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<f64>, BenchError> {
    let mut last: Option<SentMessage> = None;
    let mut latencies = Vec::with_capacity(STEPS.len());
    for (n, (step, wanted)) in STEPS.iter().zip(expected).enumerate() {
        tokio::time::sleep(think_time(think_ms, user.id, n)).await;
        if stopped() {
            break;
        }
        let began = std::time::Instant::now();
        act(fake, &user, *step, last.as_ref())?;
        let mut answered = began;
        for _ in 0..*wanted {
            match tokio::time::timeout(STEP_TIMEOUT, inbox.recv()).await {
                Ok(Some(message)) => {
                    // The answer is complete when its last message reached the fake; how soon this task
                    // then runs is the benchmark's own scheduling, not the bot's latency.
                    answered = answered.max(message.received_at);
                    last = Some(message);
                }
                _ => {
                    return Err(BenchError::Failed(format!(
                        "user {}: no complete answer to {step:?} within {STEP_TIMEOUT:?}",
                        user.id
                    )));
                }
            }
        }
        latencies.push((answered - began).as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

/// A person's pause before step `step`: `think_ms` on average, spread ±50 % between people and steps by a
/// fixed hash (so runs are comparable) and so that people do not move in lockstep.
pub(crate) fn think_time(think_ms: u64, user: i64, step: usize) -> Duration {
    let spread = (user.unsigned_abs() * 7919 + step as u64 * 104_729) % 1000;
    Duration::from_millis(think_ms / 2 + think_ms * spread / 1000)
}

fn act(
    fake: &FakeTelegram,
    user: &FakeUser,
    action: Action,
    last: Option<&SentMessage>,
) -> Result<(), BenchError> {
    match action {
        Action::Text(text) => {
            fake.send_private_text(user, text);
        }
        Action::Press(label) => {
            let (message, data) = last
                .and_then(|m| m.button_data(label).map(|data| (m.message_id, data)))
                .ok_or_else(|| BenchError::Failed(format!("no button '{label}' to press")))?;
            fake.press_button(user, message, &data);
        }
    }
    Ok(())
}
