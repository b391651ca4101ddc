//! The sending budget the bot's direct replies and the outbox share: one object that knows every message
//! started in the last second, the pause Telegram last asked for (429 with `retry_after`), and how fast the
//! outbox may go now.
//!
//! Telegram documents about 30 messages a second for bulk notifications and does not say whether replies to
//! a person's own messages count; the real limits vary per bot and over time. So the outbox does not keep a
//! fixed headroom: it runs toward the configured ceiling (`DELIVERY_MAX_PER_SECOND`, default 30) and adapts
//! (additive increase, multiplicative decrease, see [`Aimd`]). The outbox paces itself at the rate less
//! the replies of the last second and one place more, so replies find room: a reply goes at once unless a
//! burst of them has filled the window, and then waits milliseconds for the next place rather than being
//! refused. A reply that got a 429 anyway waits its `retry_after` and is sent again. A 429 to either pauses
//! the outbox for `retry_after` and slows it down.
//!
//! Real time only (`tokio::time::Instant`, passed in by the caller, so the rules are unit-tested without
//! sleeping); due times of outbox rows are the worker's business.
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// After a 429 the rate is multiplied by this.
const DECREASE: f64 = 0.8;
/// The rate never falls below this fraction of the ceiling.
const FLOOR: f64 = 0.1;
/// Below the rate of the last 429 less this fraction of the ceiling, the rate climbs fast: this fraction of
/// the ceiling per window (1 a second at 30) — back within about ten seconds.
const FAST_STEP: f64 = 1.0 / 30.0;
/// Near and above the rate of the last 429, it creeps: this fraction of the ceiling per window (0.005 a
/// second at 30, so one message a second more takes 200 s).
const SLOW_STEP: f64 = 1.0 / 6000.0;
/// How near the last 429's rate the creeping starts, as a fraction of the ceiling (1 a second at 30).
const CAUTION: f64 = 1.0 / 30.0;
/// 429s within this many windows of a decrease belong to the same overload and do not decrease again.
const SAME_EPISODE_WINDOWS: u32 = 2;
/// The outbox never takes the last message of a window: replies never wait, so one that came when the outbox
/// had filled the window would be the window's 31st and refused (and pause the outbox). One is enough for
/// people who write now and then; the outbox takes the rest of the second as soon as it is free again.
const REPLY_ROOM: usize = 1;
/// A reply waits for a place in the window at most this long; when the next place is further away, replies
/// alone are outrunning the window (Telegram lets a bot answer people faster than its bulk rate), and it goes
/// at once.
const REPLY_WAIT_MAX: Duration = Duration::from_millis(50);
/// Each message counts this fraction of a window longer than the window: the budget stamps a message when
/// its request starts, Telegram when it arrives, a little later and not always in the same order.
const ARRIVAL_MARGIN: f64 = 0.02;

/// The additive-increase, multiplicative-decrease controller of the outbox's rate (messages per window — a
/// second, unless a test speeds the limits up — in total: the outbox fills what replies leave). Pure: every
/// call gets the current time.
///
/// It starts at the ceiling. A 429 multiplies the rate by 0.8 (once per overload: further 429s within two
/// seconds count as the same one) and remembers the rate it happened at. While Telegram accepts, the rate
/// rises each second in which messages went out (not while paused or idle) — fast (a thirtieth of the ceiling) while well below that remembered rate, slowly
/// (a six-thousandth) near and above it — and never beyond the ceiling. So after a 429 the outbox is back
/// near where it was within about ten seconds, and then probes higher only slowly: few 429s, and a rise
/// of the bot's real limit is found within minutes.
#[derive(Clone, Debug)]
pub struct Aimd {
    ceiling: f64,
    /// The length of Telegram's window (1 s; shorter in tests that speed the limits up).
    window: Duration,
    rate: f64,
    /// The rate at the last 429.
    bad: Option<f64>,
    last_decrease: Option<Instant>,
    last_increase: Instant,
}

impl Aimd {
    pub fn new(ceiling: f64, window: Duration, now: Instant) -> Aimd {
        let ceiling = if ceiling.is_finite() && ceiling >= 1.0 {
            ceiling
        } else {
            1.0
        };
        Aimd {
            ceiling,
            window,
            rate: ceiling,
            bad: None,
            last_decrease: None,
            last_increase: now,
        }
    }

    /// Messages per window the outbox and the replies may use together now.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    pub fn ceiling(&self) -> f64 {
        self.ceiling
    }

    /// Telegram answered 429 at `now` and asked for a pause until `resume`. Returns whether the rate went
    /// down (false within the same overload).
    pub fn too_many(&mut self, now: Instant, resume: Instant) -> bool {
        // Nothing rises while paused.
        self.last_increase = self.last_increase.max(resume);
        let same_episode = self
            .last_decrease
            .is_some_and(|at| now < at + self.window * SAME_EPISODE_WINDOWS);
        if same_episode {
            return false;
        }
        self.bad = Some(self.rate);
        self.rate = (self.rate * DECREASE).max(self.ceiling * FLOOR).max(1.0);
        self.last_decrease = Some(now);
        true
    }

    /// Telegram accepted a message at `now`: the rate rises by one step if a window has passed since the
    /// last rise (so it rises only in windows in which messages went out, never while idle or paused).
    pub fn accepted(&mut self, now: Instant) {
        if now < self.last_increase + self.window {
            return;
        }
        self.last_increase = now;
        let caution = self.bad.map(|bad| bad - self.ceiling * CAUTION);
        let step = match caution {
            Some(limit) if self.rate < limit => (self.ceiling * FAST_STEP).min(limit - self.rate),
            _ => self.ceiling * SLOW_STEP,
        };
        self.rate = (self.rate + step).min(self.ceiling);
    }
}

/// The budget shared by replies and the outbox (see the module's text). Cheap to share behind an `Arc`;
/// every method holds a lock for a few instructions only.
#[derive(Debug)]
pub struct SendBudget(Mutex<Budget>);

impl Default for SendBudget {
    fn default() -> Self {
        SendBudget::new(30.0, Duration::from_secs(1))
    }
}

impl SendBudget {
    /// A budget of at most `per_second` messages a second, counted in windows of `window` (Telegram: about
    /// 30 in any second; tests that speed the limits up shorten the window alike).
    pub fn new(per_second: f64, window: Duration) -> SendBudget {
        SendBudget(Mutex::new(Budget::new(per_second, window, Instant::now())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the ceiling and window (the worker does at start, from its settings); forgets what was learned.
    pub fn configure(&self, per_second: f64, window: Duration) {
        *self.lock() = Budget::new(per_second, window, Instant::now());
    }

    /// A reply (or any request outside the outbox that creates a message) is about to start: it takes the
    /// next place in the window, which is now unless the window is full; then it is the moment the oldest
    /// message leaves it (milliseconds away: the outbox keeps room for replies), returned for the caller to
    /// wait until. A burst of replies (several people's answers at once) so waits its turn instead of
    /// being refused and waiting Telegram's `retry_after` (a second or more); never longer than
    /// `REPLY_WAIT_MAX`.
    pub fn reply_slot(&self, now: Instant) -> Option<Instant> {
        self.lock().reply_slot(now)
    }

    /// A reply starts now, whatever the window (tests of the outbox's share).
    #[cfg(test)]
    fn reply_started(&self, now: Instant) {
        self.lock().record_reply(now);
    }

    /// When the outbox's next message may start, if not now.
    pub fn outbox_wait(&self, now: Instant) -> Option<Instant> {
        self.lock().outbox_wait(now)
    }

    /// The outbox's message starts now (call only when `outbox_wait` gave `None`).
    pub fn outbox_started(&self, now: Instant) {
        self.lock().take_slot(now);
    }

    /// Telegram accepted the message that started at `started` (the stamp `outbox_started` or `reply_slot`
    /// gave it) and answered at `now`. From now on it counts from `now`: Telegram counted it when it arrived,
    /// somewhere in between, so the budget never lets it leave the window before Telegram does (a request
    /// that waited on a busy connection would otherwise leave early).
    pub fn accepted(&self, started: Instant, now: Instant) {
        let mut budget = self.lock();
        budget.aimd.accepted(now);
        budget.restamp(started, now);
    }

    /// Telegram answered 429 with `retry_after`: the outbox pauses that long and slows down. Returns whether
    /// the rate went down.
    pub fn too_many(&self, now: Instant, retry_after: Duration) -> bool {
        let mut budget = self.lock();
        budget.pause_until(now + retry_after);
        budget.aimd.too_many(now, now + retry_after)
    }

    /// Nothing from the outbox starts before `until` (a rejected token: not a matter of rate).
    pub fn pause_until(&self, until: Instant) {
        self.lock().pause_until(until);
    }

    /// The current rate in messages a second (replies included), for logs and benchmarks.
    pub fn rate(&self) -> f64 {
        let budget = self.lock();
        budget.aimd.rate() / budget.window.as_secs_f64()
    }
}

#[derive(Debug)]
struct Budget {
    aimd: Aimd,
    window: Duration,
    /// When each message of the last window started, oldest first (replies and outbox alike).
    recent: VecDeque<Instant>,
    /// When each reply of the last window started: as many are expected in the next.
    replies: VecDeque<Instant>,
    /// The outbox's spacing: when its next message would start if all had gone exactly at the rate (GCRA's
    /// theoretical arrival time); one may start a slot early after a late wake-up.
    tat: Option<Instant>,
    paused_until: Option<Instant>,
}

impl Budget {
    fn new(per_second: f64, window: Duration, now: Instant) -> Budget {
        let window = if window.is_zero() {
            Duration::from_secs(1)
        } else {
            window
        };
        Budget {
            aimd: Aimd::new(per_second * window.as_secs_f64(), window, now),
            window,
            recent: VecDeque::new(),
            replies: VecDeque::new(),
            tat: None,
            paused_until: None,
        }
    }

    /// How long a message counts: the window and the margin for its arrival.
    fn span(&self) -> Duration {
        self.window.mul_f64(1.0 + ARRIVAL_MARGIN)
    }

    fn forget_old(&mut self, now: Instant) {
        let span = self.span();
        for started in [&mut self.recent, &mut self.replies] {
            while started.front().is_some_and(|t| *t + span <= now) {
                started.pop_front();
            }
        }
    }

    fn record(&mut self, now: Instant) {
        self.forget_old(now);
        self.recent.push_back(now);
    }

    #[cfg(test)]
    fn record_reply(&mut self, now: Instant) {
        self.record(now);
        self.replies.push_back(now);
    }

    fn restamp(&mut self, started: Instant, done: Instant) {
        let was_reply = match self.replies.binary_search(&started) {
            Ok(i) => self.replies.remove(i).is_some(),
            Err(_) => false,
        };
        if let Ok(i) = self.recent.binary_search(&started) {
            self.recent.remove(i);
        }
        // Also when it had already left the window: it is counted again from its answer.
        self.recent
            .insert(self.recent.partition_point(|t| *t <= done), done);
        if was_reply {
            self.replies
                .insert(self.replies.partition_point(|t| *t <= done), done);
        }
    }

    fn reply_slot(&mut self, now: Instant) -> Option<Instant> {
        self.forget_old(now);
        let limit = (self.aimd.rate().floor() as usize).max(1);
        let at = if self.recent.len() >= limit {
            let free = (self.recent[self.recent.len() - limit] + self.span()).max(now);
            if free > now + REPLY_WAIT_MAX {
                now
            } else {
                free
            }
        } else {
            now
        };
        // Kept in time order: a place reserved ahead counts for whoever asks next.
        for started in [&mut self.recent, &mut self.replies] {
            let place = started.partition_point(|t| *t <= at);
            started.insert(place, at);
        }
        (at > now).then_some(at)
    }

    /// The outbox's own pace, messages per window: the rate less what replies are expected to take (as many
    /// as in the last window, and room for one more). Filling only the window would let the outbox take a
    /// whole second that is free just now (after a pause, at the start of a broadcast) and the replies that
    /// come later in it would be refused.
    fn outbox_rate(&self) -> f64 {
        (self.aimd.rate() - (self.replies.len() + REPLY_ROOM) as f64).max(1.0)
    }

    fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }

    fn outbox_wait(&mut self, now: Instant) -> Option<Instant> {
        self.forget_old(now);
        let rate = self.aimd.rate();
        let spacing = self.window.div_f64(self.outbox_rate());
        let by_rate = self.tat.map(|tat| tat.checked_sub(spacing).unwrap_or(tat));
        // Everything started in the last window, replies included, counts: at most `rate` in any window, of
        // which the outbox leaves the last for a reply.
        let allowed = (rate.floor() as usize).saturating_sub(REPLY_ROOM).max(1);
        let by_window = (self.recent.len() >= allowed)
            .then(|| self.recent[self.recent.len() - allowed] + self.span());
        let at = by_rate
            .into_iter()
            .chain(by_window)
            .chain(self.paused_until)
            .max()?;
        (at > now).then_some(at)
    }

    fn take_slot(&mut self, now: Instant) {
        let spacing = self.window.div_f64(self.outbox_rate());
        self.tat = Some(self.tat.map_or(now, |tat| tat.max(now)) + spacing);
        self.record(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn aimd_starts_at_the_ceiling_and_halves_nothing_on_success() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(30.0, SECOND, t0);
        assert_eq!(aimd.rate(), 30.0);
        for s in 1..100 {
            aimd.accepted(t0 + SECOND * s);
        }
        assert_eq!(aimd.rate(), 30.0, "never beyond the ceiling");
    }

    #[test]
    fn a_429_decreases_once_per_overload() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(30.0, SECOND, t0);
        assert!(aimd.too_many(t0, t0 + SECOND));
        assert_eq!(aimd.rate(), 24.0);
        assert!(
            !aimd.too_many(t0 + 1500 * MS, t0 + 2500 * MS),
            "the same overload: no second decrease"
        );
        assert_eq!(aimd.rate(), 24.0);
        assert!(
            aimd.too_many(t0 + 2000 * MS, t0 + 3000 * MS),
            "a new overload"
        );
        assert!((aimd.rate() - 19.2).abs() < 1e-9);
        for i in 0..30 {
            let at = t0 + SECOND * (3 + 2 * i);
            aimd.too_many(at, at + SECOND);
        }
        assert_eq!(aimd.rate(), 3.0, "never below a tenth of the ceiling");
    }

    #[test]
    fn after_a_429_the_rate_climbs_fast_then_creeps() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(30.0, SECOND, t0);
        aimd.accepted(t0 + 10 * SECOND);
        let t1 = t0 + 10 * SECOND;
        // Telegram asks for a pause of 2 s: nothing rises before it ends and a window has passed…
        aimd.too_many(t1, t1 + 2 * SECOND);
        assert_eq!(aimd.rate(), 24.0);
        aimd.accepted(t1 + 2999 * MS);
        assert_eq!(aimd.rate(), 24.0);
        let t2 = t1 + 2 * SECOND;
        // …then one a second up to 29 (the last 429's rate less one)…
        aimd.accepted(t2 + SECOND);
        assert_eq!(aimd.rate(), 25.0);
        aimd.accepted(t2 + 1500 * MS);
        assert_eq!(aimd.rate(), 25.0, "one step per window");
        for s in 2..=5 {
            aimd.accepted(t2 + s * SECOND);
        }
        assert!((aimd.rate() - 29.0).abs() < 1e-9, "{}", aimd.rate());
        aimd.accepted(t2 + 6 * SECOND);
        // …and from there 0.005 a second: one more a second takes 200 s.
        assert!((aimd.rate() - 29.005).abs() < 1e-9, "{}", aimd.rate());
        for s in 7..=105 {
            aimd.accepted(t2 + s * SECOND);
        }
        assert!((aimd.rate() - 29.5).abs() < 1e-9, "{}", aimd.rate());
        for s in 106..=206 {
            aimd.accepted(t2 + s * SECOND);
        }
        assert_eq!(aimd.rate(), 30.0, "back at the ceiling");
        // An idle spell does not count as acceptance.
        aimd.too_many(t2 + 300 * SECOND, t2 + 301 * SECOND);
        aimd.accepted(t2 + 900 * SECOND);
        assert_eq!(aimd.rate(), 25.0, "one step, not ten minutes' worth");
    }

    #[test]
    fn a_lower_real_limit_is_found_and_kept() {
        // Telegram lets this bot have only 20 a second: the rate settles just under it with few 429s.
        let t0 = Instant::now();
        let mut aimd = Aimd::new(30.0, SECOND, t0);
        let mut refusals = 0;
        for s in 0..600u32 {
            let now = t0 + SECOND * s;
            if aimd.rate() > 20.0 {
                refusals += 1;
                aimd.too_many(now, now + SECOND);
            } else {
                aimd.accepted(now);
            }
        }
        assert!(refusals <= 8, "{refusals} 429s in ten minutes");
        assert!(aimd.rate() > 18.0 && aimd.rate() <= 20.0, "{}", aimd.rate());
    }

    #[test]
    fn sped_up_windows_scale_the_steps_in_time() {
        let t0 = Instant::now();
        let mut aimd = Aimd::new(30.0, 100 * MS, t0);
        aimd.too_many(t0, t0);
        assert_eq!(aimd.rate(), 24.0);
        aimd.accepted(t0 + 100 * MS);
        assert_eq!(aimd.rate(), 25.0);
        let budget = SendBudget::new(300.0, 100 * MS);
        assert!((budget.rate() - 300.0).abs() < 1e-6, "30 per 100 ms");
    }

    #[test]
    fn the_outbox_is_spaced_evenly_and_leaves_room_for_replies() {
        let t0 = Instant::now();
        let budget = SendBudget::new(25.0, SECOND);
        let mut starts = 0;
        while budget.outbox_wait(t0).is_none() {
            budget.outbox_started(t0);
            starts += 1;
        }
        assert_eq!(starts, 2, "a busy spell may start with two at once");
        // 25 a second less the room kept for one reply: 24 a second.
        assert_eq!(budget.outbox_wait(t0), Some(t0 + SECOND.div_f64(24.0)));

        // Twenty-three replies this second: the outbox may add only one more in this window, and leaves the
        // window's last message to a reply.
        let budget = SendBudget::new(25.0, SECOND);
        for i in 0..23 {
            budget.reply_started(t0 + i * 10 * MS);
        }
        let now = t0 + 500 * MS;
        assert_eq!(budget.outbox_wait(now), None);
        budget.outbox_started(now);
        let first_leaves = t0 + SECOND + 20 * MS;
        assert_eq!(
            budget.outbox_wait(now + 40 * MS),
            Some(first_leaves),
            "the window is full until the first reply leaves it (with the margin for its arrival)"
        );
        assert_eq!(budget.outbox_wait(first_leaves), None);
    }

    /// People writing ten times a second while the outbox sends as fast as it may, from its start and again
    /// after a pause (a 429 elsewhere): whatever arrives at Telegram — each message 0–15 ms after it started,
    /// so not always in order — is at most 30 in any second, and the outbox still gets most of what the
    /// replies leave.
    #[test]
    fn a_reply_always_finds_room_in_the_window() {
        let t0 = Instant::now();
        let budget = SendBudget::new(30.0, SECOND);
        let mut arrivals = Vec::new();
        let mut outbox = 0;
        let mut jitter = 7u32;
        let mut arrive = |start: Instant| {
            jitter = (jitter * 31 + 11) % 16;
            start + jitter * MS
        };
        let (outbox_from, pause_at) = (2_000, 10_000);
        for ms in 0..22_000u32 {
            let now = t0 + ms * MS;
            if ms % 100 == 37 {
                budget.reply_started(now);
                arrivals.push(arrive(now));
            }
            if ms == pause_at {
                budget.pause_until(now + 1500 * MS);
            }
            if ms >= outbox_from && budget.outbox_wait(now).is_none() {
                budget.outbox_started(now);
                arrivals.push(arrive(now));
                outbox += 1;
            }
        }
        arrivals.sort();
        for (i, at) in arrivals.iter().enumerate() {
            let within = arrivals[i..]
                .iter()
                .take_while(|t| **t < *at + SECOND)
                .count();
            assert!(
                within <= 30,
                "{within} messages arrived within a second from {:?}",
                at.duration_since(t0)
            );
        }
        // 18.5 s of sending: 185 replies, and the outbox at least 90 % of the 370 they leave.
        assert!(outbox >= 333, "the outbox sent only {outbox}");
    }

    /// Three people's answers at the same moment while the outbox has filled what it may of the window:
    /// the first takes the room the outbox left, the others wait for places (milliseconds) instead of being
    /// the window's 31st and 32nd, which Telegram would refuse for a second or more.
    #[test]
    fn a_burst_of_replies_waits_for_room_instead_of_being_refused() {
        let t0 = Instant::now();
        let budget = SendBudget::new(30.0, SECOND);
        let mut starts = Vec::new();
        let mut now = t0;
        while now < t0 + SECOND {
            if budget.outbox_wait(now).is_none() {
                budget.outbox_started(now);
                starts.push(now);
            }
            now += MS;
        }
        assert_eq!(
            starts.len(),
            29,
            "the outbox leaves one place of the window"
        );
        let slots: Vec<_> = (0..3).map(|_| budget.reply_slot(now)).collect();
        assert_eq!(slots[0], None, "the first goes at once");
        let (second, third) = (slots[1].expect("waits"), slots[2].expect("waits"));
        assert!(second > now && second < now + 50 * MS, "{:?}", second - now);
        assert!(
            third > second && third < now + 100 * MS,
            "{:?}",
            third - now
        );
        starts.extend([now, second, third]);
        starts.sort();
        for (i, start) in starts.iter().enumerate() {
            let within = starts[i..]
                .iter()
                .take_while(|t| **t < *start + SECOND)
                .count();
            assert!(within <= 30, "{within} messages within a second");
        }
    }

    /// When replies alone outrun the window (a busy evening: Telegram lets a bot answer people faster than
    /// its bulk rate), they are not held back to it: none waits longer than `REPLY_WAIT_MAX`.
    #[test]
    fn replies_beyond_the_window_are_never_held_back_long() {
        let t0 = Instant::now();
        let budget = SendBudget::new(30.0, SECOND);
        for i in 0..2_000u32 {
            let now = t0 + i * MS;
            if let Some(at) = budget.reply_slot(now) {
                assert!(at <= now + REPLY_WAIT_MAX, "a reply waited {:?}", at - now);
            }
        }
    }

    /// A request that took long (a busy connection) reached Telegram some time before its answer: it stays in
    /// the window until a window after the answer, not after its start.
    #[test]
    fn a_message_counts_from_telegrams_answer() {
        let t0 = Instant::now();
        // Two a second, one of them kept for replies: the outbox may have one in any window.
        let budget = SendBudget::new(2.0, SECOND);
        budget.outbox_started(t0);
        budget.accepted(t0, t0 + 300 * MS);
        assert_eq!(
            budget.outbox_wait(t0 + 1100 * MS),
            Some(t0 + 1320 * MS),
            "a window (and the margin) after the answer"
        );
    }

    #[test]
    fn never_more_than_the_rate_in_any_window() {
        let t0 = Instant::now();
        let budget = SendBudget::new(30.0, SECOND);
        let mut now = t0;
        let mut starts = Vec::new();
        let mut step = 0u32;
        while now < t0 + 5 * SECOND {
            if step.is_multiple_of(40) {
                budget.reply_started(now);
                starts.push(now);
            }
            if budget.outbox_wait(now).is_none() {
                budget.outbox_started(now);
                starts.push(now);
            }
            step += 1;
            now += if step.is_multiple_of(50) {
                90 * MS
            } else {
                5 * MS
            };
        }
        starts.sort();
        for (i, start) in starts.iter().enumerate() {
            let within = starts[i..]
                .iter()
                .take_while(|t| **t < *start + SECOND)
                .count();
            assert!(within <= 30, "{within} messages within a second");
        }
        assert!(starts.len() >= 5 * 27, "{} in 5 s", starts.len());
    }

    #[test]
    fn a_429_pauses_the_outbox_and_slows_it() {
        let t0 = Instant::now();
        let budget = SendBudget::new(30.0, SECOND);
        assert!(budget.too_many(t0, 3 * SECOND));
        assert!(!budget.too_many(t0 + 100 * MS, SECOND));
        assert_eq!(
            budget.outbox_wait(t0 + SECOND),
            Some(t0 + 3 * SECOND),
            "a shorter pause does not cut a longer one"
        );
        assert_eq!(budget.outbox_wait(t0 + 3 * SECOND), None);
        assert_eq!(budget.rate(), 24.0);
        budget.configure(20.0, SECOND);
        assert_eq!(budget.rate(), 20.0);
        assert_eq!(budget.outbox_wait(t0), None, "configure starts afresh");
    }
}
