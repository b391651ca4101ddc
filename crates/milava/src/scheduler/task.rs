//! The scheduler task: one full pass (`run::run_once`) whenever it is woken — at start-up, when the clock
//! reaches the next planned moment, or when something changed (registration, `/reminders`, `/leave`,
//! `/reload`, a broadcast) — and, while a broadcast runs, a progress update every `progress_tick`
//! (`progress::TICK` in production).
use super::{progress, run};
use crate::services::Ctx;
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// If a pass fails (say, the disk is full), it is tried again after this long.
const RETRY_AFTER_ERROR: std::time::Duration = std::time::Duration::from_secs(30);

pub struct SchedulerHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

pub fn spawn(ctx: Ctx, progress_tick: std::time::Duration) -> SchedulerHandle {
    let (stop, stopped) = watch::channel(false);
    SchedulerHandle {
        stop,
        task: Some(tokio::spawn(run_loop(ctx, progress_tick, stopped))),
    }
}

impl SchedulerHandle {
    /// Ends the loop between passes (a pass is one transaction per step, so stopping never leaves half a
    /// decision behind).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for SchedulerHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

enum Woken {
    Pass,
    Tick,
    Stop,
}

async fn run_loop(
    ctx: Ctx,
    progress_tick: std::time::Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut full_pass = true;
    let mut next_run: Option<DateTime<Utc>> = None;
    let mut failing = false;
    let mut memory = run::Memory::default();
    loop {
        let now = ctx.clock.now();
        let seen = ctx.scheduler.begin();
        if full_pass {
            match run::run_pass(&ctx, now, &mut memory).await {
                Ok(report) => {
                    if failing {
                        log::info!("scheduler recovered");
                        failing = false;
                    }
                    if report
                        != (run::PassReport {
                            next_run: report.next_run,
                            ..Default::default()
                        })
                    {
                        log::info!("scheduler pass: {report:?}");
                    }
                    next_run = report.next_run;
                }
                Err(e) => {
                    if !failing {
                        log::error!(
                            "scheduler pass failed (retrying every {} s): {e}",
                            RETRY_AFTER_ERROR.as_secs()
                        );
                    }
                    failing = true;
                }
            }
        }
        let running = match progress::update(&ctx, now).await {
            Ok(running) => running,
            Err(e) => {
                log::warn!("broadcast progress not updated: {e}");
                false
            }
        };
        let scheduled = crate::db::broadcasts::next_scheduled(&ctx.pool)
            .await
            .ok()
            .flatten()
            .filter(|t| *t > now);
        let wake_at = [next_run, scheduled].into_iter().flatten().min();
        ctx.metrics.set_scheduler_next_run(wake_at);
        if full_pass {
            ctx.scheduler.answered(seen);
        }
        let woken = tokio::select! {
            _ = stopped.changed() => Woken::Stop,
            _ = ctx.scheduler.woken() => Woken::Pass,
            _ = sleep_until(&ctx, wake_at) => Woken::Pass,
            _ = tokio::time::sleep(if failing { RETRY_AFTER_ERROR } else { progress_tick }), if running || failing => {
                if failing { Woken::Pass } else { Woken::Tick }
            }
        };
        match woken {
            Woken::Stop => return,
            Woken::Pass => full_pass = true,
            Woken::Tick => full_pass = false,
        }
    }
}

async fn sleep_until(ctx: &Ctx, at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => ctx.clock.sleep_until(at).await,
        None => std::future::pending().await,
    }
}
