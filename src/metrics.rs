//! Counters the bot keeps about itself: how many updates it has finished handling. Tests and benchmarks
//! wait on them instead of sleeping.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct Metrics {
    handled: AtomicU64,
    /// Updates dropped at intake (over a person's budget, or their lane full); they count as handled too.
    dropped: AtomicU64,
    changed: Notify,
    /// Sign-in links of the console that were refused (unknown, used before, expired).
    console_links_refused: AtomicU64,
    /// Sign-in attempts answered 429 (too many bad links from one address, or from all).
    console_rate_limited: AtomicU64,
    /// When the scheduler will next act by itself (the simulator stops its clock there).
    scheduler_next_run: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

impl Metrics {
    pub fn update_handled(&self) {
        self.handled.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// An update was dropped at intake: it is done with, as if handled.
    pub fn update_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
        self.update_handled();
    }

    /// How many updates were dropped at intake.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::SeqCst)
    }

    pub fn set_scheduler_next_run(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        *self
            .scheduler_next_run
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn scheduler_next_run(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        *self
            .scheduler_next_run
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn console_link_refused(&self) {
        self.console_links_refused.fetch_add(1, Ordering::SeqCst);
    }

    pub fn console_links_refused(&self) -> u64 {
        self.console_links_refused.load(Ordering::SeqCst)
    }

    pub fn console_rate_limited(&self) {
        self.console_rate_limited.fetch_add(1, Ordering::SeqCst);
    }

    pub fn console_rate_limits(&self) -> u64 {
        self.console_rate_limited.load(Ordering::SeqCst)
    }

    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` updates have been handled; false if `timeout` passes first.
    pub async fn wait_handled(&self, count: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.handled() >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.handled() >= count;
            }
        }
    }
}
