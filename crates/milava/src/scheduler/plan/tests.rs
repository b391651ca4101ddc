use super::*;
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Europe::Helsinki;

fn utc(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
}

fn oulu() -> Series {
    let content = crate::content::load(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/dialogues"),
    )
    .unwrap();
    content.series("oulu-2024").unwrap().clone()
}

fn offsets() -> Vec<ReminderOffset> {
    vec![
        ReminderOffset::parse("day_before 16:00").unwrap(),
        ReminderOffset::parse("1h").unwrap(),
    ]
}

fn everyone(user: i64) -> Wants {
    Wants {
        user,
        reminders: true,
        offsets: None,
    }
}

#[test]
fn every_reminder_of_the_oulu_series_has_its_exact_utc_time_across_the_dst_change() {
    let series = oulu();
    // Plan far ahead by planning at each moment just before the first session, with a huge horizon of runs.
    let mut due: Vec<(String, DateTime<Utc>)> = Vec::new();
    let mut now = utc("2024-03-12 07:00");
    while now < utc("2024-06-01 00:00") {
        for p in plan(&series, &[everyone(7)], &offsets(), Helsinki, now) {
            if !due.iter().any(|(k, _)| *k == p.key.encode()) {
                due.push((p.key.encode(), p.due_at));
            }
        }
        now += Duration::hours(12);
    }
    let reminders: Vec<(String, DateTime<Utc>)> = due
        .into_iter()
        .filter(|(k, _)| k.contains(":reminder:"))
        .collect();
    let times: Vec<DateTime<Utc>> = reminders.iter().map(|(_, t)| *t).collect();
    assert_eq!(
        times,
        vec![
            utc("2024-03-18 14:00"), // 19.3. kick-off, winter time: 16.00 the day before = 14.00 UTC
            utc("2024-03-19 05:00"), // one hour before 8.00 EET
            utc("2024-04-02 13:00"), // 3.4. summer time: 16.00 EEST = 13.00 UTC
            utc("2024-04-03 04:00"),
            utc("2024-04-08 13:00"),
            utc("2024-04-09 04:00"),
            utc("2024-04-22 13:00"),
            utc("2024-04-23 04:00"),
            utc("2024-05-13 13:00"),
            utc("2024-05-14 04:00"),
        ]
    );
}

#[test]
fn planning_twice_gives_the_same_keys_and_a_moved_session_new_ones() {
    let mut series = oulu();
    let now = utc("2024-03-17 12:00");
    let first = plan(&series, &[everyone(7)], &offsets(), Helsinki, now);
    assert_eq!(
        first,
        plan(&series, &[everyone(7)], &offsets(), Helsinki, now)
    );
    series.sessions[0].start += Duration::hours(1);
    series.sessions[0].end += Duration::hours(1);
    let moved = plan(&series, &[everyone(7)], &offsets(), Helsinki, now);
    assert!(moved.iter().all(|m| {
        !first
            .iter()
            .any(|f| f.key == m.key && f.session_id == "oulu-2024-1")
    }));
}

#[test]
fn choices_and_the_start_of_a_session_are_respected() {
    let series = oulu();
    let some = Wants {
        user: 8,
        reminders: true,
        offsets: Some(vec!["60m".into()]),
    };
    let off = Wants {
        user: 9,
        reminders: false,
        offsets: None,
    };
    let planned = plan(
        &series,
        &[some, off],
        &offsets(),
        Helsinki,
        utc("2024-03-18 15:00"),
    );
    let keys: Vec<String> = planned.iter().map(|p| p.key.encode()).collect();
    assert_eq!(
        planned
            .iter()
            .filter(|p| p.user == 8 && matches!(p.kind, PlannedKind::Reminder(_)))
            .count(),
        1
    );
    assert!(
        planned
            .iter()
            .all(|p| p.user != 9 || p.kind == PlannedKind::CheckIn),
        "{keys:?}"
    );
    // After the session began, no reminder is planned for it, but check-in still is until it ends.
    let during = plan(
        &series,
        &[everyone(7)],
        &offsets(),
        Helsinki,
        utc("2024-03-19 07:00"),
    );
    assert!(
        during
            .iter()
            .all(|p| p.kind == PlannedKind::CheckIn || p.session_id != "oulu-2024-1")
    );
    assert!(
        during
            .iter()
            .any(|p| p.kind == PlannedKind::CheckIn && p.session_id == "oulu-2024-1")
    );
}

#[test]
fn the_next_planning_time_is_when_the_next_item_enters_the_horizon() {
    let series = oulu();
    let now = utc("2024-03-12 07:00");
    assert_eq!(
        next_planning_time(&series, &offsets(), Helsinki, now),
        Some(utc("2024-03-18 14:00") - HORIZON)
    );
}
