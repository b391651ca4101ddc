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

impl Series {
    pub fn first_start(&self) -> Option<NaiveDateTime> {
        self.sessions.iter().map(|s| s.start).min()
    }

    pub fn last_end(&self) -> Option<NaiveDateTime> {
        self.sessions.iter().map(|s| s.end).max()
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

/// Accepts a TOML local date-time (`2024-03-13T08:00:00`) or the same as a string; offsets are refused,
/// because session times are wall-clock times in BOT_TIMEZONE.
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
