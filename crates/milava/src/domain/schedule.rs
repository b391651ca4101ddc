//! Repeating local wall-clock schedules: peer-group prompts (a cron expression from content) and weekly
//! coaching steps (a weekday and time). Expressions are evaluated on LOCAL naive time in BOT_TIMEZONE and
//! each occurrence is converted with `time::local_to_utc`, so the project's one DST rule applies: a time
//! that does not exist (spring, 03:00–03:59 in Helsinki) happens an hour later by the clock (03:30 → 04:30),
//! and a time that occurs twice (autumn) happens once, at its first occurrence.
use super::time::{local_to_utc, utc_to_local};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

/// A parsed repeating schedule.
#[derive(Clone, Debug)]
pub struct LocalSchedule(cron::Schedule);

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl LocalSchedule {
    /// `minute hour day-of-month month day-of-week`, e.g. `0 19 * * Tue` (every Tuesday at 19.00). Days of
    /// the week must be names (Mon…Sun): cron dialects disagree on what the numbers mean.
    pub fn parse(expr: &str) -> Result<LocalSchedule, String> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "'{expr}' needs 5 fields: minute hour day-of-month month day-of-week (e.g. \"0 19 * * Tue\")"
            ));
        }
        if fields[4].chars().any(|c| c.is_ascii_digit()) {
            return Err(format!(
                "'{expr}': write days of the week as names (Mon, Tue, … Sun), not numbers"
            ));
        }
        cron::Schedule::from_str(&format!("0 {expr}"))
            .map(LocalSchedule)
            .map_err(|e| format!("'{expr}' is not a valid cron expression ({e})"))
    }

    /// Every week on `weekday` (1 = Monday … 7 = Sunday) at `minute_of_day` local time.
    pub fn weekly(weekday: u32, minute_of_day: u32) -> LocalSchedule {
        let day = DAY_NAMES[(weekday.clamp(1, 7) - 1) as usize];
        let minute_of_day = minute_of_day.min(1439);
        let expr = format!("{} {} * * {day}", minute_of_day % 60, minute_of_day / 60);
        LocalSchedule::parse(&expr).expect("a weekly schedule is always valid")
    }

    /// The first occurrence strictly after `after`.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Walk local wall times as if they were UTC (no DST inside the walk), starting two hours before the
        // local time of `after` (more than any clock change) so that a repeated autumn hour is not missed, and
        // convert each. The walk ends at the first occurrence after `after`; the cap only guards odd input.
        let start = Utc.from_utc_datetime(&(utc_to_local(tz, after) - Duration::hours(2)));
        self.0
            .after(&start)
            .take(100_000)
            .map(|naive| local_to_utc(tz, naive.naive_utc()))
            .find(|at| *at > after)
    }

    /// The latest occurrence in `(after, up_to]`, if any (catching up after downtime posts one, not all).
    pub fn latest_in(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
        up_to: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut latest = None;
        let mut from = after;
        // Bounded: a schedule firing every minute over a long downtime is not walked for ever.
        for _ in 0..100_000 {
            match self.next_after(tz, from) {
                Some(at) if at <= up_to => {
                    latest = Some(at);
                    from = at;
                }
                _ => break,
            }
        }
        latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Helsinki;

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    #[test]
    fn tuesday_evenings_keep_their_local_time_across_the_spring_change() {
        let s = LocalSchedule::parse("0 19 * * Tue").unwrap();
        // Tue 26.3.2024 19:00 EET = 17:00 UTC; Tue 2.4.2024 19:00 EEST = 16:00 UTC.
        assert_eq!(
            s.next_after(Helsinki, utc("2024-03-20 00:00")),
            Some(utc("2024-03-26 17:00"))
        );
        assert_eq!(
            s.next_after(Helsinki, utc("2024-03-26 17:00")),
            Some(utc("2024-04-02 16:00"))
        );
    }

    #[test]
    fn a_skipped_time_comes_an_hour_later_and_a_doubled_one_once() {
        let s = LocalSchedule::parse("30 3 * * Sun").unwrap();
        // 31.3.2024 03:30 does not exist: 04:30 summer time = 01:30 UTC.
        assert_eq!(
            s.next_after(Helsinki, utc("2024-03-30 00:00")),
            Some(utc("2024-03-31 01:30"))
        );
        // 27.10.2024 03:30 happens twice: the first (summer time, 00:30 UTC), and only once.
        let first = s.next_after(Helsinki, utc("2024-10-26 00:00")).unwrap();
        assert_eq!(first, utc("2024-10-27 00:30"));
        assert_eq!(s.next_after(Helsinki, first), Some(utc("2024-11-03 01:30")));
    }

    #[test]
    fn numbers_for_weekdays_and_wrong_shapes_are_refused() {
        assert!(
            LocalSchedule::parse("0 19 * * 2")
                .unwrap_err()
                .contains("names")
        );
        assert!(
            LocalSchedule::parse("0 0 19 * * Tue")
                .unwrap_err()
                .contains("5 fields")
        );
        assert!(LocalSchedule::parse("0 25 * * Tue").is_err());
    }

    #[test]
    fn a_schedule_every_minute_still_finds_its_next_time() {
        let s = LocalSchedule::parse("* * * * *").unwrap();
        assert_eq!(
            s.next_after(Helsinki, utc("2024-03-12 10:02")),
            Some(utc("2024-03-12 10:03"))
        );
    }

    #[test]
    fn weekly_and_catch_up() {
        let s = LocalSchedule::weekly(3, 8 * 60 + 30); // Wednesdays 8.30
        assert_eq!(
            s.next_after(Helsinki, utc("2024-03-11 00:00")),
            Some(utc("2024-03-13 06:30"))
        );
        assert_eq!(
            s.latest_in(Helsinki, utc("2024-03-11 00:00"), utc("2024-03-28 00:00")),
            Some(utc("2024-03-27 06:30"))
        );
        assert_eq!(
            s.latest_in(Helsinki, utc("2024-03-11 00:00"), utc("2024-03-12 00:00")),
            None
        );
    }
}
