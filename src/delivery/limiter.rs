//! The rate budget, in real time: messages overall per second, one per second per private chat, twenty per
//! minute per group, and a pause for everything when Telegram asks for one (429). Pure: the caller passes
//! the current `Instant`.
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// The limits the worker keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Messages per second overall, spread evenly.
    pub per_second: f64,
    /// The least time between the end of one message to a private chat and the start of the next.
    pub private_interval: Duration,
    /// At most `group_burst` messages to one group within any `group_window`.
    pub group_burst: usize,
    pub group_window: Duration,
}

impl Limits {
    /// Telegram's limits, with `max_per_second` overall (below Telegram's ~30 to leave room for replies).
    pub fn telegram(max_per_second: u32) -> Limits {
        Limits {
            per_second: f64::from(max_per_second.max(1)),
            private_interval: Duration::from_secs(1),
            group_burst: 20,
            group_window: Duration::from_secs(60),
        }
    }

    /// The same limits running `factor` times faster (tests against a fake with limits sped up alike).
    pub fn sped_up(self, factor: f64) -> Limits {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        Limits {
            per_second: self.per_second * factor,
            private_interval: self.private_interval.div_f64(factor),
            group_burst: self.group_burst,
            group_window: self.group_window.div_f64(factor),
        }
    }

    fn spacing(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second.max(0.001))
    }
}

/// How far behind the overall rate may catch up after a late wake-up, in slots (the burst tolerance of a
/// GCRA limiter). The rate averages `per_second`; any one second holds at most `per_second + 2` messages
/// (22 with the default 20, under Telegram's 30, leaving room for replies).
pub const CATCH_UP_SLOTS: u32 = 2;

#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    /// When the next message would start if every message so far had gone exactly at the rate (GCRA's
    /// theoretical arrival time). A message may start up to `CATCH_UP_SLOTS` slots before it.
    tat: Option<Instant>,
    paused_until: Option<Instant>,
    /// When the last message to each private chat ended.
    private: HashMap<i64, Instant>,
    /// When recent messages to each group ended, oldest first.
    groups: HashMap<i64, VecDeque<Instant>>,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        RateLimiter {
            limits,
            tat: None,
            paused_until: None,
            private: HashMap::new(),
            groups: HashMap::new(),
        }
    }

    /// When the next message may start overall, if not now (the rate spacing, or a pause).
    pub fn global_wait(&self, now: Instant) -> Option<Instant> {
        let tolerance = self.limits.spacing() * CATCH_UP_SLOTS;
        let by_rate = self
            .tat
            .map(|tat| tat.checked_sub(tolerance).unwrap_or(tat));
        let at = by_rate.into_iter().chain(self.paused_until).max()?;
        (at > now).then_some(at)
    }

    /// Uses the overall slot for a message starting at `now` (call only when `global_wait` is `None`).
    pub fn take_slot(&mut self, now: Instant) {
        let spacing = self.limits.spacing();
        self.tat = Some(self.tat.map_or(now, |tat| tat.max(now)) + spacing);
    }

    /// Telegram asked for a pause (429 with `retry_after`): nothing starts before `until`.
    pub fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Records a message to `chat` that ended (answered, or failed) at `at`.
    pub fn record(&mut self, chat: i64, at: Instant) {
        if chat > 0 {
            self.private.insert(chat, at);
        } else {
            self.groups.entry(chat).or_default().push_back(at);
        }
    }

    /// The chats that must wait at `now`, each with the time it may receive again; forgets chats whose
    /// wait is over.
    pub fn held_chats(&mut self, now: Instant) -> Vec<(i64, Instant)> {
        let interval = self.limits.private_interval;
        self.private.retain(|_, last| *last + interval > now);
        let mut held: Vec<(i64, Instant)> = self
            .private
            .iter()
            .map(|(chat, last)| (*chat, *last + interval))
            .collect();
        let window = self.limits.group_window;
        let burst = self.limits.group_burst.max(1);
        self.groups.retain(|chat, recent| {
            while recent.front().is_some_and(|t| *t + window <= now) {
                recent.pop_front();
            }
            if recent.len() >= burst {
                // Free again when enough of the oldest have left the window.
                let freeing = recent[recent.len() - burst];
                held.push((*chat, freeing + window));
            }
            !recent.is_empty()
        });
        held.sort_unstable();
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn overall_rate_is_spread_evenly_after_a_short_start() {
        let mut limiter = RateLimiter::new(Limits::telegram(25));
        let t0 = Instant::now();
        let mut starts = 0;
        while limiter.global_wait(t0).is_none() {
            limiter.take_slot(t0);
            starts += 1;
        }
        assert_eq!(starts, 3, "a busy spell may start with three at once");
        assert_eq!(limiter.global_wait(t0), Some(t0 + 40 * MS));
        limiter.take_slot(t0 + 40 * MS);
        assert_eq!(
            limiter.global_wait(t0 + 40 * MS),
            Some(t0 + 80 * MS),
            "then one every 40 ms"
        );
    }

    #[test]
    fn a_late_wake_up_is_caught_up_without_losing_rate() {
        let mut limiter = RateLimiter::new(Limits::telegram(25));
        let t0 = Instant::now();
        // Steady state: one every 40 ms.
        let mut now = t0;
        for _ in 0..10 {
            now = limiter.global_wait(now).unwrap_or(now);
            limiter.take_slot(now);
        }
        let steady = now;
        // The next slot is 40 ms later; the worker oversleeps by 70 ms. Two go at once to catch up…
        now = limiter.global_wait(now).unwrap() + 70 * MS;
        assert_eq!(now, steady + 110 * MS);
        limiter.take_slot(now);
        assert_eq!(limiter.global_wait(now), None);
        limiter.take_slot(now);
        // …and the third is back on the 40 ms grid.
        assert_eq!(limiter.global_wait(now), Some(steady + 120 * MS));
    }

    #[test]
    fn never_more_than_the_rate_plus_two_in_any_second() {
        let mut limiter = RateLimiter::new(Limits::telegram(25));
        let t0 = Instant::now();
        let mut now = t0;
        let mut starts = Vec::new();
        // A worker that wakes at awkward times: polls every 7 ms, and sometimes oversleeps.
        let mut step = 0u32;
        while now < t0 + Duration::from_secs(5) {
            if limiter.global_wait(now).is_none() {
                limiter.take_slot(now);
                starts.push(now);
            }
            step += 1;
            now += if step.is_multiple_of(50) {
                90 * MS
            } else {
                7 * MS
            };
        }
        for (i, start) in starts.iter().enumerate() {
            let within = starts[i..]
                .iter()
                .take_while(|t| **t < *start + Duration::from_secs(1))
                .count();
            assert!(within <= 27, "{within} messages within a second");
        }
        assert!(starts.len() >= 5 * 25 - 3, "{} in 5 s", starts.len());
    }

    #[test]
    fn a_pause_holds_everything_until_it_ends() {
        let mut limiter = RateLimiter::new(Limits::telegram(25));
        let t0 = Instant::now();
        limiter.pause_until(t0 + Duration::from_secs(3));
        limiter.pause_until(t0 + Duration::from_secs(1));
        assert_eq!(
            limiter.global_wait(t0),
            Some(t0 + Duration::from_secs(3)),
            "a shorter pause does not cut a longer one"
        );
        assert_eq!(limiter.global_wait(t0 + Duration::from_secs(3)), None);
    }

    #[test]
    fn a_private_chat_gets_one_message_a_second() {
        let mut limiter = RateLimiter::new(Limits::telegram(25));
        let t0 = Instant::now();
        limiter.record(5, t0);
        limiter.record(6, t0 + 500 * MS);
        assert_eq!(
            limiter.held_chats(t0 + 600 * MS),
            vec![(5, t0 + 1000 * MS), (6, t0 + 1500 * MS)]
        );
        assert_eq!(
            limiter.held_chats(t0 + 1000 * MS),
            vec![(6, t0 + 1500 * MS)]
        );
        assert!(limiter.held_chats(t0 + 1500 * MS).is_empty());
        assert!(limiter.private.is_empty(), "finished waits are forgotten");
    }

    #[test]
    fn a_group_gets_twenty_messages_a_minute() {
        let mut limiter = RateLimiter::new(Limits::telegram(25));
        let t0 = Instant::now();
        for i in 0..19 {
            limiter.record(-100, t0 + i * 100 * MS);
        }
        assert!(
            limiter
                .held_chats(t0 + 2 * Duration::from_secs(1))
                .is_empty()
        );
        limiter.record(-100, t0 + 2000 * MS);
        let minute = Duration::from_secs(60);
        assert_eq!(
            limiter.held_chats(t0 + 2100 * MS),
            vec![(-100, t0 + minute)]
        );
        assert!(
            limiter.held_chats(t0 + minute).is_empty(),
            "the oldest left the window"
        );
        limiter.record(-100, t0 + minute);
        assert_eq!(
            limiter.held_chats(t0 + minute),
            vec![(-100, t0 + minute + 100 * MS)]
        );
    }

    #[test]
    fn sped_up_limits_scale_every_window() {
        let limits = Limits::telegram(25).sped_up(10.0);
        assert_eq!(limits.per_second, 250.0);
        assert_eq!(limits.private_interval, 100 * MS);
        assert_eq!(limits.group_window, Duration::from_secs(6));
        assert_eq!(limits.group_burst, 20);
        assert_eq!(Limits::telegram(25).sped_up(0.0), Limits::telegram(25));
    }
}
