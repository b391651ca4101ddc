//! `milava-bot bench <scenario>`: benchmarks run on demand (never as timed tests in CI). Each runs the real
//! code against the in-process fake Bot API on 127.0.0.1 and prints one JSON line.
pub mod broadcast;
pub mod console;
mod console_seed;
pub mod flood;
pub mod interactive;
pub mod plan;

use clap::Subcommand;

#[derive(Clone, Debug, Subcommand)]
pub enum Scenario {
    /// A coordinator's broadcast to N recipients with Telegram's flood limits on in the fake: throughput as a
    /// fraction of the rate ceiling, 429s, peak memory, and interactive reply latency meanwhile.
    Broadcast {
        #[arg(long, default_value_t = 10_000)]
        recipients: usize,
        /// People chatting meanwhile, each sending `/help` once every `chat_period_ms`, staggered evenly.
        #[arg(long, default_value_t = 5)]
        chatters: usize,
        #[arg(long, default_value_t = 1_000)]
        chat_period_ms: u64,
    },
    /// Planning reminders for N participants across M sessions: time, rows planned, peak memory, and the
    /// scheduler's CPU use while idle.
    Plan {
        #[arg(long, default_value_t = 10_000)]
        participants: usize,
        #[arg(long, default_value_t = 50)]
        sessions: usize,
    },
    /// K people registering at once (Telegram's limits off) on top of `registered` people already in the
    /// database: updates handled per second, reply latency percentiles, peak memory.
    Interactive {
        #[arg(long, default_value_t = 1_000)]
        users: usize,
        #[arg(long, default_value_t = 10_000)]
        registered: usize,
        /// Each person's pause between answering and their next step, on average (0: none, everyone is
        /// always waiting for the bot, which measures the most updates per second; with pauses, the latency a
        /// person feels at that load). Pauses vary ±50 % between people and steps.
        #[arg(long, default_value_t = 0)]
        think_ms: u64,
        /// Instead of registering: `users` people who never wrote before each send two messages at the same
        /// moment (each is answered as an unregistered person's message is).
        #[arg(long)]
        new_people: bool,
    },
    /// The coordinators' web console with `people` people in the database while people chat: every page's
    /// latency (p50/p99/max) and the chat's reply latency alone and with the console in use.
    Console {
        #[arg(long, default_value_t = 10_000)]
        people: usize,
        /// Chat updates a second, about (people registering, 0.85 s between steps). The default is a busy
        /// season's peak with room to spare: 14 registrations a second would register all 10,000 people in
        /// 12 minutes (docs/performance.md); 1000 is `bench interactive`'s pace, a stress test.
        #[arg(long, default_value_t = 100)]
        chat_rate: usize,
        /// How long each phase lasts (chat alone, then chat with the console).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Each console client's rounds over every page, at least (phase 2 lasts until both are done).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Coordinators using the console at once, each with a client of its own (default: one a partner).
        #[arg(long, default_value_t = 5)]
        coordinators: usize,
        /// Each coordinator's average pause between two pages (±50 %); 0: page after page, no pause.
        #[arg(long, default_value_t = 1000)]
        pause_ms: u64,
    },
    /// One person sends `messages` texts as fast as possible while `others` people chat normally (`/help`,
    /// wait for the answer, pause, `rounds` times): the others' reply latency and unanswered messages, what
    /// the flooder got back, peak memory.
    Flood {
        #[arg(long, default_value_t = 1_000)]
        messages: usize,
        #[arg(long, default_value_t = 100)]
        others: usize,
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// The others' pause between an answer and their next message, on average (±50 %).
        #[arg(long, default_value_t = 1_000)]
        think_ms: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Startup(#[from] milava_bot::startup::StartupError),
    #[error("{0}")]
    Start(#[from] crate::bot::StartError),
    #[error("{0}")]
    Db(#[from] milava_bot::db::DbError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Failed(String),
}

/// The benchmarks run on today's clock, which may be past the programme's end (when fathers are no longer
/// registered and are erased): they measure load, so they use a copy of the content (in the returned
/// directory, kept while it lives) whose programme runs for ever.
pub fn content_with_programme_running(
    dialogues: &std::path::Path,
) -> std::io::Result<tempfile::TempDir> {
    fn copy(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), target)?;
            }
        }
        Ok(())
    }
    let dir = tempfile::tempdir()?;
    copy(dialogues, dir.path())?;
    let meta = dir.path().join("content.toml");
    let text: String = std::fs::read_to_string(&meta)?
        .lines()
        .map(|line| match line.starts_with("programme_ends") {
            true => "programme_ends = 9999-12-30\n".to_string(),
            false => format!("{line}\n"),
        })
        .collect();
    std::fs::write(meta, text)?;
    Ok(dir)
}

/// Runs one scenario; the result is the JSON line to print.
pub async fn run(
    config: milava_bot::config::Config,
    scenario: Scenario,
) -> Result<serde_json::Value, BenchError> {
    match scenario {
        Scenario::Broadcast {
            recipients,
            chatters,
            chat_period_ms,
        } => {
            let period = std::time::Duration::from_millis(chat_period_ms.max(1));
            broadcast::run(config, recipients, chatters, period).await
        }
        Scenario::Plan {
            participants,
            sessions,
        } => plan::run(config, participants, sessions).await,
        Scenario::Interactive {
            users,
            registered,
            think_ms,
            new_people,
        } => interactive::run(config, users, registered, think_ms, new_people).await,
        Scenario::Console {
            people,
            chat_rate,
            seconds,
            rounds,
            coordinators,
            pause_ms,
        } => {
            let use_ = console::ConsoleUse {
                rounds,
                coordinators,
                pause: std::time::Duration::from_millis(pause_ms),
            };
            console::run(config, people, chat_rate, seconds, use_).await
        }
        Scenario::Flood {
            messages,
            others,
            rounds,
            think_ms,
        } => flood::run(config, messages, others, rounds, think_ms).await,
    }
}

/// Inserts `n` registered fathers with ids from `first` on, in transactions of a thousand (the population a
/// benchmark runs against).
pub(crate) async fn seed_fathers(
    pool: &milava_bot::db::Db,
    first: i64,
    n: usize,
) -> Result<(), BenchError> {
    use milava_bot::clock::{Clock, SystemClock};
    use milava_bot::domain::{Lang, Participant, Role};
    let now = SystemClock.now();
    let ids: Vec<i64> = (0..n as i64).map(|i| first + i).collect();
    for chunk in ids.chunks(1000) {
        let mut tx = milava_bot::db::begin_write(pool).await?;
        for id in chunk {
            milava_bot::db::users::touch(&mut tx, *id, *id, Lang::Fi, now).await?;
            let participant = Participant {
                telegram_user_id: *id,
                role: Role::Father,
                name: format!("Isä {id}"),
                area: Some("oulu".into()),
                wants: None,
                organisation: None,
                profession: None,
                email: None,
                series_id: None,
                group_id: None,
                privacy_version: "bench".into(),
                consent_at: now,
                research_consent: false,
                research_consent_at: None,
                registered_at: now,
                updated_at: now,
            };
            milava_bot::db::participants::insert(&mut tx, &participant).await?;
        }
        tx.commit().await.map_err(milava_bot::db::DbError::from)?;
    }
    Ok(())
}

/// Peak resident memory of this process so far, in MiB (Linux: VmHWM).
/// The nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub fn peak_rss_mib() -> Option<f64> {
    peak_rss_mib_of("/proc/self/status")
}

/// The peak RSS (VmHWM) in a Linux `/proc/<pid>/status` file, in MiB.
pub fn peak_rss_mib_of(status_file: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time used by this process so far, in seconds (Linux: utime + stime from /proc/self/stat).
pub fn cpu_seconds() -> Option<f64> {
    cpu_seconds_of("/proc/self/stat")
}

/// CPU time used so far by the process whose `/proc/<pid>/stat` this is, in seconds.
pub fn cpu_seconds_of(stat_file: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_file).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
