//! Injected time: services and the scheduler ask a `Clock`, never `Utc::now()` directly.
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Completes once `now() >= deadline`. The scheduler and the delivery worker sleep with this, so a
    /// manual clock moved forward wakes them at once.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_>;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        Box::pin(async move {
            // Re-check after waking: the wall clock may have been adjusted meanwhile.
            while Utc::now() < deadline {
                let left = (deadline - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(left.min(std::time::Duration::from_secs(3600))).await;
            }
        })
    }
}

/// A clock that only moves when told to (tests and the simulator). Watchers are woken on every move.
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    moved: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        let (moved, _) = watch::channel(start);
        Self {
            now: Arc::new(Mutex::new(start)),
            moved,
        }
    }

    /// Moves the clock to `to`; a time in the past is ignored and returns false.
    pub fn set(&self, to: DateTime<Utc>) -> bool {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if to < *now {
            return false;
        }
        *now = to;
        self.moved.send_replace(to);
        true
    }

    pub fn advance(&self, by: chrono::Duration) {
        let to = self.now() + by;
        self.set(to);
    }

    /// A receiver that changes whenever the clock moves.
    pub fn watch(&self) -> watch::Receiver<DateTime<Utc>> {
        self.moved.subscribe()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        let mut moved = self.watch();
        Box::pin(async move {
            while self.now() < deadline {
                if moved.changed().await.is_err() {
                    // The clock is gone: nothing will ever move it again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_forward_only() {
        let start = Utc.with_ymd_and_hms(2024, 3, 12, 6, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        clock.advance(chrono::Duration::hours(2));
        assert_eq!(clock.now(), start + chrono::Duration::hours(2));
        assert!(!clock.set(start));
        assert_eq!(clock.now(), start + chrono::Duration::hours(2));
    }

    #[tokio::test]
    async fn sleeping_on_a_manual_clock_ends_when_it_is_moved_past_the_deadline() {
        let start = Utc.with_ymd_and_hms(2024, 3, 12, 6, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        let deadline = start + chrono::Duration::minutes(30);
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(deadline).await })
        };
        clock.advance(chrono::Duration::minutes(10));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(chrono::Duration::minutes(20));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeper)
            .await
            .unwrap()
            .unwrap();
    }
}
