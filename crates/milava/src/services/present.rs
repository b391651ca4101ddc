//! How dates and times are shown to people, shared by the features: the Finnish way (3.4.2024 klo 8.00), in
//! English with a colon (3.4.2024 at 08:00), always in the bot's time zone.
use crate::content::Content;
use crate::domain::Lang;
use crate::domain::time::utc_to_local;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// A date: 3.4.2024.
pub fn date(day: NaiveDate) -> String {
    day.format("%-d.%-m.%Y").to_string()
}

/// The date of `at` in the bot's time zone: 3.4.2024.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> String {
    date(utc_to_local(tz, at).date())
}

/// A wall-clock date and time: "3.4.2024 klo 8.00" / "3.4.2024 at 08:00".
pub fn date_time(lang: Lang, local: NaiveDateTime) -> String {
    match lang {
        Lang::Fi => local.format("%-d.%-m.%Y klo %-H.%M").to_string(),
        Lang::En => local.format("%-d.%-m.%Y at %H:%M").to_string(),
    }
}

/// `at` in the bot's time zone: "3.4.2024 klo 8.00" / "3.4.2024 at 08:00".
pub fn local_time(tz: Tz, lang: Lang, at: DateTime<Utc>) -> String {
    date_time(lang, utc_to_local(tz, at))
}

/// With the weekday: "ti 2.4.2024 klo 19.00" / "Tue 2.4.2024 at 19:00", in the bot's time zone.
pub fn local_when(content: &Content, tz: Tz, lang: Lang, at: DateTime<Utc>) -> String {
    let local = utc_to_local(tz, at);
    let weekdays: Vec<&str> = content
        .text(lang, "programme.weekdays")
        .split(',')
        .collect();
    let weekday = weekdays
        .get(local.weekday().num_days_from_monday() as usize)
        .copied()
        .unwrap_or("");
    format!("{weekday} {}", date_time(lang, local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn finnish_and_english_dates_and_times_in_the_bots_time_zone() {
        let tz: Tz = "Europe/Helsinki".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2024, 4, 3, 5, 0, 0).unwrap();
        assert_eq!(local_time(tz, Lang::Fi, at), "3.4.2024 klo 8.00");
        assert_eq!(local_time(tz, Lang::En, at), "3.4.2024 at 08:00");
        assert_eq!(local_date(tz, at), "3.4.2024");
    }
}
