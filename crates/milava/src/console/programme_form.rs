//! The programme's forms: what a coordinator typed (every field as text, so a refused form comes back as it
//! was typed) parsed into the programme's types, and problems placed next to the fields they are about —
//! the form's own (a missing title, a date that is not one) and the content check's (`ContentProblem::code`),
//! each as a text key of the coordinator's language.
use crate::content::ContentProblem;
use crate::domain::Localized;
use crate::domain::programme::Session;
use crate::domain::season::{ChangeError, SeriesFields};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::{BTreeMap, HashMap};

/// A form as posted: field name → value.
pub type Fields = HashMap<String, String>;

/// Problems by field name (`""` for the form as a whole), as text keys with their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems(pub BTreeMap<String, Vec<String>>);

impl Problems {
    pub fn add(&mut self, field: &str, key: &str) {
        self.0
            .entry(field.to_string())
            .or_default()
            .push(key.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Text keys of the problems about `field`.
    pub fn of(&self, field: &str) -> Vec<String> {
        self.0.get(field).cloned().unwrap_or_default()
    }
}

/// One field's value, trimmed.
pub fn value<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.get(name).map(|v| v.trim()).unwrap_or_default()
}

fn required(form: &Fields, name: &str, problems: &mut Problems) -> String {
    let text = value(form, name);
    if text.is_empty() {
        problems.add(name, "console.programme.error.required");
    }
    text.to_string()
}

fn localized(form: &Fields, name: &str, problems: &mut Problems) -> Localized {
    Localized {
        fi: required(form, &format!("{name}_fi"), problems),
        en: required(form, &format!("{name}_en"), problems),
    }
}

/// Both languages, or none when both are empty (one alone is a problem).
fn optional_localized(form: &Fields, name: &str, problems: &mut Problems) -> Option<Localized> {
    let (fi, en) = (format!("{name}_fi"), format!("{name}_en"));
    if value(form, &fi).is_empty() && value(form, &en).is_empty() {
        return None;
    }
    Some(localized(form, name, problems))
}

fn count(form: &Fields, name: &str, problems: &mut Problems) -> Option<u32> {
    let text = value(form, name);
    if text.is_empty() {
        return None;
    }
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            problems.add(name, "console.programme.error.bad_number");
            None
        }
    }
}

/// A date as browsers send it (2027-03-10) or as Finns type it (10.3.2027).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    ["%H:%M", "%H.%M", "%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(text, f).ok())
}

fn date(form: &Fields, name: &str, problems: &mut Problems) -> Option<NaiveDate> {
    let text = required(form, name, problems);
    if text.is_empty() {
        return None;
    }
    let parsed = parse_date(&text);
    if parsed.is_none() {
        problems.add(name, "console.programme.error.bad_date");
    }
    parsed
}

fn time(form: &Fields, name: &str, problems: &mut Problems) -> Option<NaiveTime> {
    let text = required(form, name, problems);
    if text.is_empty() {
        return None;
    }
    let parsed = parse_time(&text);
    if parsed.is_none() {
        problems.add(name, "console.programme.error.bad_time");
    }
    parsed
}

/// A local date and time (`datetime-local`: 2027-03-10T09:00), optional.
fn moment(form: &Fields, name: &str, problems: &mut Problems) -> Option<NaiveDateTime> {
    let text = value(form, name);
    if text.is_empty() {
        return None;
    }
    let parsed = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d.%m.%Y %H.%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok());
    if parsed.is_none() {
        problems.add(name, "console.programme.error.bad_moment");
    }
    parsed
}

/// The series' own fields (everything but sessions and its id).
pub fn series_fields(form: &Fields, problems: &mut Problems) -> SeriesFields {
    SeriesFields {
        code: required(form, "code", problems),
        name: localized(form, "name", problems),
        area: required(form, "area", problems),
        capacity: count(form, "capacity", problems),
        waitlist: !value(form, "waitlist").is_empty(),
        certificate_min_sessions: count(form, "certificate_min_sessions", problems),
        registration_opens: moment(form, "registration_opens", problems),
        registration_closes: moment(form, "registration_closes", problems),
        place: optional_localized(form, "place", problems),
    }
}

/// Whether a session row of the new-series form was left empty (then it is not a session).
pub fn row_is_empty(form: &Fields, prefix: &str) -> bool {
    SESSION_FIELDS
        .iter()
        .all(|f| value(form, &format!("{prefix}{f}")).is_empty())
}

/// A session's fields, each name after `prefix` (`s2_` in the new-series form, none elsewhere).
pub const SESSION_FIELDS: &[&str] = &[
    "title_fi", "title_en", "theme_fi", "theme_en", "date", "start", "end", "place_fi", "place_en",
    "link",
];

/// A session from the form's fields named `prefix` + field; `online` is the `mode` choice.
pub fn session(
    form: &Fields,
    prefix: &str,
    id: String,
    problems: &mut Problems,
) -> Option<Session> {
    let name = |f: &str| format!("{prefix}{f}");
    let title = localized(form, &name("title"), problems);
    let theme = optional_localized(form, &name("theme"), problems);
    let day = date(form, &name("date"), problems);
    let start = time(form, &name("start"), problems);
    let end = time(form, &name("end"), problems);
    let online = value(form, &name("mode")) == "online";
    let place = match online {
        true => None,
        false => Some(localized(form, &name("place"), problems)),
    };
    let link = Some(value(form, &name("link")).to_string()).filter(|l| !l.is_empty());
    let (day, start, end) = (day?, start?, end?);
    Some(Session {
        id,
        start: day.and_time(start),
        end: day.and_time(end),
        place,
        online: online || link.is_some(),
        link,
        title,
        theme,
    })
}

/// A session's fields as the form shows them (to fill an edit form, or to show a new one).
pub fn session_values(session: &Session, prefix: &str) -> Fields {
    let mut form = Fields::new();
    let mut put = |f: &str, v: String| {
        form.insert(format!("{prefix}{f}"), v);
    };
    put("title_fi", session.title.fi.clone());
    put("title_en", session.title.en.clone());
    if let Some(theme) = &session.theme {
        put("theme_fi", theme.fi.clone());
        put("theme_en", theme.en.clone());
    }
    put("date", session.start.format("%Y-%m-%d").to_string());
    put("start", session.start.format("%H:%M").to_string());
    put("end", session.end.format("%H:%M").to_string());
    match &session.place {
        Some(place) => {
            put("mode", "place".into());
            put("place_fi", place.fi.clone());
            put("place_en", place.en.clone());
        }
        None => put("mode", "online".into()),
    }
    if let Some(link) = &session.link {
        put("link", link.clone());
    }
    form
}

/// A series' fields as the form shows them.
pub fn series_values(id: &str, fields: &SeriesFields) -> Fields {
    let moment = |t: Option<NaiveDateTime>| t.map(|t| t.format("%Y-%m-%dT%H:%M").to_string());
    let pairs = [
        ("id", Some(id.to_string())),
        ("code", Some(fields.code.clone())),
        ("name_fi", Some(fields.name.fi.clone())),
        ("name_en", Some(fields.name.en.clone())),
        ("area", Some(fields.area.clone())),
        ("capacity", fields.capacity.map(|n| n.to_string())),
        ("waitlist", fields.waitlist.then(|| "on".to_string())),
        (
            "certificate_min_sessions",
            fields.certificate_min_sessions.map(|n| n.to_string()),
        ),
        ("registration_opens", moment(fields.registration_opens)),
        ("registration_closes", moment(fields.registration_closes)),
        ("place_fi", fields.place.as_ref().map(|p| p.fi.clone())),
        ("place_en", fields.place.as_ref().map(|p| p.en.clone())),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
}

/// Where the content check's problem belongs in a form: the field (with `sessions` mapping session ids to
/// their field prefixes) and the text key. Problems about other parts of the programme go to the form as a
/// whole.
pub fn place_problem(
    problem: &ContentProblem,
    sessions: &[(String, String)],
    problems: &mut Problems,
) {
    let key = format!("console.programme.problem.{}", problem.code);
    let key = if problem.code.is_empty() {
        "console.programme.problem.other".to_string()
    } else {
        key
    };
    let session_prefix = problem
        .key
        .strip_prefix("session ")
        .map(|rest| rest.split('.').next().unwrap_or_default())
        .and_then(|id| sessions.iter().find(|(s, _)| s == id))
        .map(|(_, prefix)| prefix.as_str());
    let part = problem.key.rsplit('.').next().unwrap_or_default();
    let field = match (problem.code, session_prefix) {
        ("series.duplicate_id" | "series.bad_id" | "series.reserved_id", _) => "id".to_string(),
        ("series.bad_code" | "code_taken", _) => "code".to_string(),
        ("series.unknown_area", _) => "area".to_string(),
        ("series.window_order", _) => "registration_opens".to_string(),
        ("series.closes_after_end", _) => "registration_closes".to_string(),
        ("text_empty" | "label_too_long", None) if part == "name" => "name_fi".to_string(),
        ("text_empty", None) if part == "place" => "place_fi".to_string(),
        (_, Some(prefix)) => {
            let field = match problem.code {
                "session.ends_before_start" => "end",
                "session.overlaps" => "start",
                "session.bad_link" => "link",
                "session.needs_place" | "session.place_and_online" => "place_fi",
                "text_empty" if part == "title" => "title_fi",
                "text_empty" if part == "theme" => "theme_fi",
                "text_empty" if part == "place" => "place_fi",
                _ => "",
            };
            match field {
                "" => String::new(),
                f => format!("{prefix}{f}"),
            }
        }
        _ => String::new(),
    };
    problems.add(&field, &key);
}

/// A refusal of the change itself, as a text key for the form as a whole.
pub fn change_problem(error: &ChangeError, problems: &mut Problems) {
    let key = match error {
        ChangeError::UnknownSeries(_) => "console.programme.error.unknown_series",
        ChangeError::UnknownSession(_) => "console.programme.error.unknown_session",
        ChangeError::SeriesIdTaken(_) => "console.programme.error.series_id_taken",
        ChangeError::SessionIdTaken(_) => "console.programme.error.session_id_taken",
        ChangeError::EndPassed(_) => "console.programme.error.end_passed",
        ChangeError::SeriesStarted(_) => "console.programme.delete.started",
    };
    let field = match error {
        ChangeError::SeriesIdTaken(_) => "id",
        ChangeError::EndPassed(_) => "ends",
        _ => "",
    };
    problems.add(field, key);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_session_row_reads_as_typed_and_says_what_is_missing() {
        let typed = form(&[
            ("s1_title_fi", "Aloitus"),
            ("s1_title_en", "Start"),
            ("s1_date", "10.3.2027"),
            ("s1_start", "9.00"),
            ("s1_end", "12:00"),
            ("s1_mode", "online"),
        ]);
        let mut problems = Problems::default();
        let session = session(&typed, "s1_", "x-1".into(), &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(session.start.to_string(), "2027-03-10 09:00:00");
        assert!(session.online && session.place.is_none());
        let mut problems = Problems::default();
        let typed = form(&[
            ("s1_title_fi", "Aloitus"),
            ("s1_date", "31.2.2027"),
            ("s1_mode", "place"),
        ]);
        assert!(super::session(&typed, "s1_", "x-1".into(), &mut problems).is_none());
        assert_eq!(
            problems.of("s1_title_en"),
            ["console.programme.error.required"]
        );
        assert_eq!(problems.of("s1_date"), ["console.programme.error.bad_date"]);
        assert_eq!(
            problems.of("s1_place_fi"),
            ["console.programme.error.required"]
        );
    }

    #[test]
    fn a_check_problem_is_placed_next_to_its_field() {
        let problem = ContentProblem {
            file: "programme.toml".into(),
            key: "session k-2".into(),
            problem: "ends before it starts".into(),
            code: "session.ends_before_start",
        };
        let mut problems = Problems::default();
        place_problem(&problem, &[("k-2".into(), "s2_".into())], &mut problems);
        assert_eq!(
            problems.of("s2_end"),
            ["console.programme.problem.session.ends_before_start"]
        );
    }
}
