//! iCalendar files (RFC 5545) of workshop sessions, for Google Calendar, Outlook and Apple Calendar.
//!
//! Sessions are local wall times in the bot's time zone, so every DTSTART/DTEND carries `TZID=<zone>` and the
//! file defines that zone in a VTIMEZONE. The VTIMEZONE is derived from chrono-tz: the offset changes around
//! the events' years are found, and changes that recur every year on the same weekday rule (for Europe/Helsinki
//! the last Sunday of March at 03:00 and of October at 04:00 local time) become one yearly RRULE each.
//!
//! Content lines are folded at 75 octets without splitting a UTF-8 character or an escape, and end in CRLF.
use crate::content::Content;
use crate::domain::Lang;
use crate::domain::programme::{Series, Session};
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc, Weekday,
};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// The PRODID of the files the bot makes.
pub const PROD_ID: &str = "-//MILAVA//milava-bot//EN";
/// Longest content line in octets, without the CRLF (RFC 5545, 3.1).
const MAX_LINE_OCTETS: usize = 75;
const LOCAL_FORMAT: &str = "%Y%m%dT%H%M%S";
const UTC_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// One event of a calendar file, with texts already in the user's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable across downloads, so importing again updates the event instead of adding a copy.
    pub uid: String,
    /// Local wall time in the calendar's time zone.
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub summary: String,
    pub description: String,
    /// The place, or the join link of an online session.
    pub location: Option<String>,
    /// The join link, when there is one.
    pub url: Option<String>,
}

impl CalendarEvent {
    /// The UID of a session's event: `{session_id}@milava-bot`.
    pub fn uid_for(session_id: &str) -> String {
        format!("{session_id}@milava-bot")
    }

    /// The event of a workshop session, worded from the content (`calendar.*`) in the given language.
    pub fn from_session(content: &Content, lang: Lang, series: &Series, session: &Session) -> Self {
        let title = session.title.get(lang);
        let series_name = series.name.get(lang);
        let description = match &session.theme {
            Some(theme) => content.fill(
                lang,
                "calendar.description",
                &[
                    ("series", series_name),
                    ("title", title),
                    ("theme", theme.get(lang)),
                ],
            ),
            None => content.fill(
                lang,
                "calendar.description_no_theme",
                &[("series", series_name), ("title", title)],
            ),
        };
        let location = match (&session.place, &session.link) {
            (Some(place), _) => Some(place.get(lang).to_string()),
            (None, Some(link)) => Some(link.clone()),
            (None, None) if session.online => {
                Some(content.text(lang, "calendar.online_no_link").to_string())
            }
            (None, None) => None,
        };
        CalendarEvent {
            uid: Self::uid_for(&session.id),
            start: session.start,
            end: session.end,
            summary: content.fill(
                lang,
                "calendar.summary",
                &[("title", title), ("series", series_name)],
            ),
            description,
            location,
            url: session.link.clone(),
        }
    }
}

/// An iCalendar file (`METHOD:PUBLISH`) with the events, whose local times are in `tz`. `stamp` is the DTSTAMP
/// of every event: when the file was made.
pub fn calendar(events: &[CalendarEvent], tz: Tz, prod_id: &str, stamp: DateTime<Utc>) -> Vec<u8> {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line(&format!("PRODID:{}", escape_text(prod_id)));
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    timezone(&mut out, tz, events, stamp);
    let stamp = stamp.format(UTC_FORMAT).to_string();
    let tzid = tz.name();
    for event in events {
        out.line("BEGIN:VEVENT");
        out.line(&format!("UID:{}", escape_text(&event.uid)));
        out.line(&format!("DTSTAMP:{stamp}"));
        out.line(&format!(
            "DTSTART;TZID={tzid}:{}",
            event.start.format(LOCAL_FORMAT)
        ));
        out.line(&format!(
            "DTEND;TZID={tzid}:{}",
            event.end.format(LOCAL_FORMAT)
        ));
        out.line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if !event.description.trim().is_empty() {
            out.line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
        }
        if let Some(location) = event.location.as_deref().filter(|l| !l.trim().is_empty()) {
            out.line(&format!("LOCATION:{}", escape_text(location)));
        }
        if let Some(url) = event.url.as_deref().filter(|u| !u.trim().is_empty()) {
            out.line(&format!("URL:{}", clean_uri(url)));
        }
        out.line("END:VEVENT");
    }
    out.line("END:VCALENDAR");
    out.0.into_bytes()
}

/// Folded content lines, each ending in CRLF.
#[derive(Default)]
struct Lines(String);

impl Lines {
    /// Appends one content line, folded so that no physical line exceeds 75 octets: a continuation line starts
    /// with a space, which counts. A multi-byte character or a backslash escape (`\n`, `\,`) is never split,
    /// and a fold is moved a little back rather than put next to a space (lenient readers that unfold by
    /// trimming white space would lose that space).
    fn line(&mut self, line: &str) {
        // Byte ranges of the units that must stay together.
        let mut units: Vec<(usize, usize)> = Vec::new();
        let mut chars = line.char_indices();
        while let Some((start, c)) = chars.next() {
            let mut end = start + c.len_utf8();
            if c == '\\'
                && let Some((next, escaped)) = chars.next()
            {
                end = next + escaped.len_utf8();
            }
            units.push((start, end));
        }
        let is_space = |unit: Option<&(usize, usize)>| {
            unit.is_some_and(|&(start, end)| line[start..end].chars().all(char::is_whitespace))
        };
        let mut first = 0;
        let mut budget = MAX_LINE_OCTETS;
        while first < units.len() {
            let line_start = units[first].0;
            let mut cut = first;
            while cut < units.len() && units[cut].1 - line_start <= budget {
                cut += 1;
            }
            if cut < units.len() {
                let mut nicer = cut;
                while nicer > first + 1
                    && cut - nicer < 12
                    && (is_space(units.get(nicer)) || is_space(units.get(nicer - 1)))
                {
                    nicer -= 1;
                }
                if !is_space(units.get(nicer)) && !is_space(units.get(nicer - 1)) {
                    cut = nicer;
                }
            }
            let cut = cut.max(first + 1);
            let line_end = units[cut - 1].1;
            if first > 0 {
                self.0.push_str("\r\n ");
            }
            self.0.push_str(&line[line_start..line_end]);
            first = cut;
            budget = MAX_LINE_OCTETS - 1;
        }
        self.0.push_str("\r\n");
    }
}

/// A TEXT value: `\`, `;` and `,` escaped, line breaks as `\n`, other control characters dropped.
fn escape_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI value is not escaped; it only must not break the line.
fn clean_uri(uri: &str) -> String {
    uri.trim().chars().filter(|c| !c.is_control()).collect()
}

/// The offset, DST flag and abbreviation in force.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ZoneState {
    /// Seconds east of UTC.
    offset: i32,
    dst: bool,
    name: Option<String>,
}

fn state_at(tz: Tz, utc: NaiveDateTime) -> ZoneState {
    let offset = tz.offset_from_utc_datetime(&utc);
    ZoneState {
        offset: offset.fix().local_minus_utc(),
        dst: offset.dst_offset() != Duration::zero(),
        name: offset.abbreviation().map(str::to_string),
    }
}

/// A change of the zone's state at a UTC instant.
#[derive(Clone, Debug)]
struct Transition {
    at: NaiveDateTime,
    before: ZoneState,
    after: ZoneState,
}

impl Transition {
    /// The wall time at which the change happens, read with the offset before it (as VTIMEZONE's DTSTART is).
    fn local(&self) -> NaiveDateTime {
        self.at + Duration::seconds(i64::from(self.before.offset))
    }
}

fn year_start(year: i32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap_or(NaiveDate::MIN)
        .and_time(chrono::NaiveTime::MIN)
}

/// Every change of state from the start of `first_year` to the end of `last_year` (UTC), to the second.
fn transitions(tz: Tz, first_year: i32, last_year: i32) -> Vec<Transition> {
    let step = Duration::hours(6);
    let end = year_start(last_year + 1);
    let mut found = Vec::new();
    let mut at = year_start(first_year);
    let mut state = state_at(tz, at);
    while at < end {
        let next = at + step;
        let next_state = state_at(tz, next);
        if next_state == state {
            at = next;
            continue;
        }
        let (mut before, mut after) = (at, next);
        while after - before > Duration::seconds(1) {
            let middle = before + (after - before) / 2;
            if state_at(tz, middle) == state {
                before = middle;
            } else {
                after = middle;
            }
        }
        let new_state = state_at(tz, after);
        found.push(Transition {
            at: after,
            before: state,
            after: new_state.clone(),
        });
        at = after;
        state = new_state;
    }
    found
}

/// A yearly rule: the `week`th (−1: last) `weekday` of `month`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct YearlyRule {
    month: u32,
    week: i8,
    weekday: Weekday,
}

impl YearlyRule {
    /// The rules a date satisfies: its week of the month, and "last" when it is in the month's last 7 days.
    fn candidates(date: NaiveDate) -> Vec<YearlyRule> {
        let week = i8::try_from((date.day() - 1) / 7 + 1).unwrap_or(5);
        let mut rules = vec![YearlyRule {
            month: date.month(),
            week,
            weekday: date.weekday(),
        }];
        if (date + Duration::days(7)).month() != date.month() {
            rules.push(YearlyRule {
                month: date.month(),
                week: -1,
                weekday: date.weekday(),
            });
        }
        rules
    }

    fn rrule(&self, until: Option<NaiveDateTime>) -> String {
        let day = match self.weekday {
            Weekday::Mon => "MO",
            Weekday::Tue => "TU",
            Weekday::Wed => "WE",
            Weekday::Thu => "TH",
            Weekday::Fri => "FR",
            Weekday::Sat => "SA",
            Weekday::Sun => "SU",
        };
        let until = until
            .map(|u| format!(";UNTIL={}", u.format(UTC_FORMAT)))
            .unwrap_or_default();
        format!(
            "RRULE:FREQ=YEARLY;BYMONTH={};BYDAY={}{day}{until}",
            self.month, self.week
        )
    }
}

/// One STANDARD or DAYLIGHT sub-component.
struct Observance {
    start: NaiveDateTime,
    offset_from: i32,
    state: ZoneState,
    rule: Option<YearlyRule>,
    until: Option<NaiveDateTime>,
}

/// Groups transitions into observances: the same change (same states before and after) in consecutive years,
/// at the same wall time and on a common weekday rule, becomes one observance with a yearly RRULE — open-ended
/// when it lasts to the end of the scanned years, otherwise with UNTIL.
fn observances(found: &[Transition], last_year: i32) -> Vec<Observance> {
    let mut result = Vec::new();
    let mut done = vec![false; found.len()];
    for first in 0..found.len() {
        if done[first] {
            continue;
        }
        done[first] = true;
        let head = &found[first];
        let mut rules = YearlyRule::candidates(head.local().date());
        let mut last = head;
        let mut count = 1;
        for (index, next) in found.iter().enumerate().skip(first + 1) {
            if done[index] || next.before != head.before || next.after != head.after {
                continue;
            }
            let common: Vec<YearlyRule> = YearlyRule::candidates(next.local().date())
                .into_iter()
                .filter(|r| rules.contains(r))
                .collect();
            if next.local().year() != last.local().year() + 1
                || next.local().time() != head.local().time()
                || common.is_empty()
            {
                break;
            }
            rules = common;
            last = next;
            count += 1;
            done[index] = true;
        }
        let rule = (count > 1).then(|| {
            rules
                .iter()
                .copied()
                .find(|r| r.week == -1)
                .unwrap_or(rules[0])
        });
        result.push(Observance {
            start: head.local(),
            offset_from: head.before.offset,
            state: head.after.clone(),
            rule,
            until: (rule.is_some() && last.local().year() < last_year).then_some(last.at),
        });
    }
    result
}

fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.unsigned_abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

/// The VTIMEZONE of `tz`, covering the years of the events (one year either side).
fn timezone(out: &mut Lines, tz: Tz, events: &[CalendarEvent], stamp: DateTime<Utc>) {
    let first_event = events.iter().map(|e| e.start).min();
    let first_year = first_event.map_or(stamp.year(), |s| s.year()) - 1;
    let last_year = events
        .iter()
        .map(|e| e.end.max(e.start).year())
        .max()
        .unwrap_or(stamp.year())
        + 1;
    let found = transitions(tz, first_year, last_year);
    let mut list = observances(&found, last_year);
    // Every event needs an observance that began before it.
    let covered = match (list.iter().map(|o| o.start).min(), first_event) {
        (Some(start), Some(event)) => start <= event,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if !covered {
        let state = state_at(tz, year_start(first_year));
        list.push(Observance {
            start: year_start(first_year) + Duration::seconds(i64::from(state.offset)),
            offset_from: state.offset,
            state,
            rule: None,
            until: None,
        });
    }
    list.sort_by_key(|o| o.start);

    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{}", tz.name()));
    for observance in &list {
        let kind = if observance.state.dst {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        out.line(&format!("BEGIN:{kind}"));
        out.line(&format!(
            "DTSTART:{}",
            observance.start.format(LOCAL_FORMAT)
        ));
        out.line(&format!(
            "TZOFFSETFROM:{}",
            format_offset(observance.offset_from)
        ));
        out.line(&format!(
            "TZOFFSETTO:{}",
            format_offset(observance.state.offset)
        ));
        if let Some(name) = &observance.state.name {
            out.line(&format!("TZNAME:{}", escape_text(name)));
        }
        if let Some(rule) = observance.rule {
            out.line(&rule.rrule(observance.until));
        }
        out.line(&format!("END:{kind}"));
    }
    out.line("END:VTIMEZONE");
}

#[cfg(test)]
mod tests;
