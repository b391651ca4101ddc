//! Faults that repeat — storage refusing writes, the Bot API timing out or answering 5xx, the update intake
//! failing — are logged when they begin, then at most once a minute with how often they happened since, and
//! once when they end. A full disk under 300 users' messages is then three log lines, not three hundred.
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// While a fault goes on, how often it is reported again.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);

/// What failed; each kind is tracked on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Answering users' messages (the database refused a read or write).
    Handling,
    /// Sending outbox messages (timeouts, dropped connections, Telegram's server errors).
    Sending,
    /// Sending emails (the mail server down or refusing, timeouts, TLS trouble).
    Email,
    /// The outbox's own database work (claiming, scheduling).
    OutboxStorage,
    /// Receiving updates from Telegram (long polling or the webhook).
    Intake,
    /// Requests to the webhook without the right secret (a scan, or a misconfigured proxy). Nothing of ours
    /// failed, so it is a warning, and it has no end.
    WebhookRejected,
    /// Updates dropped because a person sent more than their budget (a flood). A warning without an end.
    OverBudget,
    /// Updates refused because a handling lane or the webhook's queue was full. A warning without an end.
    Overloaded,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Handling => "handling messages",
            Fault::Sending => "sending outbox messages",
            Fault::Email => "sending emails",
            Fault::OutboxStorage => "outbox storage",
            Fault::Intake => "receiving updates",
            Fault::WebhookRejected => "webhook requests rejected for their secret token",
            Fault::OverBudget => "updates dropped over a person's budget",
            Fault::Overloaded => "updates refused because a queue was full",
        }
    }

    fn level(self) -> log::Level {
        match self {
            Fault::WebhookRejected | Fault::OverBudget | Fault::Overloaded => log::Level::Warn,
            _ => log::Level::Error,
        }
    }
}

struct Ongoing {
    began: Instant,
    last_reported: Instant,
    since_report: u64,
    total: u64,
}

/// One per running bot. `occurred` and `ended` return the line to log, if any (pure, so tests pass the
/// time); `error` and `recovered` log it.
#[derive(Default)]
pub struct FaultLog {
    state: Mutex<State>,
    /// Lets `recovered` (called after every success) skip the lock while nothing is wrong.
    any_ongoing: AtomicBool,
}

#[derive(Default)]
struct State {
    ongoing: HashMap<Fault, Ongoing>,
    /// Lines logged per fault, for tests.
    lines: HashMap<Fault, u64>,
}

impl FaultLog {
    pub fn occurred(&self, fault: Fault, context: &str, now: Instant) -> Option<String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.any_ongoing.store(true, Ordering::Release);
        let name = fault.name();
        let line = match state.ongoing.get_mut(&fault) {
            None => {
                state.ongoing.insert(
                    fault,
                    Ongoing {
                        began: now,
                        last_reported: now,
                        since_report: 0,
                        total: 1,
                    },
                );
                Some(format!("{name} failed: {context}"))
            }
            Some(o) => {
                o.total += 1;
                o.since_report += 1;
                if now.duration_since(o.last_reported) < REPORT_EVERY {
                    None
                } else {
                    let line = format!(
                        "{name} still failing: {} more time(s) in the last {} s; latest: {context}",
                        o.since_report,
                        now.duration_since(o.last_reported).as_secs()
                    );
                    o.last_reported = now;
                    o.since_report = 0;
                    Some(line)
                }
            }
        };
        state.count(fault, &line);
        line
    }

    pub fn ended(&self, fault: Fault, now: Instant) -> Option<String> {
        if !self.any_ongoing.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let o = state.ongoing.remove(&fault)?;
        self.any_ongoing
            .store(!state.ongoing.is_empty(), Ordering::Release);
        let line = Some(format!(
            "{} works again after {} s ({} failure(s) in all)",
            fault.name(),
            now.duration_since(o.began).as_secs(),
            o.total
        ));
        state.count(fault, &line);
        line
    }

    /// Logs the fault (an error, or a warning for `WebhookRejected`) if it is new or due for its repeat
    /// report.
    pub fn error(&self, fault: Fault, context: impl std::fmt::Display) {
        if let Some(line) = self.occurred(fault, &context.to_string(), Instant::now()) {
            log::log!(fault.level(), "{line}");
        }
    }

    /// After a success: logs that the fault has ended, if it was going on.
    pub fn recovered(&self, fault: Fault) {
        if let Some(line) = self.ended(fault, Instant::now()) {
            log::info!("{line}");
        }
    }

    /// How many lines this fault has put in the log (for tests and `/health`-style checks).
    pub fn lines_logged(&self, fault: Fault) -> u64 {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.lines.get(&fault).copied().unwrap_or(0)
    }
}

impl State {
    fn count(&mut self, fault: Fault, line: &Option<String>) {
        if line.is_some() {
            *self.lines.entry(fault).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeating_fault_is_logged_when_it_begins_once_a_minute_and_when_it_ends() {
        let log = FaultLog::default();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let first = log.occurred(Fault::Handling, "user 1: disk full", t0);
        assert_eq!(
            first.as_deref(),
            Some("handling messages failed: user 1: disk full")
        );
        for i in 1..=100 {
            let at = t0 + Duration::from_millis(i * 500);
            assert_eq!(log.occurred(Fault::Handling, "disk full", at), None, "{i}");
        }
        let again = log.occurred(Fault::Handling, "user 9: disk full", t0 + s(61));
        assert_eq!(
            again.as_deref(),
            Some(
                "handling messages still failing: 101 more time(s) in the last 61 s; latest: user 9: disk full"
            )
        );
        assert_eq!(log.occurred(Fault::Handling, "x", t0 + s(62)), None);
        let ended = log.ended(Fault::Handling, t0 + s(90));
        assert_eq!(
            ended.as_deref(),
            Some("handling messages works again after 90 s (103 failure(s) in all)")
        );
        assert_eq!(log.ended(Fault::Handling, t0 + s(91)), None, "ended once");
        assert_eq!(log.lines_logged(Fault::Handling), 3);
        // It can begin again later.
        assert!(log.occurred(Fault::Handling, "again", t0 + s(95)).is_some());
    }

    #[test]
    fn faults_of_different_kinds_are_tracked_apart() {
        let log = FaultLog::default();
        let t0 = Instant::now();
        assert!(log.occurred(Fault::Sending, "timeout", t0).is_some());
        assert!(log.occurred(Fault::Intake, "timeout", t0).is_some());
        assert_eq!(log.ended(Fault::Handling, t0), None, "never failed");
        assert!(log.ended(Fault::Sending, t0).is_some());
        assert!(
            log.occurred(Fault::Intake, "timeout", t0).is_none(),
            "still ongoing"
        );
        assert!(log.ended(Fault::Intake, t0).is_some());
        assert_eq!(log.ended(Fault::Intake, t0), None);
    }
}
