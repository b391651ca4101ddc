//! The generated files are parsed back with the `icalendar` crate's parser (which unfolds and unescapes as a
//! calendar application does), and the VTIMEZONE rules are evaluated independently of chrono-tz.
use super::*;
use chrono::{NaiveTime, TimeZone};
use chrono_tz::Europe::Helsinki;
use icalendar::parser::{Component, read_calendar, unfold};
use std::collections::HashMap;

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn stamp() -> DateTime<Utc> {
    Utc.from_utc_datetime(&local("2024-03-01 10:15"))
}

fn content() -> Content {
    crate::content::load(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/dialogues"),
    )
    .unwrap()
}

fn event(uid: &str, start: &str, end: &str) -> CalendarEvent {
    CalendarEvent {
        uid: uid.to_string(),
        start: local(start),
        end: local(end),
        summary: "MILAVA: Verkkotapaaminen 1".to_string(),
        description: "Kuormitustekijät".to_string(),
        location: Some("https://example.org/join/abc".to_string()),
        url: Some("https://example.org/join/abc".to_string()),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("the file is UTF-8, so no character was split")
}

/// The calendar's components after unfolding (owned, so the text can be dropped).
fn parse(file: &str) -> Vec<Component<'static>> {
    let unfolded = unfold(file);
    let calendar = read_calendar(&unfolded).expect("a parseable iCalendar file");
    calendar.components.iter().map(owned_component).collect()
}

fn owned_component(c: &Component<'_>) -> Component<'static> {
    Component {
        name: c.name.to_owned(),
        properties: c
            .properties
            .iter()
            .map(|p| icalendar::parser::Property {
                name: p.name.to_owned(),
                val: p.val.to_owned(),
                params: p
                    .params
                    .iter()
                    .map(|param| icalendar::parser::Parameter {
                        key: param.key.to_owned(),
                        val: param.val.as_ref().map(|v| v.to_owned()),
                    })
                    .collect(),
            })
            .collect(),
        components: c.components.iter().map(owned_component).collect(),
    }
}

fn prop<'a>(c: &'a Component<'_>, name: &str) -> Option<&'a str> {
    c.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.val.as_str())
}

fn param<'a>(c: &'a Component<'_>, name: &str, key: &str) -> Option<&'a str> {
    c.properties
        .iter()
        .find(|p| p.name.as_str() == name)?
        .params
        .iter()
        .find(|p| p.key.as_str() == key)?
        .val
        .as_ref()
        .map(|v| v.as_str())
}

fn named<'a>(components: &'a [Component<'static>], name: &str) -> Vec<&'a Component<'static>> {
    components
        .iter()
        .filter(|c| c.name.as_str() == name)
        .collect()
}

// --- An evaluator of VTIMEZONE observances, as a calendar application reads them ---------------------------

struct Observance {
    start: NaiveDateTime,
    from: i64,
    to: i64,
    /// BYMONTH, the week (−1 = last) and weekday of BYDAY.
    rule: Option<(u32, i64, Weekday)>,
}

fn offset_seconds(raw: &str) -> i64 {
    let sign = if raw.starts_with('-') { -1 } else { 1 };
    let digits = &raw[1..];
    let hours: i64 = digits[0..2].parse().unwrap();
    let minutes: i64 = digits[2..4].parse().unwrap();
    sign * (hours * 3600 + minutes * 60)
}

fn observances(vtimezone: &Component<'_>) -> Vec<Observance> {
    vtimezone
        .components
        .iter()
        .map(|c| {
            let rule = prop(c, "RRULE").map(|rrule| {
                let parts: HashMap<&str, &str> = rrule
                    .split(';')
                    .map(|kv| kv.split_once('=').unwrap())
                    .collect();
                assert_eq!(parts["FREQ"], "YEARLY");
                let byday = parts["BYDAY"];
                let (week, day) = byday.split_at(byday.len() - 2);
                let weekday = match day {
                    "SU" => Weekday::Sun,
                    "MO" => Weekday::Mon,
                    other => panic!("weekday {other} not expected here"),
                };
                (
                    parts["BYMONTH"].parse().unwrap(),
                    week.parse().unwrap(),
                    weekday,
                )
            });
            Observance {
                start: NaiveDateTime::parse_from_str(prop(c, "DTSTART").unwrap(), "%Y%m%dT%H%M%S")
                    .unwrap(),
                from: offset_seconds(prop(c, "TZOFFSETFROM").unwrap()),
                to: offset_seconds(prop(c, "TZOFFSETTO").unwrap()),
                rule,
            }
        })
        .collect()
}

fn nth_weekday(year: i32, month: u32, week: i64, weekday: Weekday) -> NaiveDate {
    if week > 0 {
        NaiveDate::from_weekday_of_month_opt(year, month, weekday, week as u8).unwrap()
    } else {
        let mut day = NaiveDate::from_ymd_opt(year, month + 1, 1)
            .unwrap_or(NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap())
            - Duration::days(1);
        while day.weekday() != weekday {
            day -= Duration::days(1);
        }
        day
    }
}

/// Every onset (UTC) with the offset it brings, from the observances' rules, for the years 2000–2040.
fn onsets(observances: &[Observance]) -> Vec<(NaiveDateTime, i64)> {
    let mut all = Vec::new();
    for o in observances {
        match o.rule {
            None => all.push((o.start - Duration::seconds(o.from), o.to)),
            Some((month, week, weekday)) => {
                for year in 2000..=2040 {
                    let wall = nth_weekday(year, month, week, weekday).and_time(o.start.time());
                    if wall >= o.start {
                        all.push((wall - Duration::seconds(o.from), o.to));
                    }
                }
            }
        }
    }
    all.sort();
    all
}

/// The UTC instant of a local wall time according to the VTIMEZONE alone.
fn to_utc(observances: &[Observance], wall: NaiveDateTime) -> NaiveDateTime {
    let onsets = onsets(observances);
    let mut offsets: Vec<i64> = onsets.iter().map(|(_, to)| *to).collect();
    offsets.dedup();
    for offset in offsets {
        let utc = wall - Duration::seconds(offset);
        let in_force = onsets
            .iter()
            .rev()
            .find(|(at, _)| *at <= utc)
            .map(|(_, to)| *to);
        if in_force == Some(offset) {
            return utc;
        }
    }
    panic!("{wall} is not covered by the VTIMEZONE");
}

// --- Tests ----------------------------------------------------------------------------------------------------

#[test]
fn the_file_is_a_publishable_calendar_with_crlf_lines() {
    let file = text(&calendar(
        &[event(
            "a@milava-bot",
            "2024-04-03 08:00",
            "2024-04-03 12:00",
        )],
        Helsinki,
        PROD_ID,
        stamp(),
    ));
    assert!(file.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(file.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(file.matches('\n').count(), file.matches("\r\n").count());
    let unfolded = unfold(&file);
    let calendar = read_calendar(&unfolded).unwrap();
    let top: HashMap<&str, &str> = calendar
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.val.as_str()))
        .collect();
    assert_eq!(top["VERSION"], "2.0");
    assert_eq!(top["PRODID"], PROD_ID);
    assert_eq!(top["CALSCALE"], "GREGORIAN");
    assert_eq!(top["METHOD"], "PUBLISH");
}

#[test]
fn helsinki_gets_the_eu_summer_time_rules() {
    let file = text(&calendar(
        &[event(
            "a@milava-bot",
            "2024-04-03 08:00",
            "2024-04-03 12:00",
        )],
        Helsinki,
        PROD_ID,
        stamp(),
    ));
    let components = parse(&file);
    let zones = named(&components, "VTIMEZONE");
    assert_eq!(zones.len(), 1);
    let zone = zones[0];
    assert_eq!(prop(zone, "TZID"), Some("Europe/Helsinki"));
    assert_eq!(zone.components.len(), 2, "one DAYLIGHT and one STANDARD");
    let daylight = named(&zone.components, "DAYLIGHT")[0];
    assert_eq!(prop(daylight, "TZOFFSETFROM"), Some("+0200"));
    assert_eq!(prop(daylight, "TZOFFSETTO"), Some("+0300"));
    assert_eq!(prop(daylight, "TZNAME"), Some("EEST"));
    assert_eq!(
        prop(daylight, "RRULE"),
        Some("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")
    );
    // The last Sunday of March 2023, at 03:00 local (01:00 UTC).
    assert_eq!(prop(daylight, "DTSTART"), Some("20230326T030000"));
    let standard = named(&zone.components, "STANDARD")[0];
    assert_eq!(prop(standard, "TZOFFSETFROM"), Some("+0300"));
    assert_eq!(prop(standard, "TZOFFSETTO"), Some("+0200"));
    assert_eq!(prop(standard, "TZNAME"), Some("EET"));
    assert_eq!(
        prop(standard, "RRULE"),
        Some("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU")
    );
    // The last Sunday of October 2023, at 04:00 local (01:00 UTC).
    assert_eq!(prop(standard, "DTSTART"), Some("20231029T040000"));
}

#[test]
fn sessions_on_both_sides_of_the_spring_change_mean_the_right_utc_times() {
    let events = [
        event("winter@milava-bot", "2024-03-19 08:00", "2024-03-19 12:00"),
        event("summer@milava-bot", "2024-04-03 08:00", "2024-04-03 12:00"),
    ];
    let components = parse(&text(&calendar(&events, Helsinki, PROD_ID, stamp())));
    let zone = observances(named(&components, "VTIMEZONE")[0]);
    let vevents = named(&components, "VEVENT");
    assert_eq!(vevents.len(), 2);
    let start = |e: &Component<'_>| {
        assert_eq!(param(e, "DTSTART", "TZID"), Some("Europe/Helsinki"));
        NaiveDateTime::parse_from_str(prop(e, "DTSTART").unwrap(), "%Y%m%dT%H%M%S").unwrap()
    };
    // 19.3.2024 08:00 is winter time (+02:00), 3.4.2024 08:00 summer time (+03:00).
    assert_eq!(prop(vevents[0], "DTSTART"), Some("20240319T080000"));
    assert_eq!(to_utc(&zone, start(vevents[0])), local("2024-03-19 06:00"));
    assert_eq!(prop(vevents[1], "DTSTART"), Some("20240403T080000"));
    assert_eq!(to_utc(&zone, start(vevents[1])), local("2024-04-03 05:00"));
    assert_eq!(prop(vevents[1], "DTEND"), Some("20240403T120000"));
    assert_eq!(param(vevents[1], "DTEND", "TZID"), Some("Europe/Helsinki"));
}

#[test]
fn every_real_session_means_the_same_instant_as_the_bot_uses() {
    let content = content();
    let mut events = Vec::new();
    for series in &content.series {
        for session in &series.sessions {
            events.push(CalendarEvent::from_session(
                &content,
                Lang::Fi,
                series,
                session,
            ));
        }
    }
    assert_eq!(events.len(), 10);
    let components = parse(&text(&calendar(&events, Helsinki, PROD_ID, stamp())));
    let zone = observances(named(&components, "VTIMEZONE")[0]);
    let vevents = named(&components, "VEVENT");
    assert_eq!(vevents.len(), events.len());
    for (event, parsed) in events.iter().zip(vevents) {
        for (name, wall) in [("DTSTART", event.start), ("DTEND", event.end)] {
            let shown = NaiveDateTime::parse_from_str(prop(parsed, name).unwrap(), "%Y%m%dT%H%M%S")
                .unwrap();
            assert_eq!(shown, wall);
            assert_eq!(
                to_utc(&zone, shown),
                crate::domain::time::local_to_utc(Helsinki, wall).naive_utc(),
                "{} {name}",
                event.uid
            );
        }
    }
}

#[test]
fn events_carry_uid_stamp_texts_place_and_link() {
    let with_link = CalendarEvent {
        uid: CalendarEvent::uid_for("oulu-2024-2"),
        start: local("2024-04-03 08:00"),
        end: local("2024-04-03 12:00"),
        summary: "MILAVA: Verkkotapaaminen 1".into(),
        description: "MILAVA-työpajasarja Oulu, kevät 2024\nVerkkotapaaminen 1 – Kuormitustekijät"
            .into(),
        location: Some("https://oamk.zoom.us/j/123456789?pwd=abc;def".into()),
        url: Some("https://oamk.zoom.us/j/123456789?pwd=abc;def".into()),
    };
    let in_person = CalendarEvent {
        uid: CalendarEvent::uid_for("oulu-2024-1"),
        start: local("2024-03-19 08:00"),
        end: local("2024-03-19 12:00"),
        summary: "MILAVA: Aloitustapaaminen".into(),
        description: String::new(),
        location: Some("Oulu (paikka ilmoitetaan ennen tapaamista)".into()),
        url: None,
    };
    let components = parse(&text(&calendar(
        &[with_link.clone(), in_person.clone()],
        Helsinki,
        PROD_ID,
        stamp(),
    )));
    let vevents = named(&components, "VEVENT");
    assert_eq!(prop(vevents[0], "UID"), Some("oulu-2024-2@milava-bot"));
    assert_eq!(prop(vevents[0], "DTSTAMP"), Some("20240301T101500Z"));
    assert_eq!(
        prop(vevents[0], "SUMMARY"),
        Some(with_link.summary.as_str())
    );
    assert_eq!(
        prop(vevents[0], "DESCRIPTION"),
        Some(with_link.description.as_str())
    );
    assert_eq!(prop(vevents[0], "LOCATION"), with_link.location.as_deref());
    assert_eq!(prop(vevents[0], "URL"), with_link.url.as_deref());
    assert_eq!(prop(vevents[1], "UID"), Some("oulu-2024-1@milava-bot"));
    assert_eq!(prop(vevents[1], "LOCATION"), in_person.location.as_deref());
    assert_eq!(prop(vevents[1], "URL"), None);
    assert_eq!(
        prop(vevents[1], "DESCRIPTION"),
        None,
        "an empty text is left out"
    );
}

#[test]
fn special_characters_are_escaped_and_come_back_unchanged() {
    let mut tricky = event("x@milava-bot", "2024-04-03 08:00", "2024-04-03 12:00");
    tricky.summary = r"Isät, lapset; ja C:\polku".into();
    tricky.description = "Rivi 1\nRivi 2\r\nRivi 3, ja; loppu\\".into();
    tricky.location = Some("Oulu, Kotkantie 1; sali 2".into());
    let file = text(&calendar(&[tricky.clone()], Helsinki, PROD_ID, stamp()));
    let unfolded = unfold(&file);
    assert!(unfolded.contains(r"SUMMARY:Isät\, lapset\; ja C:\\polku"));
    assert!(unfolded.contains(r"DESCRIPTION:Rivi 1\nRivi 2\nRivi 3\, ja\; loppu\\"));
    assert!(unfolded.contains(r"LOCATION:Oulu\, Kotkantie 1\; sali 2"));
    let components = parse(&file);
    let vevent = named(&components, "VEVENT")[0];
    assert_eq!(prop(vevent, "SUMMARY"), Some(tricky.summary.as_str()));
    assert_eq!(
        prop(vevent, "DESCRIPTION"),
        Some("Rivi 1\nRivi 2\nRivi 3, ja; loppu\\")
    );
    assert_eq!(prop(vevent, "LOCATION"), tricky.location.as_deref());
}

#[test]
fn long_finnish_lines_fold_at_75_octets_without_splitting_characters() {
    let mut long = event("pitka@milava-bot", "2024-05-14 08:00", "2024-05-14 12:00");
    long.description = "Päätöstapaamisessa käydään läpi, miten hyvät isätyön käytännöt viedään eteenpäin \
        omassa työssä: äitiys- ja lastenneuvolassa, perhetyössä, varhaiskasvatuksessa ja sosiaalityössä. \
        Åbo, Öja ja Äänekoski – kaikki ovat tervetulleita! 👨‍👧‍👦\nToinen rivi: ääöö, ÅÅ; \\ loppu."
        .into();
    long.summary = "ä".repeat(80);
    let file = text(&calendar(&[long.clone()], Helsinki, PROD_ID, stamp()));
    let lines: Vec<&str> = file.split("\r\n").collect();
    assert!(
        lines.iter().any(|l| l.starts_with(' ')),
        "something was folded"
    );
    // Unfolding (dropping each CRLF and the one space after it) gives back whole content lines.
    assert!(unfold(&file).split("\r\n").all(|l| !l.starts_with(' ')));
    for line in &lines {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        assert!(
            !line.ends_with(' '),
            "no fold right after a space: {line:?}"
        );
        assert!(
            !line.starts_with("  "),
            "no fold right before a space: {line:?}"
        );
        let trailing = line.len() - line.trim_end_matches('\\').len();
        assert!(trailing % 2 == 0, "an escape was split: {line:?}");
    }
    // Folding was tight: a folded line is cut only where the next character would not fit.
    let summary_lines: Vec<&&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("SUMMARY:"))
        .take(3)
        .collect();
    assert_eq!(
        summary_lines[0].len(),
        74,
        "'SUMMARY:' (8) + 33 × 'ä' (2 octets)"
    );
    assert_eq!(summary_lines[1].len(), 75, "space + 37 × 'ä'");
    let components = parse(&file);
    let vevent = named(&components, "VEVENT")[0];
    assert_eq!(prop(vevent, "DESCRIPTION"), Some(long.description.as_str()));
    assert_eq!(prop(vevent, "SUMMARY"), Some(long.summary.as_str()));
}

#[test]
fn other_zones_get_their_own_rules() {
    let events = [event(
        "a@milava-bot",
        "2024-07-01 08:00",
        "2024-07-01 09:00",
    )];
    let new_york = parse(&text(&calendar(
        &events,
        chrono_tz::America::New_York,
        PROD_ID,
        stamp(),
    )));
    let zone = named(&new_york, "VTIMEZONE")[0];
    assert_eq!(prop(zone, "TZID"), Some("America/New_York"));
    let daylight = named(&zone.components, "DAYLIGHT")[0];
    assert_eq!(
        prop(daylight, "RRULE"),
        Some("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU")
    );
    assert_eq!(prop(daylight, "TZOFFSETTO"), Some("-0400"));
    let standard = named(&zone.components, "STANDARD")[0];
    assert_eq!(
        prop(standard, "RRULE"),
        Some("FREQ=YEARLY;BYMONTH=11;BYDAY=1SU")
    );
    assert_eq!(
        to_utc(&observances(zone), local("2024-07-01 08:00")),
        local("2024-07-01 12:00")
    );
    assert_eq!(
        to_utc(&observances(zone), local("2024-01-15 08:00")),
        local("2024-01-15 13:00")
    );

    let tokyo = parse(&text(&calendar(
        &events,
        chrono_tz::Asia::Tokyo,
        PROD_ID,
        stamp(),
    )));
    let zone = named(&tokyo, "VTIMEZONE")[0];
    assert_eq!(zone.components.len(), 1);
    let standard = named(&zone.components, "STANDARD")[0];
    assert_eq!(prop(standard, "TZOFFSETFROM"), Some("+0900"));
    assert_eq!(prop(standard, "TZOFFSETTO"), Some("+0900"));
    assert_eq!(prop(standard, "RRULE"), None);
    assert_eq!(
        to_utc(&observances(zone), local("2024-07-01 08:00")),
        local("2024-06-30 23:00")
    );
}

#[test]
fn events_from_sessions_are_worded_from_the_content() {
    let content = content();
    let series = content.series("oulu-2024").unwrap();
    let first = &series.sessions[0];
    let fi = CalendarEvent::from_session(&content, Lang::Fi, series, first);
    assert_eq!(fi.uid, "oulu-2024-1@milava-bot");
    assert_eq!(fi.start, local("2024-03-19 08:00"));
    assert_eq!(fi.end, local("2024-03-19 12:00"));
    assert_eq!(fi.summary, "MILAVA: Aloitustapaaminen");
    assert!(fi.description.contains("Oulu, kevät 2024"));
    assert!(fi.description.contains("Isyyden voimavarat"));
    assert_eq!(
        fi.location.as_deref(),
        Some("Oulu (paikka ilmoitetaan ennen tapaamista)")
    );
    assert_eq!(fi.url, None);

    let online = CalendarEvent::from_session(&content, Lang::En, series, &series.sessions[1]);
    assert_eq!(online.summary, "MILAVA: Online meeting 1");
    assert!(online.description.contains("Oulu, spring 2024"));
    assert_eq!(
        online.location.as_deref(),
        Some(content.text(Lang::En, "calendar.online_no_link"))
    );

    let mut linked = series.sessions[1].clone();
    linked.link = Some("https://example.org/meet".into());
    let linked = CalendarEvent::from_session(&content, Lang::En, series, &linked);
    assert_eq!(linked.location.as_deref(), Some("https://example.org/meet"));
    assert_eq!(linked.url.as_deref(), Some("https://example.org/meet"));
    assert_eq!(
        NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        linked.start.time()
    );
}
