//! Registration windows: which workshop series take registrations now (content's `registration_opens` and
//! `registration_closes`, by default until the first session starts; never past the retention date).
use super::Turn;
use crate::domain::programme::{Registration, Series};
use crate::domain::time::utc_to_local;
use chrono::NaiveDateTime;

fn now_local(turn: &Turn<'_>) -> NaiveDateTime {
    utc_to_local(turn.tz(), turn.now)
}

/// Whether `series` takes registrations now.
pub fn registration(turn: &Turn<'_>, series: &Series) -> Registration {
    series.registration(now_local(turn), turn.config.personal_data_retention_days)
}

pub fn is_open(turn: &Turn<'_>, series: &Series) -> bool {
    registration(turn, series) == Registration::Open
}

/// The series open for registration now, in content order.
pub fn open_series(turn: &Turn<'_>) -> Vec<Series> {
    turn.content
        .series
        .iter()
        .filter(|s| is_open(turn, s))
        .cloned()
        .collect()
}

/// Ids of the series open for registration now (what a series step accepts).
pub fn open_ids(turn: &Turn<'_>) -> Vec<String> {
    open_series(turn).into_iter().map(|s| s.id).collect()
}

/// "Registration for X opens on …" / "… has closed", for a series that is not open now (`None` if it is).
pub fn not_open_line(turn: &Turn<'_>, series: &Series) -> Option<String> {
    let name = series.name.get(turn.lang());
    match registration(turn, series) {
        Registration::Open => None,
        Registration::NotYet(opens) => {
            let date = super::present::date_time(turn.lang(), opens);
            Some(turn.fill(
                "timeline.series_not_open_yet",
                &[("series", name), ("date", &date)],
            ))
        }
        Registration::Closed => Some(turn.fill("timeline.series_closed", &[("series", name)])),
    }
}
