//! When reminders go out before a session. Offsets come from content (`programme.toml`, `[reminders]`):
//! `"day_before 16:00"` (local time on the previous day) or a lead time such as `"1h"` or `"30m"`.
use super::time::local_to_utc;
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReminderOffset {
    /// At this local time on the day before the session.
    DayBefore(NaiveTime),
    /// This long before the session starts.
    Before(Duration),
}

impl ReminderOffset {
    pub fn parse(raw: &str) -> Option<ReminderOffset> {
        let raw = raw.trim();
        if let Some(time) = raw.strip_prefix("day_before") {
            return NaiveTime::parse_from_str(time.trim(), "%H:%M")
                .ok()
                .map(ReminderOffset::DayBefore);
        }
        let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit())?);
        let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
        match unit {
            "m" | "min" => Some(ReminderOffset::Before(Duration::minutes(n))),
            "h" => Some(ReminderOffset::Before(Duration::hours(n))),
            "d" => Some(ReminderOffset::Before(Duration::days(n))),
            _ => None,
        }
    }

    /// A stable id for idempotency keys and settings, e.g. `day_before_1600` or `60m`.
    pub fn id(&self) -> String {
        match self {
            ReminderOffset::DayBefore(t) => format!("day_before_{}", t.format("%H%M")),
            ReminderOffset::Before(d) => format!("{}m", d.num_minutes()),
        }
    }

    /// When this reminder is due for a session starting at `start` (local wall time in `tz`).
    pub fn due(&self, start: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
        match self {
            ReminderOffset::DayBefore(time) => {
                let day_before = start.date().pred_opt().unwrap_or(start.date());
                local_to_utc(tz, day_before.and_time(*time))
            }
            // A lead time is real elapsed time: one hour before is 60 minutes before, even across a DST change.
            ReminderOffset::Before(lead) => local_to_utc(tz, start) - *lead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Helsinki;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&local(s))
    }

    #[test]
    fn offsets_parse_and_have_stable_ids() {
        assert_eq!(
            ReminderOffset::parse("day_before 16:00").unwrap().id(),
            "day_before_1600"
        );
        assert_eq!(ReminderOffset::parse("1h").unwrap().id(), "60m");
        assert_eq!(ReminderOffset::parse("30m").unwrap().id(), "30m");
        for bad in ["", "day_before", "day_before 25:00", "1y", "0h", "h", "-1h"] {
            assert_eq!(ReminderOffset::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reminders_are_right_across_the_spring_dst_change() {
        let day_before = ReminderOffset::parse("day_before 16:00").unwrap();
        let hour = ReminderOffset::parse("1h").unwrap();
        // Oulu kick-off 19.3.2024 08:00 (winter time, UTC+2).
        assert_eq!(
            day_before.due(local("2024-03-19 08:00"), Helsinki),
            utc("2024-03-18 14:00")
        );
        assert_eq!(
            hour.due(local("2024-03-19 08:00"), Helsinki),
            utc("2024-03-19 05:00")
        );
        // Oulu online meeting 3.4.2024 08:00 (summer time, UTC+3).
        assert_eq!(
            day_before.due(local("2024-04-03 08:00"), Helsinki),
            utc("2024-04-02 13:00")
        );
        assert_eq!(
            hour.due(local("2024-04-03 08:00"), Helsinki),
            utc("2024-04-03 04:00")
        );
        // A session on Monday 1.4.2024: the day before is the day of the change itself.
        assert_eq!(
            day_before.due(local("2024-04-01 08:00"), Helsinki),
            utc("2024-03-31 13:00")
        );
    }
}
