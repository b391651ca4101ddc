//! A per-person budget for incoming updates: a token bucket for each key (a person, a group's join requests)
//! that holds at most `burst` tokens and gains `per_second` a second; every update takes one. Also whether a
//! "please slow down" notice is due (at most one per `NOTICE_EVERY`). Pure: the caller passes the time.
//!
//! Memory is bounded: a bucket that has filled up again and whose notice is older than `NOTICE_EVERY` is the
//! same as no bucket at all, so such buckets are forgotten in sweeps (amortised constant time per update),
//! and at most `MAX_TRACKED` keys are ever held.
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::hash::Hash;

/// At most one notice per person in this time.
pub const NOTICE_EVERY: TimeDelta = TimeDelta::seconds(60);
/// The most keys tracked at once. Only people who wrote in the last few seconds (or were told to slow
/// down in the last minute) are tracked, so this is far above any real load; beyond it, updates of keys
/// not yet tracked are refused (an attack with that many accounts is refused rather than filling memory).
pub const MAX_TRACKED: usize = 50_000;

/// How much one key may send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Updates allowed at once after a quiet spell.
    pub burst: u32,
    /// Sustained updates per second.
    pub per_second: f64,
}

/// What to do with one update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the budget: handle it.
    Take,
    /// Over the budget: drop it; `notify` says whether this is the moment for the one notice a minute.
    Drop { notify: bool },
}

#[derive(Clone, Debug)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
    noticed_at: Option<DateTime<Utc>>,
    /// When a notice of the second kind (`notice_due`, e.g. "the bot is busy") was last due.
    other_notice_at: Option<DateTime<Utc>>,
}

impl Bucket {
    fn refill(&mut self, budget: Budget, now: DateTime<Utc>) {
        let elapsed = (now - self.at).num_milliseconds().max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * budget.per_second).min(f64::from(budget.burst));
        if now > self.at {
            self.at = now;
        }
    }

    /// Nothing worth remembering: full again and no notice within the last minute.
    fn idle(&self, budget: Budget, now: DateTime<Utc>) -> bool {
        let elapsed = (now - self.at).num_milliseconds().max(0) as f64 / 1000.0;
        let full = self.tokens + elapsed * budget.per_second >= f64::from(budget.burst);
        let quiet = |at: Option<DateTime<Utc>>| at.is_none_or(|at| now - at >= NOTICE_EVERY);
        full && quiet(self.noticed_at) && quiet(self.other_notice_at)
    }
}

/// The buckets of all keys under one budget.
#[derive(Debug)]
pub struct Buckets<K> {
    budget: Budget,
    buckets: HashMap<K, Bucket>,
    /// The next sweep of idle buckets happens when this many are held.
    sweep_at: usize,
}

const FIRST_SWEEP: usize = 1024;

impl<K: Hash + Eq + Clone> Buckets<K> {
    pub fn new(budget: Budget) -> Self {
        Buckets {
            budget,
            buckets: HashMap::new(),
            sweep_at: FIRST_SWEEP,
        }
    }

    /// One update of `key` at `now`.
    pub fn take(&mut self, key: &K, now: DateTime<Utc>) -> Verdict {
        let budget = self.budget;
        let Some(bucket) = self.bucket(key, now) else {
            return Verdict::Drop { notify: false };
        };
        bucket.refill(budget, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Verdict::Take;
        }
        let notify = bucket.noticed_at.is_none_or(|at| now - at >= NOTICE_EVERY);
        if notify {
            bucket.noticed_at = Some(now);
        }
        Verdict::Drop { notify }
    }

    /// Whether `key` has a token at `now`, without taking it (a limit checked before the attempt and charged
    /// only for a failure).
    pub fn has_room(&mut self, key: &K, now: DateTime<Utc>) -> bool {
        let budget = self.budget;
        match self.buckets.get_mut(key) {
            Some(bucket) => {
                bucket.refill(budget, now);
                bucket.tokens >= 1.0
            }
            None => self.buckets.len() < MAX_TRACKED && budget.burst >= 1,
        }
    }

    /// Whether the other kind of notice (one a minute too) is due for `key` now; records it if so.
    pub fn other_notice_due(&mut self, key: &K, now: DateTime<Utc>) -> bool {
        let Some(bucket) = self.bucket(key, now) else {
            return false;
        };
        let due = bucket
            .other_notice_at
            .is_none_or(|at| now - at >= NOTICE_EVERY);
        if due {
            bucket.other_notice_at = Some(now);
        }
        due
    }

    /// How many keys are remembered now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }

    fn bucket(&mut self, key: &K, now: DateTime<Utc>) -> Option<&mut Bucket> {
        if !self.buckets.contains_key(key) {
            if self.buckets.len() >= self.sweep_at.min(MAX_TRACKED) {
                self.sweep(now);
            }
            if self.buckets.len() >= MAX_TRACKED {
                return None;
            }
            self.buckets.insert(
                key.clone(),
                Bucket {
                    tokens: f64::from(self.budget.burst),
                    at: now,
                    noticed_at: None,
                    other_notice_at: None,
                },
            );
        }
        self.buckets.get_mut(key)
    }

    /// Forgets idle buckets; the next sweep comes when twice as many as remain are held.
    fn sweep(&mut self, now: DateTime<Utc>) {
        let budget = self.budget;
        self.buckets.retain(|_, b| !b.idle(budget, now));
        self.sweep_at = (self.buckets.len() * 2).max(FIRST_SWEEP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 12, 7, 0, 0).unwrap()
    }

    const BUDGET: Budget = Budget {
        burst: 5,
        per_second: 2.0,
    };

    #[test]
    fn a_burst_is_taken_then_the_rate_and_one_notice_a_minute() {
        let mut b = Buckets::new(BUDGET);
        let now = t0();
        for i in 0..5 {
            assert_eq!(b.take(&1, now), Verdict::Take, "{i}");
        }
        assert_eq!(b.take(&1, now), Verdict::Drop { notify: true });
        for _ in 0..100 {
            assert_eq!(b.take(&1, now), Verdict::Drop { notify: false });
        }
        // Another person is untouched.
        assert_eq!(b.take(&2, now), Verdict::Take);
        // Half a second later one more token.
        let later = now + TimeDelta::milliseconds(500);
        assert_eq!(b.take(&1, later), Verdict::Take);
        assert_eq!(b.take(&1, later), Verdict::Drop { notify: false });
        // A minute after the notice, the next one.
        let minute = now + TimeDelta::seconds(60);
        for _ in 0..5 {
            assert_eq!(b.take(&1, minute), Verdict::Take);
        }
        assert_eq!(b.take(&1, minute), Verdict::Drop { notify: true });
        assert_eq!(b.take(&1, minute), Verdict::Drop { notify: false });
    }

    #[test]
    fn the_other_notice_is_due_once_a_minute() {
        let mut b = Buckets::new(BUDGET);
        assert!(b.other_notice_due(&1, t0()));
        assert!(!b.other_notice_due(&1, t0() + TimeDelta::seconds(59)));
        assert!(b.other_notice_due(&1, t0() + TimeDelta::seconds(60)));
    }

    #[test]
    fn idle_buckets_are_forgotten_and_memory_is_bounded() {
        let mut b = Buckets::new(BUDGET);
        let now = t0();
        for key in 0..10_000 {
            b.take(&key, now);
        }
        // Each has 4 of 5 tokens: full again after half a second, and then forgotten in the next sweep (when
        // 16,384 are held: the sweeps double the room after sweeps that free nothing).
        let later = now + TimeDelta::seconds(1);
        for key in 10_000..17_000 {
            b.take(&key, later);
        }
        assert!(b.tracked() < 8_000, "{}", b.tracked());
        // A person told to slow down is remembered for the minute even when their bucket is full again.
        let mut b = Buckets::new(BUDGET);
        for _ in 0..6 {
            b.take(&-1, now);
        }
        for key in 0..5_000 {
            b.take(&key, now + TimeDelta::seconds(30));
        }
        assert_eq!(
            b.take(&-1, now + TimeDelta::seconds(30)),
            Verdict::Take,
            "refilled"
        );
        for _ in 0..4 {
            b.take(&-1, now + TimeDelta::seconds(30));
        }
        assert_eq!(
            b.take(&-1, now + TimeDelta::seconds(30)),
            Verdict::Drop { notify: false }
        );
        // Never more than MAX_TRACKED, even if nobody is idle.
        let mut b = Buckets::new(BUDGET);
        for key in 0..(MAX_TRACKED + 10) {
            b.take(&key, now);
            b.take(&key, now);
        }
        assert_eq!(b.tracked(), MAX_TRACKED);
        assert_eq!(
            b.take(&usize::MAX, now),
            Verdict::Drop { notify: false },
            "refused beyond the bound"
        );
    }
}
