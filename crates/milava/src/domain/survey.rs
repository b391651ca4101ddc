//! Feedback surveys as the content describes them (`dialogues/surveys/*.toml`), their triggers, answers and
//! the pure rules of answering: which question comes next, what a typed answer may be, how answers read.
use super::lang::{Lang, Localized};
use super::outbox::OutboxKey;
use super::programme::{Series, Session};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Likert questions have exactly this many points (1–5).
pub const LIKERT_POINTS: usize = 5;
/// A free-text answer may not be longer than this, whatever the content says.
pub const MAX_TEXT_ANSWER: usize = 2000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Stable id: never change one that has shipped (answers and exports refer to it).
    pub id: String,
    /// Raise when questions change meaning; stored with every response.
    pub version: u32,
    pub title: Localized,
    pub intro: Localized,
    /// Anonymous: submitted answers keep no link to the person, not even a pseudonym.
    #[serde(default)]
    pub anonymous: bool,
    /// How long after its trigger the survey can be answered, e.g. "14d".
    pub closes_after: String,
    /// One reminder this long after the invitation if not submitted, e.g. "48h" (none if absent).
    #[serde(default)]
    pub remind_after: Option<String>,
    #[serde(rename = "trigger", default)]
    pub triggers: Vec<TriggerSpec>,
    #[serde(rename = "question", default)]
    pub questions: Vec<Question>,
}

/// When the survey is sent, and to whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case", deny_unknown_fields)]
pub enum TriggerSpec {
    /// After a session ends, to those who attended it or to everyone enrolled in its series.
    SessionEnd {
        to: SessionAudience,
        /// Only sessions of these series (empty: every series).
        #[serde(default)]
        series: Vec<String>,
        /// Only these sessions (empty: every session of the chosen series).
        #[serde(default)]
        sessions: Vec<String>,
        /// Only online sessions (the follow-ups); a cancelled session simply drops out.
        #[serde(default)]
        online: bool,
        /// Wait this long after the end, e.g. "30m" (default: at once).
        #[serde(default)]
        delay: Option<String>,
    },
    /// After the last session of a series, to everyone enrolled in it.
    SeriesEnd {
        #[serde(default)]
        series: Vec<String>,
        #[serde(default)]
        delay: Option<String>,
    },
    /// To a father who has been in a peer group this many weeks.
    PeerGroupWeeks {
        weeks: u32,
        /// Only these groups (empty: every group).
        #[serde(default)]
        groups: Vec<String>,
    },
    /// Sent by a coordinator with `/survey`.
    Manual,
}

impl TriggerSpec {
    /// A session-end trigger that fires for this session.
    pub fn covers_session(&self, series: &Series, session: &Session) -> bool {
        match self {
            TriggerSpec::SessionEnd {
                series: only_series,
                sessions,
                online,
                ..
            } => {
                (only_series.is_empty() || only_series.contains(&series.id))
                    && (sessions.is_empty() || sessions.contains(&session.id))
                    && (!online || session.online || session.link.is_some())
            }
            _ => false,
        }
    }

    /// A trigger that follows this series (one of its sessions, or its end).
    pub fn covers_series(&self, series: &Series) -> bool {
        match self {
            TriggerSpec::SessionEnd { .. } => series
                .sessions
                .iter()
                .any(|s| self.covers_session(series, s)),
            TriggerSpec::SeriesEnd { series: only, .. } => {
                only.is_empty() || only.contains(&series.id)
            }
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionAudience {
    Attended,
    Participants,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id: the export's column name.
    pub id: String,
    pub kind: QuestionKind,
    pub text: Localized,
    /// Likert: the five labels, from 1 to 5.
    #[serde(default)]
    pub labels: Vec<Localized>,
    /// Single and multiple choice: the options with their stable codes.
    #[serde(rename = "option", default)]
    pub options: Vec<Choice>,
    #[serde(default)]
    pub optional: bool,
    /// Text: the longest answer accepted, in characters.
    #[serde(default)]
    pub max_length: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Likert,
    Single,
    Multiple,
    Text,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Likert => "likert",
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::Text => "text",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub code: String,
    pub label: Localized,
}

/// One answer, as stored (JSON) and exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Likert(u8),
    Single(String),
    Multiple(Vec<String>),
    Text(String),
    /// An optional question passed over.
    Skipped,
}

pub type Answers = BTreeMap<String, Answer>;

/// Responses counted instead of kept: how many, and per question each distinct answer with how many gave it
/// (free-text answers all as one empty `Text`: only their number counts). Tallies of places add up to the
/// tally of a wider scope, so results can be counted by the database and summed per scope.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub responses: usize,
    pub answers: BTreeMap<String, Vec<(Answer, usize)>>,
}

impl Tally {
    /// Counts `n` more of `answer` to `question`.
    pub fn add(&mut self, question: &str, answer: Answer, n: usize) {
        let counted = self.answers.entry(question.to_string()).or_default();
        match counted.iter_mut().find(|(a, _)| *a == answer) {
            Some((_, m)) => *m += n,
            None => counted.push((answer, n)),
        }
    }

    /// Adds `other`'s responses and answers to these.
    pub fn merge(&mut self, other: &Tally) {
        self.responses += other.responses;
        for (question, counted) in &other.answers {
            for (answer, n) in counted {
                self.add(question, answer.clone(), *n);
            }
        }
    }
}

/// What made a survey go to someone; part of the invitation's idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    Session {
        series: String,
        session: String,
    },
    Series(String),
    Group(String),
    /// A coordinator's `/survey` round (its id).
    Manual(i64),
}

impl Trigger {
    pub fn key(&self) -> String {
        match self {
            Trigger::Session { series, session } => format!("session:{series}:{session}"),
            Trigger::Series(id) => format!("series:{id}"),
            Trigger::Group(id) => format!("group:{id}"),
            Trigger::Manual(id) => format!("manual:{id}"),
        }
    }

    pub fn parse(raw: &str) -> Option<Trigger> {
        let mut parts = raw.split(':');
        let trigger = match (parts.next()?, parts.next(), parts.next()) {
            ("session", Some(series), Some(session)) => Trigger::Session {
                series: series.into(),
                session: session.into(),
            },
            ("series", Some(id), None) => Trigger::Series(id.into()),
            ("group", Some(id), None) => Trigger::Group(id.into()),
            ("manual", Some(id), None) => Trigger::Manual(id.parse().ok()?),
            _ => return None,
        };
        parts.next().is_none().then_some(trigger)
    }

    /// The series the trigger belongs to, for filtering results and the export.
    pub fn series(&self) -> Option<&str> {
        match self {
            Trigger::Session { series, .. } | Trigger::Series(series) => Some(series),
            _ => None,
        }
    }

    pub fn session(&self) -> Option<&str> {
        match self {
            Trigger::Session { session, .. } => Some(session),
            _ => None,
        }
    }
}

/// The outbox key of an invitation: once per survey, trigger and person.
pub fn invitation_key(survey: &str, trigger: &Trigger, user: i64) -> OutboxKey {
    OutboxKey::SurveyInvitation {
        survey: survey.to_string(),
        trigger: trigger.clone(),
        user,
    }
}

/// The outbox key of the one reminder.
pub fn reminder_key(survey: &str, trigger: &Trigger, user: i64) -> OutboxKey {
    OutboxKey::SurveyReminder {
        survey: survey.to_string(),
        trigger: trigger.clone(),
        user,
    }
}

/// A span like "30m", "48h", "14d" or "2w".
pub fn parse_span(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let unit = raw.chars().last()?;
    let number: i64 = raw[..raw.len() - unit.len_utf8()].parse().ok()?;
    if number <= 0 || number > 10_000 {
        return None;
    }
    match unit {
        'm' => Some(Duration::minutes(number)),
        'h' => Some(Duration::hours(number)),
        'd' => Some(Duration::days(number)),
        'w' => Some(Duration::weeks(number)),
        _ => None,
    }
}

impl Survey {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }

    /// The question after `id` (None: the summary comes next).
    pub fn after(&self, id: &str) -> Option<&Question> {
        self.questions.get(self.position(id)? + 1)
    }

    /// The question before `id` (None: `id` is the first).
    pub fn before(&self, id: &str) -> Option<&Question> {
        self.questions.get(self.position(id)?.checked_sub(1)?)
    }

    pub fn closes_after(&self) -> Duration {
        parse_span(&self.closes_after).unwrap_or(Duration::days(14))
    }

    pub fn remind_after(&self) -> Option<Duration> {
        self.remind_after.as_deref().and_then(parse_span)
    }

    pub fn has_manual_trigger(&self) -> bool {
        self.triggers.contains(&TriggerSpec::Manual)
    }

    /// Every required question has an answer.
    pub fn complete(&self, answers: &Answers) -> bool {
        self.questions
            .iter()
            .all(|q| q.optional || matches!(answers.get(&q.id), Some(a) if *a != Answer::Skipped))
    }

    /// The first question without an answer (where a resumed survey continues).
    pub fn first_unanswered(&self, answers: &Answers) -> Option<&Question> {
        self.questions
            .iter()
            .find(|q| !answers.contains_key(&q.id) || is_empty_multiple(answers.get(&q.id)))
    }
}

fn is_empty_multiple(answer: Option<&Answer>) -> bool {
    matches!(answer, Some(Answer::Multiple(codes)) if codes.is_empty())
}

/// Why a typed answer was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    Empty,
    TooLong { max: usize },
}

impl Question {
    pub fn max_text(&self) -> usize {
        self.max_length.unwrap_or(500).clamp(1, MAX_TEXT_ANSWER)
    }

    /// A typed answer, trimmed; refused when empty or longer than the limit.
    pub fn text_answer(&self, raw: &str) -> Result<String, TextProblem> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(TextProblem::Empty);
        }
        let max = self.max_text();
        if text.chars().count() > max {
            return Err(TextProblem::TooLong { max });
        }
        Ok(text.to_string())
    }

    /// Whether a button's code is a valid answer to this question.
    pub fn accepts(&self, code: &str) -> bool {
        match self.kind {
            QuestionKind::Likert => likert_value(code).is_some(),
            QuestionKind::Single | QuestionKind::Multiple => {
                self.options.iter().any(|o| o.code == code)
            }
            QuestionKind::Text => false,
        }
    }

    /// How an answer reads to a person (summary, results).
    pub fn describe(&self, answer: &Answer, lang: Lang) -> String {
        let option = |code: &str| {
            self.options
                .iter()
                .find(|o| o.code == code)
                .map(|o| o.label.get(lang).to_string())
                .unwrap_or_else(|| code.to_string())
        };
        match answer {
            Answer::Likert(n) => match self.labels.get(usize::from(*n).wrapping_sub(1)) {
                Some(label) => format!("{n} {}", label.get(lang)),
                None => n.to_string(),
            },
            Answer::Single(code) => option(code),
            Answer::Multiple(codes) => codes
                .iter()
                .map(|c| option(c))
                .collect::<Vec<_>>()
                .join(", "),
            Answer::Text(text) => text.clone(),
            Answer::Skipped => "–".into(),
        }
    }
}

pub fn likert_value(code: &str) -> Option<u8> {
    code.parse::<u8>()
        .ok()
        .filter(|n| (1..=LIKERT_POINTS as u8).contains(n))
}

/// Multiple choice: adds the code if absent, removes it if present; keeps the options' order.
pub fn toggle(question: &Question, current: Option<&Answer>, code: &str) -> Answer {
    let mut chosen: Vec<String> = match current {
        Some(Answer::Multiple(codes)) => codes.clone(),
        _ => Vec::new(),
    };
    if let Some(at) = chosen.iter().position(|c| c == code) {
        chosen.remove(at);
    } else {
        chosen.push(code.to_string());
    }
    let order = |c: &String| question.options.iter().position(|o| &o.code == c);
    chosen.sort_by_key(order);
    Answer::Multiple(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &str) -> Localized {
        Localized {
            fi: s.into(),
            en: s.into(),
        }
    }

    fn multiple() -> Question {
        Question {
            id: "topics".into(),
            kind: QuestionKind::Multiple,
            text: loc("Topics?"),
            labels: vec![],
            options: ["a", "b", "c"]
                .iter()
                .map(|c| Choice {
                    code: c.to_string(),
                    label: loc(&c.to_uppercase()),
                })
                .collect(),
            optional: false,
            max_length: None,
        }
    }

    #[test]
    fn triggers_round_trip_through_their_keys() {
        for trigger in [
            Trigger::Session {
                series: "oulu-2024".into(),
                session: "oulu-2024-2".into(),
            },
            Trigger::Series("oulu-2024".into()),
            Trigger::Group("oulu-isat-fi".into()),
            Trigger::Manual(7),
        ] {
            assert_eq!(Trigger::parse(&trigger.key()), Some(trigger));
        }
        for bad in ["", "session:x", "manual:x", "series:a:b", "planet:x"] {
            assert_eq!(Trigger::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn spans_parse() {
        assert_eq!(parse_span("48h"), Some(Duration::hours(48)));
        assert_eq!(parse_span("14d"), Some(Duration::days(14)));
        assert_eq!(parse_span("2w"), Some(Duration::weeks(2)));
        assert_eq!(parse_span("30m"), Some(Duration::minutes(30)));
        for bad in ["", "h", "0h", "-3d", "3y", "3.5h", "ä"] {
            assert_eq!(parse_span(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_answers_are_trimmed_and_limited() {
        let mut q = multiple();
        q.kind = QuestionKind::Text;
        q.max_length = Some(5);
        assert_eq!(
            q.text_answer("  äitinä "),
            Err(TextProblem::TooLong { max: 5 })
        );
        assert_eq!(q.text_answer(" isä "), Ok("isä".into()));
        assert_eq!(q.text_answer("   "), Err(TextProblem::Empty));
    }

    #[test]
    fn toggling_keeps_the_options_order() {
        let q = multiple();
        let a = toggle(&q, None, "c");
        let a = toggle(&q, Some(&a), "a");
        assert_eq!(a, Answer::Multiple(vec!["a".into(), "c".into()]));
        let a = toggle(&q, Some(&a), "c");
        assert_eq!(a, Answer::Multiple(vec!["a".into()]));
        assert_eq!(q.describe(&a, Lang::En), "A");
        assert!(q.accepts("b") && !q.accepts("d"));
    }
}
