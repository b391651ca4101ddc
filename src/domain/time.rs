//! Local wall times in the programme's time zone ↔ UTC instants, with one stated rule for the nights the
//! clocks change (Europe/Helsinki: last Sunday of March 03:00→04:00, last Sunday of October 04:00→03:00).
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The UTC instant of a local wall time.
/// - A time that does not exist (skipped in spring, e.g. 03:30 on 31.3.2024) is moved forward by the length of
///   the gap: 03:30 becomes 04:30 summer time — the moment a clock that was not changed would show 03:30.
/// - A time that occurs twice (autumn, e.g. 03:30 on 27.10.2024) means its first occurrence (summer time).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(first) = tz.from_local_datetime(&local).earliest() {
        return first.with_timezone(&Utc);
    }
    // Inside a gap: read the wall time with the offset in force just before the gap.
    use chrono::Offset;
    let before = (1..=6)
        .filter_map(|h| {
            tz.from_local_datetime(&(local - chrono::Duration::hours(h)))
                .earliest()
        })
        .next()
        .map(|t| t.offset().fix().local_minus_utc())
        .unwrap_or(0);
    Utc.from_utc_datetime(&(local - chrono::Duration::seconds(i64::from(before))))
}

/// A UTC instant as local wall time.
pub fn utc_to_local(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Helsinki;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&local(s))
    }

    #[test]
    fn winter_and_summer_time_in_helsinki() {
        assert_eq!(
            local_to_utc(Helsinki, local("2024-03-19 08:00")),
            utc("2024-03-19 06:00")
        );
        assert_eq!(
            local_to_utc(Helsinki, local("2024-04-03 08:00")),
            utc("2024-04-03 05:00")
        );
    }

    #[test]
    fn a_skipped_time_moves_forward_by_the_gap() {
        assert_eq!(
            local_to_utc(Helsinki, local("2024-03-31 03:30")),
            utc("2024-03-31 01:30")
        );
        assert_eq!(
            utc_to_local(Helsinki, utc("2024-03-31 01:30")),
            local("2024-03-31 04:30")
        );
    }

    #[test]
    fn a_repeated_time_means_its_first_occurrence() {
        assert_eq!(
            local_to_utc(Helsinki, local("2024-10-27 03:30")),
            utc("2024-10-27 00:30")
        );
    }
}
