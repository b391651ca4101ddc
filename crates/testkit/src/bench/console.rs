//! `bench console`: the coordinators' web console with a big season in the database while people chat.
//!
//! `people` people are written into a temporary database first (`console_seed`: fathers and professionals
//! over the series and peer groups, some registering, some unreachable, attendance, survey answers, audit
//! lines, outbox rows). The bot then runs as its own process (`milava-bot run`, as in `bench interactive`)
//! with the console on 127.0.0.1, and a coordinator signs in as a person does: `/admin` in chat, the link's
//! button.
//!
//! Chat traffic is `bench interactive`'s: virtual people register (seven updates each, 0.85 s ±50 % between
//! steps, a new person after each finished one; the first steps spread over one pause), as many as make
//! about `chat_rate` updates a second.
//! After a warm-up (the chat for up to 20 s, unmeasured), phase 1: the chat alone for `seconds`. Phase 2: the same chat while one console client asks for every page
//! in turn (`pages`), round after round, for `seconds` and at least `rounds` rounds. Page latency is from the
//! request to the last byte of the answer; chat latency as in `bench interactive` (queued at the fake to the
//! last message of the answer). Every page must answer 200 (else the run fails, naming it).
use super::console_seed::{Season, seed};

/// The chat runs this long, unmeasured, before phase 1 (at most a phase's length).
const WARM_UP: Duration = Duration::from_secs(20);
use super::interactive::{
    BotProcess, Mailboxes, calibrate, mailbox, register, spawn_collector, think_time,
};
use super::{BenchError, percentile};
use fake_telegram::{FakeTelegram, FakeUser};
use milava_bot::config::Config;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

const COORDINATOR: i64 = 900_000_001;
/// Chatting people's ids start after this (3,000,000 is `bench interactive`'s calibration person).
const FIRST_CHATTER: i64 = 3_000_000;
const FIRST_PERSON: i64 = 5_000_000;
/// Each chatting person's average pause between steps.
const THINK_MS: u64 = 850;

/// How the console is used in phase 2: `coordinators` clients at once, each asking for every page in turn
/// (each starting at another page) for at least `rounds` rounds, with `pause` ±50 % between two pages (zero:
/// page after page).
#[derive(Clone, Copy, Debug)]
pub struct ConsoleUse {
    pub rounds: usize,
    pub coordinators: usize,
    pub pause: Duration,
}

pub async fn run(
    mut config: Config,
    people: usize,
    chat_rate: usize,
    seconds: u64,
    console_use: ConsoleUse,
) -> Result<serde_json::Value, BenchError> {
    if people == 0 {
        return Err(BenchError::Failed("--people must be at least 1".into()));
    }
    let dir = super::content_with_programme_running(&config.dialogues_dir)?;
    config.dialogues_dir = dir.path().to_path_buf();
    let content = milava_bot::content::load(&config.dialogues_dir)
        .map_err(milava_bot::startup::StartupError::from)?;
    let fake = FakeTelegram::start().await?;
    fake.set_request_log(false);
    let db_dir = tempfile::tempdir()?;
    let database_url = format!(
        "sqlite://{}",
        db_dir.path().join("bench-console.db").display()
    );
    let seeding = Instant::now();
    let season = {
        let pool = milava_bot::db::connect(&database_url).await?;
        let season = seed(&pool, &content, FIRST_PERSON, people, COORDINATOR).await?;
        pool.close().await;
        season
    };
    eprintln!(
        "bench console: {people} people seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}/");
    let settings = [
        ("ADMIN_ADDR", format!("127.0.0.1:{port}")),
        ("ADMIN_PUBLIC_URL", base.clone()),
        ("COORDINATOR_IDS", COORDINATOR.to_string()),
    ];
    let mailboxes: Mailboxes = Default::default();
    let collector = spawn_collector(&fake, mailboxes.clone());
    let bot = BotProcess::start_with(&config, &fake, &database_url, &settings).await?;
    let result = measure(
        &fake,
        &mailboxes,
        &base,
        &season,
        chat_rate,
        seconds,
        console_use,
    )
    .await;
    let bot_rss = bot.peak_rss_mib();
    let bot_cpu = bot.cpu_seconds();
    let stopped = bot.stop().await;
    collector.abort();
    let measured = result?;
    stopped?;

    let round = |x: f64| (x * 10.0).round() / 10.0;
    let stats = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (
            percentile(&v, 50.0).map(round),
            percentile(&v, 99.0).map(round),
            percentile(&v, 100.0).map(round),
            v.len(),
        )
    };
    let mut pages = serde_json::Map::new();
    let mut table =
        String::from("page                                   n   p50 ms   p99 ms   max ms\n");
    let mut worst: Option<f64> = None;
    for (name, times) in measured.pages {
        let (p50, p99, max, n) = stats(times);
        if let Some(p) = p99 {
            worst = Some(worst.map_or(p, |w: f64| w.max(p)));
        }
        table.push_str(&format!(
            "{name:<36} {n:>4} {:>8.1} {:>8.1} {:>8.1}\n",
            p50.unwrap_or(0.0),
            p99.unwrap_or(0.0),
            max.unwrap_or(0.0)
        ));
        pages.insert(
            name,
            json!({"n": n, "p50_ms": p50, "p99_ms": p99, "max_ms": max}),
        );
    }
    let (alone_p50, alone_p99, _, alone_n) = stats(measured.chat_alone.latencies);
    let (with_p50, with_p99, _, with_n) = stats(measured.chat_with_console.latencies);
    eprintln!("{table}");
    eprintln!(
        "chat alone: {alone_n} updates in {:.1} s, p50 {alone_p50:?} p99 {alone_p99:?} ms; with the console: \
         {with_n} updates in {:.1} s, p50 {with_p50:?} p99 {with_p99:?} ms",
        measured.chat_alone.seconds, measured.chat_with_console.seconds
    );
    let ratio = match (alone_p99, with_p99) {
        (Some(a), Some(w)) if a > 0.0 => Some((w / a * 100.0).round() / 100.0),
        _ => None,
    };
    let per_second = |n: usize, s: f64| if s > 0.0 { round(n as f64 / s) } else { 0.0 };
    Ok(json!({
        "scenario": "console",
        "people": people,
        "chat_rate": chat_rate,
        "seconds": seconds,
        "console_rounds": measured.rounds,
        "coordinators": console_use.coordinators.max(1),
        "pause_ms": console_use.pause.as_millis() as u64,
        "pages_per_second": per_second(measured.pages_asked, measured.chat_with_console.seconds),
        "pages": pages,
        "page_p99_max_ms": worst,
        "chat_alone_updates": alone_n,
        "chat_alone_updates_per_second": per_second(alone_n, measured.chat_alone.seconds),
        "chat_alone_p50_ms": alone_p50,
        "chat_alone_p99_ms": alone_p99,
        "chat_with_console_updates": with_n,
        "chat_with_console_updates_per_second": per_second(with_n, measured.chat_with_console.seconds),
        "chat_with_console_p50_ms": with_p50,
        "chat_with_console_p99_ms": with_p99,
        "chat_p99_ratio": ratio,
        "bot_peak_rss_mib": bot_rss.map(round),
        "bot_cpu_seconds": bot_cpu.map(|s| (s * 100.0).round() / 100.0),
    }))
}

struct Measured {
    pages: BTreeMap<String, Vec<f64>>,
    /// The fewest rounds a coordinator finished.
    rounds: usize,
    pages_asked: usize,
    chat_alone: Chat,
    chat_with_console: Chat,
}

struct Chat {
    latencies: Vec<f64>,
    seconds: f64,
}

async fn measure(
    fake: &FakeTelegram,
    mailboxes: &Mailboxes,
    base: &str,
    season: &Season,
    chat_rate: usize,
    seconds: u64,
    console_use: ConsoleUse,
) -> Result<Measured, BenchError> {
    let cookie = sign_in(fake, mailboxes, base).await?;
    let expected = Arc::new(calibrate(fake, mailboxes).await?);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| BenchError::Failed(format!("HTTP client: {e}")))?;
    let pages = pages(season);
    // Each page once before measuring, so every one is known to answer (and nothing is first-time slow).
    for (name, path) in &pages {
        fetch(&client, base, &cookie, name, path).await?;
    }
    let next_id = Arc::new(AtomicI64::new(FIRST_CHATTER + 1));
    // Each person makes about one update per (pause + answer) ≈ 0.85 s.
    let chatters = (chat_rate as u64 * THINK_MS).div_ceil(1000).max(1) as usize;
    // Unmeasured first: the bot's work after a start (the scheduler's first passes over a new season of
    // 10,000 people) is not the chat's everyday speed, and it would land in phase 1 only.
    let warm_up = WARM_UP.min(Duration::from_secs(seconds));
    eprintln!("bench console: warm-up, {chatters} people chatting for {warm_up:?}");
    chat(fake, mailboxes, &expected, &next_id, chatters, move || {
        Box::pin(tokio::time::sleep(warm_up))
    })
    .await?;
    eprintln!("bench console: phase 1, {chatters} people chatting for {seconds} s");
    let chat_alone = chat(fake, mailboxes, &expected, &next_id, chatters, || {
        Box::pin(tokio::time::sleep(Duration::from_secs(seconds)))
    })
    .await?;
    eprintln!("bench console: phase 2, the same while the console is used");
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let coordinators = console_use.coordinators.max(1);
    let clients = (0..coordinators).map(|c| {
        let (client, cookie, pages) = (&client, &cookie, &pages);
        async move {
            let mut times: Vec<(String, f64)> = Vec::new();
            let mut done = 0;
            // Each coordinator starts at another page, so they do not all ask for the same one at once.
            let first = c * pages.len() / coordinators;
            let pause_ms = console_use.pause.as_millis() as u64;
            while done < console_use.rounds.max(1) || Instant::now() < deadline {
                for i in 0..pages.len() {
                    let (name, path) = &pages[(first + i) % pages.len()];
                    let ms = fetch(client, base, cookie, name, path).await?;
                    times.push((name.clone(), ms));
                    if pause_ms > 0 {
                        let step = done * pages.len() + i;
                        tokio::time::sleep(think_time(pause_ms, c as i64, step)).await;
                    }
                }
                done += 1;
            }
            Ok::<_, BenchError>((times, done))
        }
    });
    let console = async {
        let results = futures::future::join_all(clients).await;
        let _ = done_tx.send(());
        let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut rounds = usize::MAX;
        let mut asked = 0;
        for result in results {
            let (client_times, done) = result?;
            rounds = rounds.min(done);
            asked += client_times.len();
            for (name, ms) in client_times {
                times.entry(name).or_default().push(ms);
            }
        }
        Ok::<_, BenchError>((times, rounds, asked))
    };
    let chatting = chat(fake, mailboxes, &expected, &next_id, chatters, move || {
        Box::pin(async move {
            let _ = done_rx.await;
        })
    });
    let (console, chat_with_console) = tokio::join!(console, chatting);
    let (times, rounds, pages_asked) = console?;
    Ok(Measured {
        pages: times,
        rounds,
        pages_asked,
        chat_alone,
        chat_with_console: chat_with_console?,
    })
}

/// The pages a coordinator opens, by name and address (relative to the console's root).
fn pages(season: &Season) -> Vec<(String, String)> {
    let series = &season.largest_series;
    let pages = vec![
        ("overview", "".to_string()),
        ("audit", "audit".into()),
        ("audit page 5", "audit?page=5".into()),
        ("audit filtered", "audit?action=attendance_changed".into()),
        ("programme", "programme".into()),
        ("programme series", format!("programme/series/{series}")),
        ("people", "people".into()),
        ("people page 100", "people?page=100".into()),
        ("people search", "people?q=Virtanen1".into()),
        ("people role", "people?role=professional".into()),
        ("people series", format!("people?series={series}")),
        ("people area", format!("people?area={}", season.area)),
        ("people group", format!("people?group={}", season.group)),
        ("person record", format!("people/{}", season.father)),
        ("attendance", "attendance".into()),
        ("attendance matrix", format!("attendance/{series}")),
        ("announcements", "announcements".into()),
        ("groups", "groups".into()),
        ("surveys", "surveys".into()),
        (
            "survey chart png",
            format!("surveys/{}/chart.png?scope=all", season.survey),
        ),
        ("participants xlsx", "downloads/participants.xlsx".into()),
        (
            "attendance xlsx",
            format!("downloads/attendance.xlsx?series={series}"),
        ),
    ];
    let mut pages: Vec<(String, String)> = pages
        .into_iter()
        .map(|(name, path)| (name.to_string(), path))
        .collect();
    for status in ["registered", "in_progress", "left", "unreachable"] {
        pages.push((
            format!("people status {status}"),
            format!("people?status={status}"),
        ));
    }
    pages
}

/// One GET with the session; its time in ms (to the last byte). Anything but 200 fails the run.
async fn fetch(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    name: &str,
    path: &str,
) -> Result<f64, BenchError> {
    let started = std::time::Instant::now();
    let failed = |e: String| BenchError::Failed(format!("console page '{name}' (/{path}): {e}"));
    let response = client
        .get(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| failed(e.to_string()))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status != reqwest::StatusCode::OK || body.is_empty() {
        return Err(failed(format!("answered {status}, {} bytes", body.len())));
    }
    Ok(ms)
}

/// The coordinator signs in as a person does: `/admin` in private chat, then the link's button.
async fn sign_in(
    fake: &FakeTelegram,
    mailboxes: &Mailboxes,
    base: &str,
) -> Result<String, BenchError> {
    let coordinator = FakeUser::new(COORDINATOR, "Koordinaattori", Some("fi"));
    let mut inbox = mailbox(mailboxes, COORDINATOR);
    fake.send_private_text(&coordinator, "/admin");
    let failed = |what: &str| BenchError::Failed(format!("signing in: {what}"));
    let link = loop {
        let message = tokio::time::timeout(Duration::from_secs(30), inbox.recv())
            .await
            .map_err(|_| failed("no answer to /admin"))?
            .ok_or_else(|| failed("no answer to /admin"))?;
        let text = message.text.unwrap_or_default();
        if let Some(at) = text.find(base) {
            let link: String = text[at..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            break link;
        }
    };
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| failed(&e.to_string()))?
        .post(&link)
        .form(&[("lang", "fi")])
        .send()
        .await
        .map_err(|e| failed(&e.to_string()))?;
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| failed(&format!("no session cookie ({})", response.status())))?;
    Ok(cookie.to_string())
}

/// `chatters` people register one after another (a new person after each finished one) until `until`
/// completes; every update's latency and the phase's wall time.
async fn chat<F>(
    fake: &FakeTelegram,
    mailboxes: &Mailboxes,
    expected: &Arc<Vec<usize>>,
    next_id: &Arc<AtomicI64>,
    chatters: usize,
    until: impl FnOnce() -> F,
) -> Result<Chat, BenchError>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(chatters);
    for i in 0..chatters {
        let (fake, mailboxes, expected) = (fake.clone(), mailboxes.clone(), expected.clone());
        let (next_id, stop) = (next_id.clone(), stop.clone());
        // Their first steps spread over one pause, as people's are, not all in the same millisecond (which
        // measures a queue of hundreds, not the chat).
        let first = Duration::from_millis(THINK_MS * i as u64 / chatters as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(first).await;
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                let inbox = mailbox(&mailboxes, id);
                let user = FakeUser::new(id, "Matti", Some("fi"));
                let stopped = || stop.load(Ordering::Relaxed);
                latencies
                    .extend(register(&fake, user, inbox, &expected, THINK_MS, &stopped).await?);
                mailboxes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            }
            Ok::<_, BenchError>(latencies)
        }));
    }
    until().await;
    stop.store(true, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    for task in tasks {
        let person = task
            .await
            .map_err(|e| BenchError::Failed(format!("a chatting person failed: {e}")))?;
        latencies.extend(person?);
    }
    Ok(Chat { latencies, seconds })
}
