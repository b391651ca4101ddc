//! Emulation of Telegram's flood limits for sending messages:
//! about 30 messages per second overall, 1 per second per private chat (short bursts of 3 are
//! tolerated) and 20 per minute per group. Exceeding them yields 429 with `retry_after`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

const GLOBAL_PER_SECOND: usize = 30;
const PRIVATE_BURST: f64 = 3.0;
const PRIVATE_PER_SECOND: f64 = 1.0;
const GROUP_PER_MINUTE: usize = 20;

#[derive(Debug, Default)]
pub(crate) struct FloodLimiter {
    enabled: bool,
    /// How many times faster than Telegram the windows run (1 when enabled normally).
    speedup: f64,
    /// Messages per (scaled) second overall; 0 means Telegram's 30.
    overall: usize,
    global: VecDeque<Instant>,
    /// Token buckets: (tokens, last refill).
    private: HashMap<i64, (f64, Instant)>,
    groups: HashMap<i64, VecDeque<Instant>>,
}

impl FloodLimiter {
    pub fn set_enabled(&mut self, on: bool) {
        self.set_scaled(on, 1.0);
    }

    /// Turns the limits on with every window `speedup` times shorter (e.g. 10: 300 messages per second
    /// overall, 10 per second per private chat, 20 per 6 s per group).
    pub fn set_scaled(&mut self, on: bool, speedup: f64) {
        self.enabled = on;
        self.speedup = if speedup.is_finite() && speedup > 0.0 {
            speedup
        } else {
            1.0
        };
        self.overall = 0;
        self.global.clear();
        self.private.clear();
        self.groups.clear();
    }

    /// Allows `per_second` messages a (scaled) second overall instead of 30 (0: back to 30).
    pub fn set_overall(&mut self, per_second: usize) {
        self.overall = per_second;
    }

    /// Counts one message to `chat_id` sent at `now`, or returns `Err(retry_after_seconds)`
    /// (at least 1) without counting it.
    pub fn check(&mut self, chat_id: i64, now: Instant) -> Result<(), u32> {
        if !self.enabled {
            return Ok(());
        }
        let second = Duration::from_secs(1).div_f64(self.speedup);
        let minute = Duration::from_secs(60).div_f64(self.speedup);
        let private_per_second = PRIVATE_PER_SECOND * self.speedup;
        prune(&mut self.global, now, second);
        let overall = if self.overall == 0 {
            GLOBAL_PER_SECOND
        } else {
            self.overall
        };
        if self.global.len() >= overall {
            return Err(wait_for(&self.global, now, second));
        }
        if chat_id > 0 {
            let (tokens, last) = self
                .private
                .get(&chat_id)
                .copied()
                .unwrap_or((PRIVATE_BURST, now));
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            let tokens = (tokens + elapsed * private_per_second).min(PRIVATE_BURST);
            if tokens < 1.0 {
                self.private.insert(chat_id, (tokens, now));
                return Err(secs_at_least_one((1.0 - tokens) / private_per_second));
            }
            self.private.insert(chat_id, (tokens - 1.0, now));
        } else {
            let window = self.groups.entry(chat_id).or_default();
            prune(window, now, minute);
            if window.len() >= GROUP_PER_MINUTE {
                return Err(wait_for(window, now, minute));
            }
            window.push_back(now);
        }
        self.global.push_back(now);
        Ok(())
    }
}

fn prune(window: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while window
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= span)
    {
        window.pop_front();
    }
}

/// Seconds until the oldest entry leaves the window.
fn wait_for(window: &VecDeque<Instant>, now: Instant, span: Duration) -> u32 {
    let oldest = window.front().copied().unwrap_or(now);
    let free_at = oldest + span;
    secs_at_least_one(free_at.saturating_duration_since(now).as_secs_f64())
}

fn secs_at_least_one(secs: f64) -> u32 {
    (secs.ceil() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_chat_allows_a_burst_of_three_then_one_per_second() {
        let mut limiter = FloodLimiter::default();
        let t0 = Instant::now();
        assert_eq!(
            limiter.check(5, t0),
            Ok(()),
            "disabled limiter lets everything through"
        );
        limiter.set_enabled(true);
        for _ in 0..3 {
            assert_eq!(limiter.check(5, t0), Ok(()));
        }
        assert_eq!(limiter.check(5, t0), Err(1));
        assert_eq!(limiter.check(6, t0), Ok(()), "other chats are independent");
        assert_eq!(limiter.check(5, t0 + Duration::from_millis(1000)), Ok(()));
        assert_eq!(limiter.check(5, t0 + Duration::from_millis(1100)), Err(1));
    }

    #[test]
    fn groups_get_twenty_per_minute() {
        let mut limiter = FloodLimiter::default();
        limiter.set_enabled(true);
        let t0 = Instant::now();
        for _ in 0..20 {
            assert_eq!(limiter.check(-100, t0), Ok(()));
        }
        assert_eq!(limiter.check(-100, t0 + Duration::from_secs(2)), Err(58));
        assert_eq!(limiter.check(-200, t0 + Duration::from_secs(2)), Ok(()));
        assert_eq!(limiter.check(-100, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn scaled_limits_run_faster() {
        let mut limiter = FloodLimiter::default();
        limiter.set_scaled(true, 10.0);
        let t0 = Instant::now();
        for chat in 1..=30 {
            assert_eq!(limiter.check(chat, t0), Ok(()));
        }
        assert_eq!(limiter.check(31, t0), Err(1));
        assert_eq!(limiter.check(31, t0 + Duration::from_millis(100)), Ok(()));
        for _ in 0..3 {
            assert_eq!(limiter.check(5, t0 + Duration::from_millis(100)), Ok(()));
        }
        assert_eq!(limiter.check(5, t0 + Duration::from_millis(100)), Err(1));
        assert_eq!(limiter.check(5, t0 + Duration::from_millis(200)), Ok(()));
        limiter.set_enabled(true);
        assert_eq!(limiter.speedup, 1.0);
    }

    #[test]
    fn thirty_per_second_overall() {
        let mut limiter = FloodLimiter::default();
        limiter.set_enabled(true);
        let t0 = Instant::now();
        for chat in 1..=30 {
            assert_eq!(limiter.check(chat, t0), Ok(()));
        }
        assert_eq!(limiter.check(31, t0), Err(1));
        assert_eq!(limiter.check(31, t0 + Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn a_lower_overall_limit() {
        let mut limiter = FloodLimiter::default();
        limiter.set_enabled(true);
        limiter.set_overall(10);
        let t0 = Instant::now();
        for chat in 1..=10 {
            assert_eq!(limiter.check(chat, t0), Ok(()));
        }
        assert_eq!(limiter.check(11, t0), Err(1));
        limiter.set_enabled(true);
        assert_eq!(
            limiter.overall, 0,
            "turning the limits on again restores 30"
        );
    }
}
