//! Local wall times in the programme's time zone ↔ UTC instants, with one stated rule for the nights the
//! clocks change (Europe/Helsinki: last Sunday of March 03:00→04:00, last Sunday of October 04:00→03:00).
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
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

/// A local date and time as Finns write them: `10.4.2024 klo 12`, `10.4.2024 12.00`, `10.4.2024 12:00`,
/// `10.4. klo 12.30`, `10.4 9.00`, `2024-04-10 12:00`. A date without a year is the next such day from `today`
/// (today itself included). `klo`/`kello` (and English `at`) may stand between the date and the time.
pub fn parse_local_datetime(raw: &str, today: NaiveDate) -> Option<NaiveDateTime> {
    let lower = raw.trim().to_lowercase();
    let words: Vec<&str> = lower
        .split_whitespace()
        .filter(|w| !matches!(*w, "klo" | "klo." | "kello" | "at"))
        .collect();
    let [date, time] = words.as_slice() else {
        return None;
    };
    Some(parse_date(date, today)?.and_time(parse_clock(time)?))
}

fn number<T: std::str::FromStr>(raw: &str) -> Option<T> {
    if raw.is_empty() || raw.len() > 4 || !raw.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// `10.4.2024`, `10.4.24`, `10.4.`, `10.4` or `2024-04-10`.
fn parse_date(raw: &str, today: NaiveDate) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Some(date);
    }
    let parts: Vec<&str> = raw.strip_suffix('.').unwrap_or(raw).split('.').collect();
    match parts.as_slice() {
        [day, month, year] => {
            let year: i32 = number(year)?;
            let year = match year {
                0..=99 => 2000 + year,
                1000..=9999 => year,
                _ => return None,
            };
            NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
        }
        [day, month] => {
            let (day, month) = (number(day)?, number(month)?);
            match NaiveDate::from_ymd_opt(today.year(), month, day) {
                Some(date) if date >= today => Some(date),
                _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
            }
        }
        _ => None,
    }
}

/// `12`, `12.00`, `12:00`, `9.30`.
fn parse_clock(raw: &str) -> Option<NaiveTime> {
    let (hour, minute) = match raw.split_once(['.', ':']) {
        Some((hour, minute)) if minute.len() == 2 => (number(hour)?, number(minute)?),
        Some(_) => return None,
        None => (number(raw)?, 0),
    };
    if hour > 23 {
        return None;
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Helsinki;

    #[test]
    fn times_are_read_as_finns_write_them() {
        let today = NaiveDate::from_ymd_opt(2024, 3, 12).unwrap();
        let at = |s: &str| Some(local(s));
        for raw in [
            "10.4.2024 klo 12",
            "10.4.2024 12.00",
            "10.4.2024 12:00",
            "10.4.2024 klo 12.00",
            "10.4.2024 kello 12",
            "10.4. klo 12",
            "10.4 12",
            "10.4.24 12.00",
            "2024-04-10 12:00",
            "  10.4.2024   KLO 12  ",
            "10.04.2024 at 12:00",
        ] {
            assert_eq!(
                parse_local_datetime(raw, today),
                at("2024-04-10 12:00"),
                "{raw}"
            );
        }
        assert_eq!(
            parse_local_datetime("10.4. klo 12.30", today),
            at("2024-04-10 12:30")
        );
        assert_eq!(
            parse_local_datetime("27.3.2024 9.00", today),
            at("2024-03-27 09:00")
        );
        // Without a year: today counts, a day already past this year is next year's.
        assert_eq!(
            parse_local_datetime("12.3. klo 8", today),
            at("2024-03-12 08:00")
        );
        assert_eq!(
            parse_local_datetime("1.2. klo 8", today),
            at("2025-02-01 08:00")
        );
        for bad in [
            "",
            "klo 12",
            "10.4.2024",
            "huomenna klo 12",
            "31.2.2024 12",
            "10.4.2024 24",
            "10.4.2024 12.5",
            "10.4.2024 12.60",
            "10.4.2024 -1",
            "10.4.2024 12 13",
            "10.4.123456 12",
        ] {
            assert_eq!(parse_local_datetime(bad, today), None, "{bad}");
        }
    }

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
