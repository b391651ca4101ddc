//! `bench plan`: how long the scheduler takes to plan reminders and check-in prompts for many people, and whether
//! it really sleeps when nothing is due.
//!
//! A temporary database gets `participants` professionals enrolled in one synthetic series of `sessions`
//! sessions (8–12 every other day from Monday 5.2.2024, so 50 sessions run to mid-May, on both sides of the
//! change to summer time on 31.3.2024); it replaces the series of the loaded content. Then
//! `scheduler::run::run_once` is timed on a manual clock at every moment the scheduler itself would wake
//! (each pass says when the next is needed: when the next reminder or prompt enters the 48-hour horizon, and
//! the end of the series for certificates), from a week before the first session to after the last. Between
//! passes every row that has fallen due is marked sent and rows past `DELIVERY_RETENTION_DAYS` are pruned,
//! standing in for the delivery worker (not timed).
//!
//! Idle CPU: the real scheduler task then runs on a clock that follows the wall clock from a moment inside the
//! series with nothing due for hours; the process's CPU time is sampled over `IDLE_SAMPLE` of real time.
use super::{BenchError, cpu_seconds, peak_rss_mib, percentile};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use milava_bot::clock::{Clock, ManualClock, Sleep, SystemClock};
use milava_bot::config::Config;
use milava_bot::content::Content;
use milava_bot::db::{self, DbError};
use milava_bot::domain::enrolment::{Enrolment, EnrolmentStatus};
use milava_bot::domain::programme::{Series, Session};
use milava_bot::domain::time::local_to_utc;
use milava_bot::domain::{Lang, Participant, Role};
use milava_bot::services::Ctx;
use serde_json::json;

use std::sync::Arc;
use std::time::Instant;

/// How long the idle scheduler is watched.
const IDLE_SAMPLE: std::time::Duration = std::time::Duration::from_secs(5);
/// A safety stop for the walk (a pass that never says "later" would otherwise loop).
const MAX_PASSES: usize = 100_000;

pub async fn run(
    config: Config,
    participants: usize,
    sessions: usize,
) -> Result<serde_json::Value, BenchError> {
    if sessions == 0 {
        return Err(BenchError::Failed("--sessions must be at least 1".into()));
    }
    let dir = tempfile::tempdir()?;
    let mut config = config;
    config.database_url = format!("sqlite://{}", dir.path().join("bench-plan.db").display());
    let tz = config.timezone;
    let pool = db::connect(&config.database_url).await?;
    let mut content = milava_bot::content::load(&config.dialogues_dir)
        .map_err(milava_bot::startup::StartupError::from)?;
    let series = synthetic_series(&content, sessions)?;
    content.series = vec![series.clone()];
    let first = local_to_utc(tz, series.sessions[0].start);
    let start = first - Duration::days(7);
    seed(&pool, &series, participants, start).await?;
    eprintln!(
        "bench plan: {participants} participants enrolled in {sessions} sessions ({} – {})",
        series.sessions[0].start.date(),
        series.sessions[sessions - 1].start.date()
    );

    let clock = ManualClock::new(start);
    let ctx = Ctx::new(
        pool.clone(),
        content,
        Arc::new(clock.clone()),
        config.clone(),
    );

    let probe = WriteProbe::start(pool.clone());
    let retention = Duration::days(i64::from(config.delivery_retention_days));
    let mut passes: Vec<f64> = Vec::new();
    let mut rows_planned = 0usize;
    let mut certificates_passes = 0usize;
    let mut now = start;
    loop {
        clock.set(now);
        let began = Instant::now();
        let report = milava_bot::scheduler::run::run_once(&ctx, now).await?;
        passes.push(began.elapsed().as_secs_f64());
        rows_planned += report.planned;
        if report.certificates > 0 {
            certificates_passes += 1;
        }
        match report.next_run {
            Some(next) if next > now && passes.len() < MAX_PASSES => {
                probe.measure(false);
                milava_bot::db::outbox::pretend_due_sent(&pool, next).await?;
                milava_bot::db::outbox::prune(&pool, next - retention).await?;
                // A wait that began during the stand-in work is not counted either.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                probe.measure(true);
                now = next;
            }
            _ => break,
        }
    }
    let mut write_waits = probe.stop().await;
    write_waits.sort_by(f64::total_cmp);
    let walk_seconds: f64 = passes.iter().sum();
    let first_pass_ms = passes.first().copied().unwrap_or_default() * 1000.0;
    let mean_pass_ms = walk_seconds * 1000.0 / passes.len() as f64;
    let max_pass_ms = passes.iter().copied().fold(0.0, f64::max) * 1000.0;
    let expected = participants * sessions * (ctx.content.get().reminder_offsets.len() + 1);
    if rows_planned != expected {
        return Err(BenchError::Failed(format!(
            "planned {rows_planned} rows, expected {expected} (every reminder and prompt once)"
        )));
    }
    eprintln!(
        "bench plan: {} passes, {rows_planned} rows planned in {walk_seconds:.2} s (first {first_pass_ms:.0} ms, mean {mean_pass_ms:.0} ms, max {max_pass_ms:.0} ms); {certificates_passes} certificate pass(es)",
        passes.len()
    );

    let idle_cpu_percent = idle_cpu(&ctx, &series).await?;
    pool.close().await;
    Ok(json!({
        "scenario": "plan",
        "participants": participants,
        "sessions": sessions,
        "rows_planned": rows_planned,
        "passes": passes.len(),
        "first_pass_ms": round(first_pass_ms, 1),
        "mean_pass_ms": round(mean_pass_ms, 1),
        "max_pass_ms": round(max_pass_ms, 1),
        "walk_seconds": round(walk_seconds, 2),
        "user_write_wait_p99_ms": percentile(&write_waits, 99.0).map(|ms| round(ms, 1)),
        "user_write_wait_max_ms": percentile(&write_waits, 100.0).map(|ms| round(ms, 1)),
        "peak_rss_mib": peak_rss_mib().map(|m| round(m, 1)),
        "idle_cpu_percent": idle_cpu_percent.map(|c| round(c, 2)),
    }))
}

/// Stands in for users' inputs during the walk: a tiny write transaction every 5 ms, timing how long it waits
/// for the database (the scheduler's pass holds the write lock while it writes).
struct WriteProbe {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Vec<f64>>,
    /// Off while the benchmark itself writes between passes (its stand-in for the delivery worker).
    measuring: Arc<std::sync::atomic::AtomicBool>,
}

impl WriteProbe {
    fn start(pool: milava_bot::db::Db) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let measuring = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let on = measuring.clone();
        let task = tokio::spawn(async move {
            let mut waits = Vec::new();
            while !*stopped.borrow() {
                let began = Instant::now();
                if let Ok(tx) = db::begin_write(&pool).await {
                    let _ = tx.commit().await;
                    if on.load(std::sync::atomic::Ordering::SeqCst) {
                        waits.push(began.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                let _ =
                    tokio::time::timeout(std::time::Duration::from_millis(5), stopped.changed())
                        .await;
            }
            waits
        });
        WriteProbe {
            stop,
            task,
            measuring,
        }
    }

    fn measure(&self, on: bool) {
        self.measuring
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    async fn stop(self) -> Vec<f64> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// A series like the shipped ones (texts, place, online follow-ups), with `n` sessions 8–12 local time every
/// other day from Monday 5.2.2024.
fn synthetic_series(content: &Content, n: usize) -> Result<Series, BenchError> {
    let mut series =
        content.series.first().cloned().ok_or_else(|| {
            BenchError::Failed("the content has no workshop series to copy".into())
        })?;
    let templates = series.sessions.clone();
    if templates.is_empty() {
        return Err(BenchError::Failed(
            "the first series has no sessions".into(),
        ));
    }
    let first_day = NaiveDate::from_ymd_opt(2024, 2, 5).expect("a valid date");
    series.id = "bench".into();
    series.code = "bench".into();
    series.capacity = None;
    series.certificate_min_sessions = Some(n.min(4) as u32);
    series.sessions = (0..n)
        .map(|i| {
            let day = first_day + Duration::days(2 * i as i64);
            let template = &templates[i.min(templates.len() - 1)];
            Session {
                id: format!("bench-{}", i + 1),
                start: day.and_hms_opt(8, 0, 0).expect("a valid time"),
                end: day.and_hms_opt(12, 0, 0).expect("a valid time"),
                ..template.clone()
            }
        })
        .collect();
    Ok(series)
}

/// `n` registered professionals (half Finnish, half English), all enrolled, in one transaction.
async fn seed(
    pool: &milava_bot::db::Db,
    series: &Series,
    n: usize,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let began = Instant::now();
    let mut tx = db::begin_write(pool).await?;
    for i in 0..n {
        let id = 1_000_000 + i as i64;
        let lang = if i % 2 == 0 { Lang::Fi } else { Lang::En };
        milava_bot::db::users::touch(&mut tx, id, id, lang, now).await?;
        milava_bot::db::participants::insert(
            &mut tx,
            &Participant {
                telegram_user_id: id,
                role: Role::Professional,
                name: format!("Osallistuja {i}"),
                area: Some(series.area.clone()),
                wants: None,
                organisation: Some("Oulun kaupunki".into()),
                profession: Some("health_care".into()),
                email: Some(format!("osallistuja{i}@example.fi")),
                series_id: Some(series.id.clone()),
                group_id: None,
                privacy_version: "bench".into(),
                consent_at: now,
                research_consent: false,
                research_consent_at: None,
                registered_at: now,
                updated_at: now,
            },
        )
        .await?;
        milava_bot::db::programme::put_enrolment(
            &mut tx,
            &Enrolment {
                telegram_user_id: id,
                series_id: series.id.clone(),
                status: EnrolmentStatus::Enrolled,
                offered_until: None,
                queued_at: now,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    eprintln!(
        "bench plan: seeded in {:.2} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The wall clock, moved by a fixed amount (so "now" can be inside the 2024 series).
struct ShiftedClock {
    by: Duration,
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.by
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        Box::pin(SystemClock.sleep_until(deadline - self.by))
    }
}

/// CPU use of the process, in percent of one core, while the real scheduler task waits with nothing due:
/// its clock follows the wall clock from 10.00 local time on the day of the series' middle session, when
/// everything until the next day's reminders has been planned.
async fn idle_cpu(ctx: &Ctx, series: &Series) -> Result<Option<f64>, BenchError> {
    let middle = &series.sessions[series.sessions.len() / 2];
    let at = local_to_utc(
        ctx.config.timezone,
        middle
            .start
            .date()
            .and_hms_opt(10, 0, 0)
            .expect("a valid time"),
    );
    let clock = ShiftedClock {
        by: at - Utc::now(),
    };
    let ctx = Ctx {
        clock: Arc::new(clock),
        scheduler: Default::default(),
        faults: Default::default(),
        handling: Default::default(),
        send_budget: Default::default(),
        metrics: Default::default(),
        ..ctx.clone()
    };
    let handle = milava_bot::scheduler::spawn(ctx.clone(), milava_bot::scheduler::progress::TICK);
    // Wait for the task's first pass (it publishes when it will wake next). Ringing the doorbell instead
    // would leave a ring for one more pass, which would then fall into the sample.
    let began = Instant::now();
    while ctx.metrics.scheduler_next_run().is_none() {
        if began.elapsed() > std::time::Duration::from_secs(60) {
            return Err(BenchError::Failed(
                "the scheduler's first pass did not finish in 60 s".into(),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let next = ctx.metrics.scheduler_next_run();
    eprintln!(
        "bench plan: idle scheduler at {} (next wake-up {}); sampling CPU for {} s",
        ctx.clock.now().with_timezone(&ctx.config.timezone),
        next.map(|n| n.with_timezone(&ctx.config.timezone).to_string())
            .unwrap_or_else(|| "never".into()),
        IDLE_SAMPLE.as_secs()
    );
    let before = cpu_seconds();
    let began = Instant::now();
    tokio::time::sleep(IDLE_SAMPLE).await;
    let after = cpu_seconds();
    let elapsed = began.elapsed().as_secs_f64();
    handle.stop().await;
    Ok(before
        .zip(after)
        .map(|(before, after)| (after - before) / elapsed * 100.0))
}
