//! Injected time: services and the scheduler ask a `Clock`, never `Utc::now()` directly.
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
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
}
