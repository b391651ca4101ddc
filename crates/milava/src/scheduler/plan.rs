//! What the scheduler wants to exist in the outbox, computed purely from the programme, the members of each
//! series and the time. Keys are stable, so planning twice (or two overlapping runs) never duplicates.
use crate::domain::outbox::{KeyPrefix, OutboxKey, SessionItem};
use crate::domain::programme::{Series, Session};
use crate::domain::reminders::ReminderOffset;
use crate::domain::time::local_to_utc;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// Reminders are put into the outbox this long before they are due; later ones wait for a later run.
pub const HORIZON: Duration = Duration::hours(48);

/// Something to send one person about one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub key: OutboxKey,
    pub session_id: String,
    pub user: i64,
    pub kind: PlannedKind,
    pub due_at: DateTime<Utc>,
    /// Not sent after this (the session has begun, or for check-in, ended).
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedKind {
    Reminder(ReminderOffset),
    CheckIn,
}

/// A member's reminder choice: off, all offsets, or some offset ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wants {
    pub user: i64,
    pub reminders: bool,
    pub offsets: Option<Vec<String>>,
}

/// The key prefix of everything planned for one series (to find rows that are no longer wanted).
pub fn series_prefix(series: &Series) -> KeyPrefix {
    KeyPrefix::Series(series.id.clone())
}

/// The key prefix of everything planned for one session (to find what is already in the outbox).
pub fn session_prefix(series: &Series, session_id: &str) -> KeyPrefix {
    KeyPrefix::Session {
        series: series.id.clone(),
        session: session_id.to_string(),
    }
}

fn key(
    series: &Series,
    session: &Session,
    start: DateTime<Utc>,
    user: i64,
    item: SessionItem,
) -> OutboxKey {
    // The start time is part of the key: a moved session gets new reminders, and the old ones are withdrawn.
    OutboxKey::Session {
        series: series.id.clone(),
        session: session.id.clone(),
        start: start.timestamp(),
        user,
        item,
    }
}

/// Reminders and check-in prompts that should be in the outbox at `now`: due before `now + HORIZON`, for
/// sessions that have not begun (check-in: not ended).
pub fn plan(
    series: &Series,
    members: &[Wants],
    offsets: &[ReminderOffset],
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<Planned> {
    let mut planned = Vec::new();
    let until = now + HORIZON;
    for session in &series.sessions {
        let start = local_to_utc(tz, session.start);
        let end = local_to_utc(tz, session.end);
        if end <= now {
            continue;
        }
        for member in members {
            let check_in_due = start - crate::domain::enrolment::CHECK_IN_EARLY;
            if check_in_due <= until {
                planned.push(Planned {
                    key: key(series, session, start, member.user, SessionItem::CheckIn),
                    session_id: session.id.clone(),
                    user: member.user,
                    kind: PlannedKind::CheckIn,
                    due_at: check_in_due,
                    expires_at: end,
                });
            }
            if !member.reminders || start <= now {
                continue;
            }
            for offset in offsets {
                let chosen = member
                    .offsets
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&offset.id()));
                let due = offset.due(session.start, tz);
                if chosen && due <= until {
                    planned.push(Planned {
                        key: key(
                            series,
                            session,
                            start,
                            member.user,
                            SessionItem::Reminder {
                                offset: offset.id(),
                                email: false,
                            },
                        ),
                        session_id: session.id.clone(),
                        user: member.user,
                        kind: PlannedKind::Reminder(offset.clone()),
                        due_at: due,
                        expires_at: start,
                    });
                }
            }
        }
    }
    planned
}

/// When the next reminder or check-in of this series enters the horizon (the scheduler wakes then).
pub fn next_planning_time(
    series: &Series,
    offsets: &[ReminderOffset],
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let until = now + HORIZON;
    series
        .sessions
        .iter()
        .flat_map(|session| {
            let start = local_to_utc(tz, session.start);
            offsets
                .iter()
                .map(move |o| o.due(session.start, tz))
                .chain(std::iter::once(
                    start - crate::domain::enrolment::CHECK_IN_EARLY,
                ))
                .filter(move |due| *due > until)
        })
        .min()
        .map(|due| due - HORIZON)
}

#[cfg(test)]
mod tests;
