//! Loads `dialogues/` (TOML) into typed, immutable `Content`, and validates it. `milava-bot check` prints
//! every problem found as `file: key: problem`; start-up refuses content with any problem.
pub mod console_keys;
mod load;
mod surveys;
mod texts;
mod validate;
mod validate_groups;

pub use load::load;
pub use texts::Texts;

use crate::domain::programme::{PeerGroup, Series};
use crate::domain::{Flow, Lang};
use std::fmt;

/// Everything user-facing, loaded once and shared by `Arc`.
#[derive(Clone, Debug)]
pub struct Content {
    pub texts: Texts,
    pub registration: Flow,
    pub privacy_version: String,
    /// The programme's last day (content.toml `programme_ends`): fathers' and others' data is erased when it
    /// is over, and fathers and others are no longer registered after it.
    pub programme_ends: chrono::NaiveDate,
    pub series: Vec<Series>,
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
}

/// One problem in the content, located by file and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentProblem {
    pub file: String,
    pub key: String,
    pub problem: String,
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
    /// The moment the programme is over: the start of the day after `programme_ends`, local time.
    pub fn programme_over_at(&self, tz: chrono_tz::Tz) -> chrono::DateTime<chrono::Utc> {
        let next_day = self
            .programme_ends
            .succ_opt()
            .unwrap_or(self.programme_ends);
        crate::domain::time::local_to_utc(tz, next_day.and_time(chrono::NaiveTime::MIN))
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
