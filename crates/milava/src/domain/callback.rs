//! Callback data on inline buttons: a small typed enum, encoded with a version prefix to ≤ 64 bytes.
//! Anything that does not decode (an old or forged button) is `None`, and the user gets a friendly answer.
use super::lang::Lang;

/// Telegram's limit for callback data, in bytes.
pub const MAX_CALLBACK_BYTES: usize = 64;
const VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackData {
    /// Answer a step of the current flow.
    Answer { step: String, value: String },
    /// Switch the conversation language.
    SetLanguage(Lang),
    /// Start editing the answer of one step from `/profile`.
    Edit { step: String },
    /// `/forget`: erase everything (true) or keep it (false).
    Forget { confirm: bool },
    /// An .ics file of one session.
    Calendar { session: String },
    /// An .ics file of a whole series.
    CalendarAll { series: String },
    /// "I'm here" during a session.
    CheckIn { session: String },
    /// `/leave`: leave the series (true) or stay (false).
    Leave { series: String, confirm: bool },
    /// Answer to a freed place offered from the waitlist.
    Offer { series: String, accept: bool },
    /// `/reminders`: all on, all off, or toggle one offset.
    Reminders(ReminderChoice),
    /// A coordinator toggles a person's attendance at a session.
    Attendance { session: String, user: i64 },
    /// A coordinator asks for a session's attendance as CSV.
    AttendanceCsv { session: String },
    /// `/attendance`: a coordinator chose a workshop series; next its sessions.
    AttendanceSeries { series: String },
    /// `/attendance`: a coordinator chose a session; show its attendance list.
    AttendanceList { session: String },
    /// A step of putting a broadcast together (coordinators only).
    Broadcast(BroadcastAction),
    /// `/announcements`: on (true) or off.
    Announcements(bool),
    /// Answering a survey, or a coordinator's survey menus.
    Survey(SurveyAction),
    /// `/coaching`: choosing the weekly time, pausing, resuming, stopping.
    Coaching(CoachingAction),
    /// `/journal`: a page of the father's reflections (0 = newest).
    Journal(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoachingAction {
    /// Show the weekday choice.
    Change,
    /// A weekday was chosen (1 = Monday … 7 = Sunday): show the times.
    Day(u32),
    /// Weekday and local minute of the day chosen: start or move the weekly step.
    Time {
        day: u32,
        minute: u32,
    },
    Pause,
    Resume,
    Stop,
}

/// Survey buttons. A person's buttons carry their invitation's id (short, and checked against its owner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SurveyAction {
    /// Start (or continue) answering.
    Start(i64),
    /// Likert point or single choice.
    Answer {
        invitation: i64,
        question: String,
        code: String,
    },
    /// Multiple choice: select or unselect one option.
    Toggle {
        invitation: i64,
        question: String,
        code: String,
    },
    /// Multiple choice: done choosing.
    Done {
        invitation: i64,
        question: String,
    },
    /// Pass over an optional question.
    Skip {
        invitation: i64,
        question: String,
    },
    /// Back to the question before this one.
    Back {
        invitation: i64,
        question: String,
    },
    /// Go to a question to change its answer (from the summary).
    Goto {
        invitation: i64,
        question: String,
    },
    /// The summary's "change an answer": list the questions.
    Change(i64),
    Submit(i64),
    /// `/survey`: the coordinator chose a survey; next the audience.
    Pick(String),
    /// `/survey`: audience chosen (a broadcast audience code); preview and confirm.
    Audience {
        survey: String,
        audience: String,
    },
    /// `/survey`: send it.
    Send {
        survey: String,
        audience: String,
    },
    /// `/results`: a survey, then a scope (`all`, a series id or a session id).
    Results {
        survey: String,
        scope: Option<String>,
    },
    /// `/export`: a survey's research export.
    Export(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BroadcastAction {
    /// The audience, by its code (see `domain::broadcast::Audience`).
    Audience(String),
    /// Open a sub-menu of audiences: `series`, `area`, `group`, or `top` to go back.
    Menu(String),
    SendNow(i64),
    Schedule(i64),
    /// Cancel a draft, a scheduled broadcast, or the rest of one being sent.
    Cancel(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReminderChoice {
    On,
    Off,
    Toggle(String),
    /// Session reminders by email as well (true) or only in the chat (false).
    Email(bool),
}

impl CallbackData {
    /// Buttons only coordinators may press (a forged or forwarded one from anyone else is refused and
    /// logged). The match has no catch-all, so every new kind of button must be decided here.
    pub fn coordinators_only(&self) -> bool {
        match self {
            CallbackData::Attendance { .. }
            | CallbackData::AttendanceCsv { .. }
            | CallbackData::AttendanceSeries { .. }
            | CallbackData::AttendanceList { .. }
            | CallbackData::Broadcast(_) => true,
            CallbackData::Survey(action) => action.is_coordinators(),
            CallbackData::Coaching(_) | CallbackData::Journal(_) => false,
            CallbackData::Answer { .. }
            | CallbackData::SetLanguage(_)
            | CallbackData::Edit { .. }
            | CallbackData::Forget { .. }
            | CallbackData::CheckIn { .. }
            | CallbackData::Leave { .. }
            | CallbackData::Reminders(_)
            | CallbackData::Announcements(_)
            | CallbackData::Calendar { .. }
            | CallbackData::CalendarAll { .. }
            | CallbackData::Offer { .. } => false,
        }
    }

    pub fn encode(&self) -> String {
        match self {
            CallbackData::Answer { step, value } => format!("{VERSION}|a|{step}|{value}"),
            CallbackData::SetLanguage(lang) => format!("{VERSION}|l|{}", lang.code()),
            CallbackData::Edit { step } => format!("{VERSION}|e|{step}"),
            CallbackData::Forget { confirm } => format!("{VERSION}|f|{}", yes_no(*confirm)),
            CallbackData::Calendar { session } => format!("{VERSION}|c|{session}"),
            CallbackData::CalendarAll { series } => format!("{VERSION}|ca|{series}"),
            CallbackData::CheckIn { session } => format!("{VERSION}|ci|{session}"),
            CallbackData::Leave { series, confirm } => {
                format!("{VERSION}|lv|{series}|{}", yes_no(*confirm))
            }
            CallbackData::Offer { series, accept } => {
                format!("{VERSION}|of|{series}|{}", yes_no(*accept))
            }
            CallbackData::Reminders(ReminderChoice::On) => format!("{VERSION}|r|on"),
            CallbackData::Reminders(ReminderChoice::Off) => format!("{VERSION}|r|off"),
            CallbackData::Reminders(ReminderChoice::Toggle(offset)) => {
                format!("{VERSION}|r|t|{offset}")
            }
            CallbackData::Reminders(ReminderChoice::Email(on)) => {
                format!("{VERSION}|r|e|{}", if *on { "on" } else { "off" })
            }
            CallbackData::Attendance { session, user } => format!("{VERSION}|at|{session}|{user}"),
            CallbackData::AttendanceCsv { session } => format!("{VERSION}|ac|{session}"),
            CallbackData::AttendanceSeries { series } => format!("{VERSION}|as|{series}"),
            CallbackData::AttendanceList { session } => format!("{VERSION}|al|{session}"),
            CallbackData::Broadcast(BroadcastAction::Audience(code)) => {
                format!("{VERSION}|b|a|{code}")
            }
            CallbackData::Broadcast(BroadcastAction::Menu(menu)) => format!("{VERSION}|b|m|{menu}"),
            CallbackData::Broadcast(BroadcastAction::SendNow(id)) => format!("{VERSION}|b|go|{id}"),
            CallbackData::Broadcast(BroadcastAction::Schedule(id)) => {
                format!("{VERSION}|b|at|{id}")
            }
            CallbackData::Broadcast(BroadcastAction::Cancel(id)) => format!("{VERSION}|b|x|{id}"),
            CallbackData::Announcements(on) => format!("{VERSION}|an|{}", yes_no(*on)),
            CallbackData::Survey(action) => format!("{VERSION}|s|{}", action.encode()),
            CallbackData::Coaching(action) => match action {
                CoachingAction::Change => format!("{VERSION}|cg|c"),
                CoachingAction::Day(day) => format!("{VERSION}|cg|d|{day}"),
                CoachingAction::Time { day, minute } => format!("{VERSION}|cg|t|{day}|{minute}"),
                CoachingAction::Pause => format!("{VERSION}|cg|p"),
                CoachingAction::Resume => format!("{VERSION}|cg|r"),
                CoachingAction::Stop => format!("{VERSION}|cg|s"),
            },
            CallbackData::Journal(page) => format!("{VERSION}|j|{page}"),
        }
    }

    pub fn decode(raw: &str) -> Option<CallbackData> {
        if raw.len() > MAX_CALLBACK_BYTES {
            return None;
        }
        let mut parts = raw.split('|');
        if parts.next()? != VERSION {
            return None;
        }
        let tag = parts.next()?;
        let rest: Vec<&str> = parts.collect();
        let valid = |s: &str| is_token(s);
        match (tag, rest.as_slice()) {
            ("a", [step, value]) if valid(step) && valid(value) => Some(CallbackData::Answer {
                step: step.to_string(),
                value: value.to_string(),
            }),
            ("l", [code]) => Lang::parse(code).map(CallbackData::SetLanguage),
            ("e", [step]) if valid(step) => Some(CallbackData::Edit {
                step: step.to_string(),
            }),
            ("f", [yn]) => parse_yes_no(yn).map(|confirm| CallbackData::Forget { confirm }),
            ("c", [session]) if valid(session) => Some(CallbackData::Calendar {
                session: session.to_string(),
            }),
            ("ca", [series]) if valid(series) => Some(CallbackData::CalendarAll {
                series: series.to_string(),
            }),
            ("ci", [session]) if valid(session) => Some(CallbackData::CheckIn {
                session: session.to_string(),
            }),
            ("lv", [series, yn]) if valid(series) => {
                parse_yes_no(yn).map(|confirm| CallbackData::Leave {
                    series: series.to_string(),
                    confirm,
                })
            }
            ("of", [series, yn]) if valid(series) => {
                parse_yes_no(yn).map(|accept| CallbackData::Offer {
                    series: series.to_string(),
                    accept,
                })
            }
            ("r", ["on"]) => Some(CallbackData::Reminders(ReminderChoice::On)),
            ("r", ["off"]) => Some(CallbackData::Reminders(ReminderChoice::Off)),
            ("r", ["e", "on"]) => Some(CallbackData::Reminders(ReminderChoice::Email(true))),
            ("r", ["e", "off"]) => Some(CallbackData::Reminders(ReminderChoice::Email(false))),
            ("r", ["t", offset]) if valid(offset) => Some(CallbackData::Reminders(
                ReminderChoice::Toggle(offset.to_string()),
            )),
            ("at", [session, user]) if valid(session) => user
                .parse::<i64>()
                .ok()
                .filter(|u| *u > 0)
                .map(|user| CallbackData::Attendance {
                    session: session.to_string(),
                    user,
                }),
            ("ac", [session]) if valid(session) => Some(CallbackData::AttendanceCsv {
                session: session.to_string(),
            }),
            ("as", [series]) if valid(series) => Some(CallbackData::AttendanceSeries {
                series: series.to_string(),
            }),
            ("al", [session]) if valid(session) => Some(CallbackData::AttendanceList {
                session: session.to_string(),
            }),
            ("b", ["a", code]) if valid(code) => Some(CallbackData::Broadcast(
                BroadcastAction::Audience(code.to_string()),
            )),
            ("b", ["m", menu]) if valid(menu) => Some(CallbackData::Broadcast(
                BroadcastAction::Menu(menu.to_string()),
            )),
            ("b", [action, id]) => {
                let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
                let action = match *action {
                    "go" => BroadcastAction::SendNow(id),
                    "at" => BroadcastAction::Schedule(id),
                    "x" => BroadcastAction::Cancel(id),
                    _ => return None,
                };
                Some(CallbackData::Broadcast(action))
            }
            ("an", [yn]) => parse_yes_no(yn).map(CallbackData::Announcements),
            ("s", rest) => SurveyAction::decode(rest).map(CallbackData::Survey),
            ("cg", ["c"]) => Some(CallbackData::Coaching(CoachingAction::Change)),
            ("cg", ["p"]) => Some(CallbackData::Coaching(CoachingAction::Pause)),
            ("cg", ["r"]) => Some(CallbackData::Coaching(CoachingAction::Resume)),
            ("cg", ["s"]) => Some(CallbackData::Coaching(CoachingAction::Stop)),
            ("cg", ["d", day]) => {
                weekday(day).map(|d| CallbackData::Coaching(CoachingAction::Day(d)))
            }
            ("cg", ["t", day, minute]) => {
                let day = weekday(day)?;
                let minute = minute.parse::<u32>().ok().filter(|m| *m < 24 * 60)?;
                Some(CallbackData::Coaching(CoachingAction::Time { day, minute }))
            }
            ("j", [page]) => page.parse::<u32>().ok().map(CallbackData::Journal),
            _ => None,
        }
    }
}

impl SurveyAction {
    /// The coordinators' menus (`/survey`, `/results`, `/export`), as opposed to answering.
    pub fn is_coordinators(&self) -> bool {
        // No catch-all: a new action must be decided here (see `CallbackData::coordinators_only`).
        match self {
            SurveyAction::Pick(_)
            | SurveyAction::Audience { .. }
            | SurveyAction::Send { .. }
            | SurveyAction::Results { .. }
            | SurveyAction::Export(_) => true,
            SurveyAction::Start(_)
            | SurveyAction::Answer { .. }
            | SurveyAction::Toggle { .. }
            | SurveyAction::Done { .. }
            | SurveyAction::Skip { .. }
            | SurveyAction::Back { .. }
            | SurveyAction::Goto { .. }
            | SurveyAction::Change(_)
            | SurveyAction::Submit(_) => false,
        }
    }

    fn encode(&self) -> String {
        match self {
            SurveyAction::Start(id) => format!("go|{id}"),
            SurveyAction::Answer {
                invitation,
                question,
                code,
            } => format!("a|{invitation}|{question}|{code}"),
            SurveyAction::Toggle {
                invitation,
                question,
                code,
            } => format!("t|{invitation}|{question}|{code}"),
            SurveyAction::Done {
                invitation,
                question,
            } => format!("d|{invitation}|{question}"),
            SurveyAction::Skip {
                invitation,
                question,
            } => format!("k|{invitation}|{question}"),
            SurveyAction::Back {
                invitation,
                question,
            } => format!("b|{invitation}|{question}"),
            SurveyAction::Goto {
                invitation,
                question,
            } => format!("g|{invitation}|{question}"),
            SurveyAction::Change(id) => format!("c|{id}"),
            SurveyAction::Submit(id) => format!("x|{id}"),
            SurveyAction::Pick(survey) => format!("p|{survey}"),
            SurveyAction::Audience { survey, audience } => format!("au|{survey}|{audience}"),
            SurveyAction::Send { survey, audience } => format!("sd|{survey}|{audience}"),
            SurveyAction::Results {
                survey,
                scope: None,
            } => format!("r|{survey}"),
            SurveyAction::Results {
                survey,
                scope: Some(scope),
            } => format!("r|{survey}|{scope}"),
            SurveyAction::Export(survey) => format!("e|{survey}"),
        }
    }

    fn decode(parts: &[&str]) -> Option<SurveyAction> {
        let id = |raw: &str| raw.parse::<i64>().ok().filter(|id| *id > 0);
        let token = |raw: &str| is_token(raw).then(|| raw.to_string());
        Some(match parts {
            ["go", inv] => SurveyAction::Start(id(inv)?),
            ["a", inv, q, code] => SurveyAction::Answer {
                invitation: id(inv)?,
                question: token(q)?,
                code: token(code)?,
            },
            ["t", inv, q, code] => SurveyAction::Toggle {
                invitation: id(inv)?,
                question: token(q)?,
                code: token(code)?,
            },
            ["d", inv, q] => SurveyAction::Done {
                invitation: id(inv)?,
                question: token(q)?,
            },
            ["k", inv, q] => SurveyAction::Skip {
                invitation: id(inv)?,
                question: token(q)?,
            },
            ["b", inv, q] => SurveyAction::Back {
                invitation: id(inv)?,
                question: token(q)?,
            },
            ["g", inv, q] => SurveyAction::Goto {
                invitation: id(inv)?,
                question: token(q)?,
            },
            ["c", inv] => SurveyAction::Change(id(inv)?),
            ["x", inv] => SurveyAction::Submit(id(inv)?),
            ["p", survey] => SurveyAction::Pick(token(survey)?),
            ["au", survey, audience] => SurveyAction::Audience {
                survey: token(survey)?,
                audience: token(audience)?,
            },
            ["sd", survey, audience] => SurveyAction::Send {
                survey: token(survey)?,
                audience: token(audience)?,
            },
            ["r", survey] => SurveyAction::Results {
                survey: token(survey)?,
                scope: None,
            },
            ["r", survey, scope] => SurveyAction::Results {
                survey: token(survey)?,
                scope: Some(token(scope)?),
            },
            ["e", survey] => SurveyAction::Export(token(survey)?),
            _ => return None,
        })
    }
}

fn weekday(raw: &str) -> Option<u32> {
    raw.parse::<u32>().ok().filter(|d| (1..=7).contains(d))
}

fn yes_no(b: bool) -> &'static str {
    if b { "y" } else { "n" }
}

fn parse_yes_no(raw: &str) -> Option<bool> {
    match raw {
        "y" => Some(true),
        "n" => Some(false),
        _ => None,
    }
}

/// Ids and values inside callback data: 1–48 characters of `a-z0-9_-` (content `check` enforces this).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 48
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_within_64_bytes() {
        let all = [
            CallbackData::Answer {
                step: "pro_series".into(),
                value: "rovaniemi-spring-2024".into(),
            },
            CallbackData::SetLanguage(Lang::En),
            CallbackData::Edit {
                step: "father_area".into(),
            },
            CallbackData::Forget { confirm: true },
            CallbackData::Forget { confirm: false },
            CallbackData::Calendar {
                session: "rovaniemi-2024-1".into(),
            },
            CallbackData::CalendarAll {
                series: "rovaniemi-2024".into(),
            },
            CallbackData::CheckIn {
                session: "oulu-2024-3".into(),
            },
            CallbackData::Leave {
                series: "oulu-2024".into(),
                confirm: true,
            },
            CallbackData::Offer {
                series: "oulu-2024".into(),
                accept: false,
            },
            CallbackData::Reminders(ReminderChoice::On),
            CallbackData::Reminders(ReminderChoice::Off),
            CallbackData::Reminders(ReminderChoice::Toggle("day_before_1600".into())),
            CallbackData::Reminders(ReminderChoice::Email(true)),
            CallbackData::Reminders(ReminderChoice::Email(false)),
            CallbackData::Attendance {
                session: "oulu-2024-3".into(),
                user: 1_234_567_890,
            },
            CallbackData::AttendanceCsv {
                session: "oulu-2024-3".into(),
            },
            CallbackData::AttendanceSeries {
                series: "rovaniemi-2024".into(),
            },
            CallbackData::AttendanceList {
                session: "rovaniemi-2024-3".into(),
            },
            CallbackData::Broadcast(BroadcastAction::Audience("all".into())),
            CallbackData::Broadcast(BroadcastAction::Audience("group-online-fathers-en".into())),
            CallbackData::Broadcast(BroadcastAction::Menu("series".into())),
            CallbackData::Broadcast(BroadcastAction::SendNow(12)),
            CallbackData::Broadcast(BroadcastAction::Schedule(12)),
            CallbackData::Broadcast(BroadcastAction::Cancel(i64::MAX)),
            CallbackData::Announcements(true),
            CallbackData::Announcements(false),
            CallbackData::Survey(SurveyAction::Start(12)),
            CallbackData::Survey(SurveyAction::Answer {
                invitation: 999_999_999_999,
                question: "try_method".into(),
                code: "maybe".into(),
            }),
            CallbackData::Survey(SurveyAction::Toggle {
                invitation: 3,
                question: "themes".into(),
                code: "parenthood".into(),
            }),
            CallbackData::Survey(SurveyAction::Done {
                invitation: 3,
                question: "themes".into(),
            }),
            CallbackData::Survey(SurveyAction::Skip {
                invitation: 3,
                question: "comment".into(),
            }),
            CallbackData::Survey(SurveyAction::Back {
                invitation: 3,
                question: "comment".into(),
            }),
            CallbackData::Survey(SurveyAction::Goto {
                invitation: 3,
                question: "useful".into(),
            }),
            CallbackData::Survey(SurveyAction::Change(3)),
            CallbackData::Survey(SurveyAction::Submit(3)),
            CallbackData::Survey(SurveyAction::Pick("series-end".into())),
            CallbackData::Survey(SurveyAction::Audience {
                survey: "series-end".into(),
                audience: "series-rovaniemi-2024".into(),
            }),
            CallbackData::Survey(SurveyAction::Send {
                survey: "series-end".into(),
                audience: "series-rovaniemi-2024".into(),
            }),
            CallbackData::Survey(SurveyAction::Results {
                survey: "session-feedback".into(),
                scope: None,
            }),
            CallbackData::Survey(SurveyAction::Results {
                survey: "session-feedback".into(),
                scope: Some("rovaniemi-2024-2".into()),
            }),
            CallbackData::Survey(SurveyAction::Export("peer-group-4w".into())),
            CallbackData::Coaching(CoachingAction::Change),
            CallbackData::Coaching(CoachingAction::Day(7)),
            CallbackData::Coaching(CoachingAction::Time {
                day: 2,
                minute: 1139,
            }),
            CallbackData::Coaching(CoachingAction::Pause),
            CallbackData::Coaching(CoachingAction::Resume),
            CallbackData::Coaching(CoachingAction::Stop),
            CallbackData::Journal(0),
            CallbackData::Journal(u32::MAX),
        ];
        for data in all {
            let encoded = data.encode();
            assert!(encoded.len() <= MAX_CALLBACK_BYTES);
            assert_eq!(CallbackData::decode(&encoded), Some(data));
        }
    }

    #[test]
    fn garbage_and_old_versions_do_not_decode() {
        for raw in [
            "",
            "x",
            "0|a|role|father",
            "1|a|role",
            "1|a|role|father|x",
            "1|a|Role|father",
            "1|l|sv",
            "1|f|maybe",
            "1|a|ro le|x",
            "1|b|go|0",
            "1|b|go|-3",
            "1|b|go|x",
            "1|b|send|3",
            "1|b|a|Kaikki",
            "1|an|maybe",
            "1|s|go|0",
            "1|s|a|3|Useful|5",
            "1|s|zz|3",
            "1|cg|d|8",
            "1|cg|d|0",
            "1|cg|t|1|1440",
            "1|cg|x",
            "1|j|-1",
        ] {
            assert_eq!(CallbackData::decode(raw), None, "{raw}");
        }
        assert_eq!(
            CallbackData::decode(&format!("1|e|{}", "a".repeat(70))),
            None
        );
    }
}
