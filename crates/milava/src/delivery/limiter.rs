//! The rate budget's per-chat part, in real time: one message per second per private chat, twenty per minute
//! per group. The overall rate, pauses and the adaptation to 429s are shared with replies (`crate::send_budget`).
//! Pure: the caller passes the current `Instant`.
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// The limits the worker keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// The most messages per `window` overall (the adaptive rate's ceiling), spread evenly.
    pub per_second: f64,
    /// Telegram's window for the overall rate (1 s).
    pub window: Duration,
    /// The least time between the end of one message to a private chat and the start of the next.
    pub private_interval: Duration,
    /// At most `group_burst` messages to one group within any `group_window`.
    pub group_burst: usize,
    pub group_window: Duration,
}

impl Limits {
    /// Telegram's limits, with at most `max_per_second` overall (Telegram's ~30, or less for a bot that shares
    /// its token).
    pub fn telegram(max_per_second: u32) -> Limits {
        Limits {
            per_second: f64::from(max_per_second.max(1)),
            window: Duration::from_secs(1),
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
            window: self.window.div_f64(factor),
            private_interval: self.private_interval.div_f64(factor),
            group_burst: self.group_burst,
            group_window: self.group_window.div_f64(factor),
        }
    }
}

/// The per-chat part of the rate budget (the overall part is shared with replies: `crate::send_budget`).
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    /// When the last message to each private chat ended.
    private: HashMap<i64, Instant>,
    /// When recent messages to each group ended, oldest first.
    groups: HashMap<i64, VecDeque<Instant>>,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        RateLimiter {
            limits,
            private: HashMap::new(),
            groups: HashMap::new(),
        }
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
        assert_eq!(limits.window, 100 * MS);
        assert_eq!(limits.private_interval, 100 * MS);
        assert_eq!(limits.group_window, Duration::from_secs(6));
        assert_eq!(limits.group_burst, 20);
        assert_eq!(Limits::telegram(25).sped_up(0.0), Limits::telegram(25));
    }
}
