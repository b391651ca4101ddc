//! Loads `dialogues/` (TOML) into typed, immutable `Content`, and validates it. `milava-bot check` prints
//! every problem found as `file: key: problem`; start-up refuses content with any problem.
pub mod console_keys;
mod load;
mod surveys;
mod texts;
mod validate;
mod validate_groups;

pub use load::{load, load_with_programme};
pub use texts::Texts;
pub use validate::validate;

use crate::domain::programme::{PeerGroup, Series};
use crate::domain::{Flow, Lang};
use std::fmt;

/// Everything user-facing, loaded once and shared by `Arc`.
#[derive(Clone, Debug)]
pub struct Content {
    pub texts: Texts,
    pub registration: Flow,
    pub privacy_version: String,
    /// The programme's last day: fathers' and others' data is erased when it is over, and fathers and others
    /// are no longer registered after it. Stored in the database (coordinators set it); content.toml
    /// `programme_ends` only seeds a database that has none.
    pub programme_ends: chrono::NaiveDate,
    /// The workshop series: from the database (`with_season`), seeded from programme.toml.
    pub series: Vec<Series>,
    /// The rest of the stored programme (`with_season`): cancelled sessions, every end date the programme
    /// has had, and its revision.
    pub season_extra: SeasonExtra,
    pub groups: Vec<PeerGroup>,
    /// When participants are reminded before each session (programme.toml `[reminders]`).
    pub reminder_offsets: Vec<crate::domain::reminders::ReminderOffset>,
    /// Feedback surveys (`surveys/<id>.toml`).
    pub surveys: Vec<crate::domain::survey::Survey>,
    /// The discussion prompt library (prompts/*.toml), one theme per file, in file-name order.
    pub themes: Vec<crate::domain::groups::Theme>,
    /// The one-to-one coaching path (coaching.toml), in order.
    pub coaching: Vec<crate::domain::groups::CoachingStep>,
    /// Help resources `/apua` lists (support.toml).
    pub support: Vec<crate::domain::groups::Resource>,
    /// The registration flow's fingerprint, computed once at loading (every update asks for it).
    flow_version: String,
}

/// What `Content` keeps of the stored programme besides its series and current end.
#[derive(Clone, Debug, Default)]
pub struct SeasonExtra {
    pub cancelled: Vec<(String, crate::domain::programme::Session)>,
    pub ends: Vec<crate::domain::season::EndSetting>,
    pub revision: i64,
}

/// The content in use, replaceable at run time (`/reload`). Readers take a snapshot with `get()` and use it
/// for a whole request, so one answer never mixes two versions.
#[derive(Debug)]
pub struct ContentStore {
    current: std::sync::RwLock<std::sync::Arc<Content>>,
}

impl ContentStore {
    pub fn new(content: Content) -> Self {
        ContentStore {
            current: std::sync::RwLock::new(std::sync::Arc::new(content)),
        }
    }

    pub fn get(&self) -> std::sync::Arc<Content> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts new content in use and returns the one it replaces.
    pub fn replace(&self, content: Content) -> std::sync::Arc<Content> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *current, std::sync::Arc::new(content))
    }

    /// Puts content built after a commit in use, keeping whichever programme is newer: a `/reload` and a
    /// coordinator's edit that commit one after the other may reach this in the other order.
    pub fn put_in_use(&self, content: Content) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let content = if content.season_extra.revision < current.season_extra.revision {
            content.with_season(current.season())
        } else {
            content
        };
        *current = std::sync::Arc::new(content);
    }
}

/// The moment a last day is over: the start of the next day, local time.
pub fn day_over_at(day: chrono::NaiveDate, tz: chrono_tz::Tz) -> chrono::DateTime<chrono::Utc> {
    let next_day = day.succ_opt().unwrap_or(day);
    crate::domain::time::local_to_utc(tz, next_day.and_time(chrono::NaiveTime::MIN))
}

/// One problem in the content, located by file and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentProblem {
    pub file: String,
    pub key: String,
    pub problem: String,
    /// What kind of problem it is, for a programme problem (e.g. `session.ends_before_start`): the console
    /// shows the text `console.programme.problem.<code>` next to the field. Empty for other problems.
    pub code: &'static str,
}

impl fmt::Display for ContentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the content:\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ContentError(pub Vec<ContentProblem>);

impl Content {
    /// The stored programme this content carries.
    pub fn season(&self) -> crate::domain::season::Season {
        crate::domain::season::Season {
            series: self.series.clone(),
            cancelled: self.season_extra.cancelled.clone(),
            ends: self.season_extra.ends.clone(),
            revision: self.season_extra.revision,
        }
    }

    /// This content with the stored programme in place of the shipped one (texts, flows and the rest stay).
    pub fn with_season(mut self, season: crate::domain::season::Season) -> Content {
        if let Some(ends) = season.programme_ends() {
            self.programme_ends = ends;
        }
        self.series = season.series;
        self.season_extra = SeasonExtra {
            cancelled: season.cancelled,
            ends: season.ends,
            revision: season.revision,
        };
        self
    }

    /// The moment the programme is over: the start of the day after `programme_ends`, local time.
    pub fn programme_over_at(&self, tz: chrono_tz::Tz) -> chrono::DateTime<chrono::Utc> {
        day_over_at(self.programme_ends, tz)
    }

    /// Whether the programme is over at `now`.
    pub fn programme_over(&self, tz: chrono_tz::Tz, now: chrono::DateTime<chrono::Utc>) -> bool {
        now >= self.programme_over_at(tz)
    }

    /// The programme's last day as people read it: 31.7.2025, or 31 July 2025 in English.
    pub fn programme_ends_text(&self, lang: Lang) -> String {
        let format = match lang {
            Lang::Fi => "%-d.%-m.%Y",
            Lang::En => "%-d %B %Y",
        };
        self.programme_ends.format(format).to_string()
    }

    /// The version persisted with dialogue state: changes when the registration flow's structure changes.
    pub fn flow_version(&self) -> String {
        self.flow_version.clone()
    }

    pub fn text<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.texts.get(lang, key)
    }

    /// A text with `{placeholders}` filled in.
    pub fn fill(&self, lang: Lang, key: &str, values: &[(&str, &str)]) -> String {
        texts::fill(self.texts.get(lang, key), values)
    }

    pub fn series(&self, id: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.id == id)
    }

    pub fn group(&self, id: &str) -> Option<&PeerGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// A session and the series it belongs to.
    pub fn session(&self, id: &str) -> Option<(&Series, &crate::domain::programme::Session)> {
        self.series.iter().find_map(|series| {
            series
                .sessions
                .iter()
                .find(|s| s.id == id)
                .map(|s| (series, s))
        })
    }

    pub fn survey(&self, id: &str) -> Option<&crate::domain::survey::Survey> {
        self.surveys.iter().find(|s| s.id == id)
    }

    /// Whether `session` of `series` gets a survey by the trigger `spec`: a session-end trigger that covers
    /// it, unless it is the last session of a series with a series-end survey (that one comes instead: two
    /// surveys within a day). The scheduler invites by this rule; results are shown per session by it.
    pub fn session_survey_follows(
        &self,
        spec: &crate::domain::survey::TriggerSpec,
        series: &Series,
        session: &crate::domain::programme::Session,
    ) -> bool {
        use crate::domain::survey::TriggerSpec;
        if !spec.covers_session(series, session) {
            return false;
        }
        let series_end = self.surveys.iter().any(|other| {
            other
                .triggers
                .iter()
                .any(|t| matches!(t, TriggerSpec::SeriesEnd { .. }) && t.covers_series(series))
        });
        let last = series.sessions_in_order().last().map(|l| l.id.clone());
        !(series_end && last.as_deref() == Some(session.id.as_str()))
    }

    pub fn group_by_code(&self, code: &str) -> Option<&PeerGroup> {
        self.groups.iter().find(|g| g.code == code)
    }

    pub fn prompt(&self, id: &str) -> Option<&crate::domain::groups::Prompt> {
        self.themes
            .iter()
            .flat_map(|t| &t.prompts)
            .find(|p| p.id == id)
    }

    pub fn series_ids(&self) -> Vec<&str> {
        self.series.iter().map(|s| s.id.as_str()).collect()
    }
}
