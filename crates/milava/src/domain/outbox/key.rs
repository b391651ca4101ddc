//! Outbox idempotency keys as a type. Each key names one message so that deciding it again stores nothing
//! new; the stored string (`deliveries.idempotency_key`) is written and read only here, and keeps exactly the
//! form earlier versions wrote, so rows already stored keep deduplicating after an upgrade.
//!
//! Ids from the content (series, sessions, groups, prompts, surveys, offsets) contain no `:`; the decoder
//! relies on that where a key holds two of them.
use crate::domain::survey::Trigger;
use std::fmt;

/// One outbox message's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OutboxKey {
    /// A reminder or check-in prompt before a session that starts at `start` (Unix seconds; a moved
    /// session gets new keys): `session:{series}:{session}:{start}:{user}:{item}`.
    Session {
        series: String,
        session: String,
        start: i64,
        user: i64,
        item: SessionItem,
    },
    /// A notice that a session changed: `change:{session}:{kind}:{change}:{user}` (`change` fingerprints
    /// the new state, so each change is told once).
    Change {
        session: String,
        kind: String,
        change: String,
        user: i64,
    },
    /// The certificate after a series, in the chat or (`email`) by email: `certificate:{series}:{user}[:email]`.
    Certificate {
        series: String,
        user: i64,
        email: bool,
    },
    /// A certificate a coordinator issued again (the console), at `at` (Unix milliseconds):
    /// `certificate:{series}:{user}:again:{at}[:email]`.
    CertificateAgain {
        series: String,
        user: i64,
        at: i64,
        email: bool,
    },
    /// One recipient's copy of a broadcast: `broadcast:{id}:{user}` (in the batch `broadcast_batch(id)`).
    Broadcast { id: i64, user: i64 },
    /// The coordinator's status message of a broadcast: `broadcast-status:{id}`.
    BroadcastStatus(i64),
    /// The edits of that status message as the copies go out, one row replaced by the latest state:
    /// `broadcast-status-edit:{id}`.
    BroadcastStatusEdit(i64),
    /// The summary after a broadcast: `broadcast-summary:{id}`.
    BroadcastSummary(i64),
    /// A father's weekly coaching step: `coaching:{user}:{step}`.
    Coaching { user: i64, step: String },
    /// A freed place offered from the waitlist at `at` (Unix seconds): `offer:{series}:{user}:{at}`.
    Offer { series: String, user: i64, at: i64 },
    /// The notice that an offer ran out: `offer-expired:{series}:{user}:{at}`.
    OfferExpired { series: String, user: i64, at: i64 },
    /// A peer group's discussion prompt: `prompt:{group}:{prompt}`.
    Prompt { group: String, prompt: String },
    /// The answer to a join request: `join:{group}:{user}:{at}:approved|declined`.
    Join {
        group: String,
        user: i64,
        at: i64,
        approved: bool,
    },
    /// A coordinator told that the bot lost a right in a group: `group-lost:{group}:{at}:{coordinator}`.
    GroupLost {
        group: String,
        at: i64,
        coordinator: i64,
    },
    /// A survey invitation: `survey:{survey}:{trigger}:{user}`.
    SurveyInvitation {
        survey: String,
        trigger: Trigger,
        user: i64,
    },
    /// The one reminder of a survey invitation: `survey-reminder:{survey}:{trigger}:{user}`.
    SurveyReminder {
        survey: String,
        trigger: Trigger,
        user: i64,
    },
}

/// What a session key is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SessionItem {
    CheckIn,
    /// A reminder at one of the content's offsets (`ReminderOffset::id`), in the chat or by email.
    Reminder {
        offset: String,
        email: bool,
    },
}

/// A set of keys that share a beginning, for the outbox's prefix queries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPrefix {
    /// Everything planned for one series' sessions: `session:{series}:`.
    Series(String),
    /// Everything planned for one session: `session:{series}:{session}:`.
    Session { series: String, session: String },
    /// A peer group's prompts: `prompt:{group}:`.
    GroupPrompts(String),
}

/// The batch of one broadcast's copies (for progress and cancelling).
pub fn broadcast_batch(id: i64) -> String {
    format!("broadcast:{id}")
}

impl KeyPrefix {
    /// The stored keys of this set all start with this string.
    pub fn encode(&self) -> String {
        match self {
            KeyPrefix::Series(series) => format!("session:{series}:"),
            KeyPrefix::Session { series, session } => format!("session:{series}:{session}:"),
            KeyPrefix::GroupPrompts(group) => format!("prompt:{group}:"),
        }
    }
}

impl OutboxKey {
    /// The stored string.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// A stored string back as a key; `None` for anything this version does not write.
    pub fn decode(raw: &str) -> Option<OutboxKey> {
        let (kind, rest) = raw.split_once(':')?;
        let parts: Vec<&str> = rest.split(':').collect();
        let int = |s: &str| s.parse::<i64>().ok();
        let key = match (kind, parts.as_slice()) {
            ("session", [series, session, start, user, item @ ..]) => OutboxKey::Session {
                series: series.to_string(),
                session: session.to_string(),
                start: int(start)?,
                user: int(user)?,
                item: match item {
                    ["checkin"] => SessionItem::CheckIn,
                    ["reminder", offset] => SessionItem::Reminder {
                        offset: offset.to_string(),
                        email: false,
                    },
                    ["reminder", offset, "email"] => SessionItem::Reminder {
                        offset: offset.to_string(),
                        email: true,
                    },
                    _ => return None,
                },
            },
            ("change", [session, kind, change, user]) => OutboxKey::Change {
                session: session.to_string(),
                kind: kind.to_string(),
                change: change.to_string(),
                user: int(user)?,
            },
            ("certificate", [series, user, "again", at, email @ ..]) => {
                OutboxKey::CertificateAgain {
                    series: series.to_string(),
                    user: int(user)?,
                    at: int(at)?,
                    email: match email {
                        [] => false,
                        ["email"] => true,
                        _ => return None,
                    },
                }
            }
            ("certificate", [series, user, email @ ..]) => OutboxKey::Certificate {
                series: series.to_string(),
                user: int(user)?,
                email: match email {
                    [] => false,
                    ["email"] => true,
                    _ => return None,
                },
            },
            ("broadcast", [id, user]) => OutboxKey::Broadcast {
                id: int(id)?,
                user: int(user)?,
            },
            ("broadcast-status", [id]) => OutboxKey::BroadcastStatus(int(id)?),
            ("broadcast-status-edit", [id]) => OutboxKey::BroadcastStatusEdit(int(id)?),
            ("broadcast-summary", [id]) => OutboxKey::BroadcastSummary(int(id)?),
            ("coaching", [user, step]) => OutboxKey::Coaching {
                user: int(user)?,
                step: step.to_string(),
            },
            ("offer", [series, user, at]) => OutboxKey::Offer {
                series: series.to_string(),
                user: int(user)?,
                at: int(at)?,
            },
            ("offer-expired", [series, user, at]) => OutboxKey::OfferExpired {
                series: series.to_string(),
                user: int(user)?,
                at: int(at)?,
            },
            ("prompt", [group, prompt]) => OutboxKey::Prompt {
                group: group.to_string(),
                prompt: prompt.to_string(),
            },
            ("join", [group, user, at, outcome]) => OutboxKey::Join {
                group: group.to_string(),
                user: int(user)?,
                at: int(at)?,
                approved: match *outcome {
                    "approved" => true,
                    "declined" => false,
                    _ => return None,
                },
            },
            ("group-lost", [group, at, coordinator]) => OutboxKey::GroupLost {
                group: group.to_string(),
                at: int(at)?,
                coordinator: int(coordinator)?,
            },
            ("survey" | "survey-reminder", [survey, trigger @ .., user]) => {
                let survey = survey.to_string();
                let trigger = Trigger::parse(&trigger.join(":"))?;
                let user = int(user)?;
                if kind == "survey" {
                    OutboxKey::SurveyInvitation {
                        survey,
                        trigger,
                        user,
                    }
                } else {
                    OutboxKey::SurveyReminder {
                        survey,
                        trigger,
                        user,
                    }
                }
            }
            _ => return None,
        };
        Some(key)
    }

    /// Whether this key belongs to the set `prefix` names.
    pub fn is_in(&self, prefix: &KeyPrefix) -> bool {
        self.encode().starts_with(&prefix.encode())
    }
}

impl fmt::Display for OutboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxKey::Session {
                series,
                session,
                start,
                user,
                item,
            } => {
                let prefix = KeyPrefix::Session {
                    series: series.clone(),
                    session: session.clone(),
                };
                write!(f, "{}{start}:{user}:", prefix.encode())?;
                match item {
                    SessionItem::CheckIn => f.write_str("checkin"),
                    SessionItem::Reminder { offset, email } => {
                        write!(f, "reminder:{offset}{}", if *email { ":email" } else { "" })
                    }
                }
            }
            OutboxKey::Change {
                session,
                kind,
                change,
                user,
            } => write!(f, "change:{session}:{kind}:{change}:{user}"),
            OutboxKey::Certificate {
                series,
                user,
                email,
            } => write!(
                f,
                "certificate:{series}:{user}{}",
                if *email { ":email" } else { "" }
            ),
            OutboxKey::CertificateAgain {
                series,
                user,
                at,
                email,
            } => write!(
                f,
                "certificate:{series}:{user}:again:{at}{}",
                if *email { ":email" } else { "" }
            ),
            OutboxKey::Broadcast { id, user } => write!(f, "broadcast:{id}:{user}"),
            OutboxKey::BroadcastStatus(id) => write!(f, "broadcast-status:{id}"),
            OutboxKey::BroadcastStatusEdit(id) => write!(f, "broadcast-status-edit:{id}"),
            OutboxKey::BroadcastSummary(id) => write!(f, "broadcast-summary:{id}"),
            OutboxKey::Coaching { user, step } => write!(f, "coaching:{user}:{step}"),
            OutboxKey::Offer { series, user, at } => write!(f, "offer:{series}:{user}:{at}"),
            OutboxKey::OfferExpired { series, user, at } => {
                write!(f, "offer-expired:{series}:{user}:{at}")
            }
            OutboxKey::Prompt { group, prompt } => {
                let prefix = KeyPrefix::GroupPrompts(group.clone());
                write!(f, "{}{prompt}", prefix.encode())
            }
            OutboxKey::Join {
                group,
                user,
                at,
                approved,
            } => {
                let outcome = if *approved { "approved" } else { "declined" };
                write!(f, "join:{group}:{user}:{at}:{outcome}")
            }
            OutboxKey::GroupLost {
                group,
                at,
                coordinator,
            } => write!(f, "group-lost:{group}:{at}:{coordinator}"),
            OutboxKey::SurveyInvitation {
                survey,
                trigger,
                user,
            } => write!(f, "survey:{survey}:{}:{user}", trigger.key()),
            OutboxKey::SurveyReminder {
                survey,
                trigger,
                user,
            } => write!(f, "survey-reminder:{survey}:{}:{user}", trigger.key()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{KEY_FAMILIES, key_family};
    use super::*;

    /// Every variant, with the exact string earlier versions stored for it.
    fn every_key() -> Vec<(OutboxKey, &'static str)> {
        let session = |item| OutboxKey::Session {
            series: "oulu-kevat24".into(),
            session: "a-1".into(),
            start: 1_710_230_400,
            user: 1001,
            item,
        };
        let trigger = Trigger::Session {
            series: "oulu-kevat24".into(),
            session: "a-1".into(),
        };
        vec![
            (
                session(SessionItem::CheckIn),
                "session:oulu-kevat24:a-1:1710230400:1001:checkin",
            ),
            (
                session(SessionItem::Reminder {
                    offset: "60m".into(),
                    email: false,
                }),
                "session:oulu-kevat24:a-1:1710230400:1001:reminder:60m",
            ),
            (
                session(SessionItem::Reminder {
                    offset: "day_before_1600".into(),
                    email: true,
                }),
                "session:oulu-kevat24:a-1:1710230400:1001:reminder:day_before_1600:email",
            ),
            (
                OutboxKey::Change {
                    session: "a-1".into(),
                    kind: "moved".into(),
                    change: "0123456789abcdef".into(),
                    user: 7,
                },
                "change:a-1:moved:0123456789abcdef:7",
            ),
            (
                OutboxKey::Certificate {
                    series: "s".into(),
                    user: 5,
                    email: false,
                },
                "certificate:s:5",
            ),
            (
                OutboxKey::Certificate {
                    series: "s".into(),
                    user: 5,
                    email: true,
                },
                "certificate:s:5:email",
            ),
            (
                OutboxKey::CertificateAgain {
                    series: "s".into(),
                    user: 5,
                    at: 1710230400123,
                    email: true,
                },
                "certificate:s:5:again:1710230400123:email",
            ),
            (OutboxKey::Broadcast { id: 9, user: 12 }, "broadcast:9:12"),
            (OutboxKey::BroadcastStatus(9), "broadcast-status:9"),
            (OutboxKey::BroadcastStatusEdit(9), "broadcast-status-edit:9"),
            (OutboxKey::BroadcastSummary(9), "broadcast-summary:9"),
            (
                OutboxKey::Coaching {
                    user: 3,
                    step: "step-2".into(),
                },
                "coaching:3:step-2",
            ),
            (
                OutboxKey::Offer {
                    series: "s".into(),
                    user: 4,
                    at: 1_700_000_000,
                },
                "offer:s:4:1700000000",
            ),
            (
                OutboxKey::OfferExpired {
                    series: "s".into(),
                    user: 4,
                    at: 1_700_000_000,
                },
                "offer-expired:s:4:1700000000",
            ),
            (
                OutboxKey::Prompt {
                    group: "oulu-isat".into(),
                    prompt: "p3".into(),
                },
                "prompt:oulu-isat:p3",
            ),
            (
                OutboxKey::Join {
                    group: "g".into(),
                    user: 8,
                    at: 1_700_000_000,
                    approved: true,
                },
                "join:g:8:1700000000:approved",
            ),
            (
                OutboxKey::Join {
                    group: "g".into(),
                    user: 8,
                    at: 1_700_000_000,
                    approved: false,
                },
                "join:g:8:1700000000:declined",
            ),
            (
                OutboxKey::GroupLost {
                    group: "g".into(),
                    at: 1_700_000_000,
                    coordinator: 900,
                },
                "group-lost:g:1700000000:900",
            ),
            (
                OutboxKey::SurveyInvitation {
                    survey: "palaute".into(),
                    trigger: trigger.clone(),
                    user: 12,
                },
                "survey:palaute:session:oulu-kevat24:a-1:12",
            ),
            (
                OutboxKey::SurveyReminder {
                    survey: "palaute".into(),
                    trigger,
                    user: 12,
                },
                "survey-reminder:palaute:session:oulu-kevat24:a-1:12",
            ),
            (
                OutboxKey::SurveyInvitation {
                    survey: "palaute".into(),
                    trigger: Trigger::Manual(3),
                    user: 12,
                },
                "survey:palaute:manual:3:12",
            ),
            (
                OutboxKey::SurveyReminder {
                    survey: "palaute".into(),
                    trigger: Trigger::Series("s".into()),
                    user: 12,
                },
                "survey-reminder:palaute:series:s:12",
            ),
            (
                OutboxKey::SurveyInvitation {
                    survey: "palaute".into(),
                    trigger: Trigger::Group("g".into()),
                    user: 12,
                },
                "survey:palaute:group:g:12",
            ),
        ]
    }

    #[test]
    fn every_kind_of_key_belongs_to_a_family_with_a_text() {
        for (_, stored) in every_key() {
            let kind = stored.split(':').next().unwrap();
            let family = key_family(kind);
            assert!(
                family.is_some_and(|f| KEY_FAMILIES.contains(&f)),
                "{stored}: {family:?}"
            );
        }
    }

    #[test]
    fn every_key_keeps_its_stored_form_and_decodes_back() {
        for (key, stored) in every_key() {
            assert_eq!(key.encode(), stored);
            assert_eq!(OutboxKey::decode(stored), Some(key), "{stored}");
        }
    }

    /// A new variant fails here until it is added to `every_key` (the match must name it).
    #[test]
    fn the_round_trip_test_names_every_variant() {
        let mut seen = std::collections::HashSet::new();
        for (key, _) in every_key() {
            seen.insert(match key {
                OutboxKey::Session { .. } => 0,
                OutboxKey::Change { .. } => 1,
                OutboxKey::Certificate { .. } => 2,
                OutboxKey::Broadcast { .. } => 3,
                OutboxKey::BroadcastStatus(_) => 4,
                OutboxKey::BroadcastStatusEdit(_) => 5,
                OutboxKey::BroadcastSummary(_) => 6,
                OutboxKey::Coaching { .. } => 7,
                OutboxKey::Offer { .. } => 8,
                OutboxKey::OfferExpired { .. } => 9,
                OutboxKey::Prompt { .. } => 10,
                OutboxKey::Join { .. } => 11,
                OutboxKey::GroupLost { .. } => 12,
                OutboxKey::SurveyInvitation { .. } => 13,
                OutboxKey::SurveyReminder { .. } => 14,
                OutboxKey::CertificateAgain { .. } => 15,
            });
        }
        assert_eq!(seen.len(), 16);
    }

    #[test]
    fn strings_this_version_does_not_write_do_not_decode() {
        for raw in [
            "",
            "k",
            "broadcast:9",
            "broadcast:x:1",
            "session:s:a:1:2:reminder",
            "session:s:a:1:2:checkin:email",
            "certificate:s:5:sms",
            "join:g:8:1:maybe",
            "survey:p:weekly:1:12",
            "prompt:g",
        ] {
            assert_eq!(OutboxKey::decode(raw), None, "{raw}");
        }
    }

    #[test]
    fn prefixes_hold_their_keys_and_no_others() {
        let key = |series: &str, session: &str| OutboxKey::Session {
            series: series.into(),
            session: session.into(),
            start: 5,
            user: 7,
            item: SessionItem::CheckIn,
        };
        let series = KeyPrefix::Series("s".into());
        let session = KeyPrefix::Session {
            series: "s".into(),
            session: "a-1".into(),
        };
        assert!(key("s", "a-1").is_in(&series) && key("s", "a-1").is_in(&session));
        assert!(!key("s", "a-10").is_in(&session), "a-10 is another session");
        assert!(!key("s2", "a-1").is_in(&series), "s2 is another series");
        let prompts = KeyPrefix::GroupPrompts("g".into());
        let prompt = |group: &str| OutboxKey::Prompt {
            group: group.into(),
            prompt: "p".into(),
        };
        assert!(prompt("g").is_in(&prompts) && !prompt("g2").is_in(&prompts));
        assert_eq!(broadcast_batch(9), "broadcast:9");
    }
}
