//! Workshop series and their sessions, as the content describes them (local wall times in BOT_TIMEZONE).
use super::lang::Localized;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub id: String,
    /// Deep-link code: `https://t.me/<bot>?start=<code>` preselects this series.
    pub code: String,
    pub name: Localized,
    pub area: String,
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub waitlist: bool,
    /// Sessions a person must have attended to get a certificate (default: all).
    #[serde(default)]
    pub certificate_min_sessions: Option<u32>,
    /// Registration opens at this local time (default: at once).
    #[serde(default, deserialize_with = "optional_local_datetime")]
    pub registration_opens: Option<NaiveDateTime>,
    /// Registration closes at this local time (default: when the first session starts).
    #[serde(default, deserialize_with = "optional_local_datetime")]
    pub registration_closes: Option<NaiveDateTime>,
    /// Where the series is held, as the certificate's place of issue says it: fi a locative
    /// ("Rovaniemellä"), en the name ("Rovaniemi"). None: the content's `certificate.document.default_place`.
    #[serde(default)]
    pub place: Option<Localized>,
    #[serde(rename = "session", default)]
    pub sessions: Vec<Session>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub id: String,
    /// Local wall time, e.g. 2024-03-13T08:00:00 (a TOML local date-time or a quoted string).
    #[serde(deserialize_with = "local_datetime")]
    pub start: NaiveDateTime,
    #[serde(deserialize_with = "local_datetime")]
    pub end: NaiveDateTime,
    /// In person: the place. Online: none.
    #[serde(default)]
    pub place: Option<Localized>,
    /// Online session (`online = true`); its https join link once the organisers have one.
    #[serde(default)]
    pub online: bool,
    #[serde(default)]
    pub link: Option<String>,
    pub title: Localized,
    #[serde(default)]
    pub theme: Option<Localized>,
}

pub use super::groups::PeerGroup;

/// Whether a series takes registrations at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Registration opens at this local time.
    NotYet(NaiveDateTime),
    Open,
    /// Registration has closed (or the series is over, or past its retention date).
    Closed,
}

impl Series {
    pub fn first_start(&self) -> Option<NaiveDateTime> {
        self.sessions.iter().map(|s| s.start).min()
    }

    pub fn last_end(&self) -> Option<NaiveDateTime> {
        self.sessions.iter().map(|s| s.end).max()
    }

    /// When registration closes: `registration_closes`, else when the first session starts.
    pub fn registration_closes_at(&self) -> Option<NaiveDateTime> {
        self.registration_closes.or_else(|| self.first_start())
    }

    /// Whether the series takes registrations at local time `now`. A series whose personal data is due
    /// for erasure (`retention_days` after its last session) never does, whatever its window says, so a
    /// registration is never undone by the retention purge at once.
    pub fn registration(&self, now: NaiveDateTime, retention_days: u32) -> Registration {
        let retained_until = self
            .last_end()
            .map(|end| end + chrono::Duration::days(i64::from(retention_days)));
        if retained_until.is_some_and(|until| now >= until) {
            return Registration::Closed;
        }
        match (self.registration_opens, self.registration_closes_at()) {
            (Some(opens), _) if now < opens => Registration::NotYet(opens),
            (_, Some(closes)) if now >= closes => Registration::Closed,
            _ => Registration::Open,
        }
    }

    /// Sessions in time order.
    pub fn sessions_in_order(&self) -> Vec<&Session> {
        let mut sessions: Vec<&Session> = self.sessions.iter().collect();
        sessions.sort_by_key(|s| s.start);
        sessions
    }

    pub fn required_sessions(&self) -> usize {
        self.certificate_min_sessions
            .map(|n| n as usize)
            .unwrap_or(self.sessions.len())
    }
}

fn optional_local_datetime<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDateTime>, D::Error> {
    local_datetime(deserializer).map(Some)
}

/// Accepts a TOML local date-time (`2024-03-13T08:00:00`) or the same as a string; offsets are refused,
/// because session times are wall-clock times in BOT_TIMEZONE.
/// A date written as a TOML local date (`2025-07-31`) or as text.
pub(crate) fn local_date<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<chrono::NaiveDate, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match Raw::deserialize(deserializer)? {
        Raw::Toml(dt) => dt.to_string(),
        Raw::Text(s) => s,
    };
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|_| serde::de::Error::custom(format!("'{text}' is not a date like 2025-07-31")))
}

fn local_datetime<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<NaiveDateTime, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match Raw::deserialize(deserializer)? {
        Raw::Toml(dt) => dt.to_string(),
        Raw::Text(s) => s,
    };
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
    .ok_or_else(|| {
        serde::de::Error::custom(format!(
            "'{text}' is not a local date and time like 2024-03-13T08:00:00 (no time zone offset)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn series(opens: Option<&str>, closes: Option<&str>) -> Series {
        let session = |start: &str, end: &str| Session {
            id: start.into(),
            start: at(start),
            end: at(end),
            place: None,
            online: true,
            link: None,
            title: Localized::default(),
            theme: None,
        };
        Series {
            id: "s".into(),
            code: "s".into(),
            name: Localized::default(),
            area: "oulu".into(),
            capacity: None,
            waitlist: false,
            certificate_min_sessions: None,
            registration_opens: opens.map(at),
            registration_closes: closes.map(at),
            place: None,
            sessions: vec![
                session("2024-03-13 08:00", "2024-03-13 12:00"),
                session("2024-04-10 08:00", "2024-04-10 12:00"),
            ],
        }
    }

    #[test]
    fn registration_is_open_until_the_first_session_by_default() {
        let s = series(None, None);
        assert_eq!(
            s.registration(at("2020-01-01 00:00"), 180),
            Registration::Open
        );
        assert_eq!(
            s.registration(at("2024-03-13 07:59"), 180),
            Registration::Open
        );
        assert_eq!(
            s.registration(at("2024-03-13 08:00"), 180),
            Registration::Closed
        );
        assert_eq!(
            s.registration(at("2026-12-07 09:00"), 180),
            Registration::Closed
        );
    }

    #[test]
    fn a_window_opens_and_closes_when_content_says() {
        let s = series(Some("2024-02-01 09:00"), Some("2024-04-01 00:00"));
        assert_eq!(
            s.registration(at("2024-01-31 23:00"), 180),
            Registration::NotYet(at("2024-02-01 09:00"))
        );
        assert_eq!(
            s.registration(at("2024-03-20 10:00"), 180),
            Registration::Open
        );
        assert_eq!(
            s.registration(at("2024-04-01 00:00"), 180),
            Registration::Closed
        );
    }

    #[test]
    fn a_series_past_its_retention_date_never_takes_registrations() {
        // A window (wrongly) left open long after the series: retention wins.
        let s = series(None, Some("2030-01-01 00:00"));
        assert_eq!(
            s.registration(at("2024-05-01 00:00"), 180),
            Registration::Open
        );
        assert_eq!(
            s.registration(at("2024-10-07 12:00"), 180),
            Registration::Closed
        );
        assert_eq!(
            s.registration(at("2024-04-10 12:00"), 0),
            Registration::Closed
        );
    }
}
