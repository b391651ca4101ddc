//! Noticing programme changes (used by the scheduler and by `/reload`): the sessions in the content are compared with the snapshot of what participants
//! were last told, giving one change per session (moved, cancelled, new link, new place).
use crate::content::Content;
use crate::db::programme::Snapshot;
use crate::domain::time::local_to_utc;
use chrono_tz::Tz;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The session has a new start or end time (`before` is what participants were told, for the notice).
    Moved {
        session_id: String,
        before: Snapshot,
    },
    /// The session is no longer in the programme (its last known state is kept for the notice).
    Cancelled { snapshot: Snapshot },
    /// The join link was added or changed.
    Link { session_id: String },
    /// The in-person place changed.
    Place { session_id: String },
}

/// The snapshot of every session in the content, as it is now.
pub fn current(content: &Content, tz: Tz) -> Vec<Snapshot> {
    content
        .series
        .iter()
        .flat_map(|series| {
            series.sessions.iter().map(move |s| Snapshot {
                session_id: s.id.clone(),
                series_id: series.id.clone(),
                title: serde_json::to_string(&s.title).unwrap_or_default(),
                starts_at: local_to_utc(tz, s.start),
                ends_at: local_to_utc(tz, s.end),
                place: s.place.as_ref().and_then(|p| serde_json::to_string(p).ok()),
                online: s.online || s.link.is_some(),
                link: s.link.clone(),
            })
        })
        .collect()
}

/// Changes between what was announced (`before`) and the content now (`after`). Sessions that are new are
/// not changes: their participants get reminders as usual.
pub fn diff(before: &[Snapshot], after: &[Snapshot]) -> Vec<Change> {
    let mut changes = Vec::new();
    for old in before {
        match after.iter().find(|s| s.session_id == old.session_id) {
            None => changes.push(Change::Cancelled {
                snapshot: old.clone(),
            }),
            Some(new) if new.starts_at != old.starts_at || new.ends_at != old.ends_at => changes
                .push(Change::Moved {
                    session_id: new.session_id.clone(),
                    before: old.clone(),
                }),
            Some(new) if new.link != old.link && new.link.is_some() => changes.push(Change::Link {
                session_id: new.session_id.clone(),
            }),
            Some(new) if new.place != old.place && new.place.is_some() => {
                changes.push(Change::Place {
                    session_id: new.session_id.clone(),
                })
            }
            Some(_) => {}
        }
    }
    changes
}

/// How many sessions changed between what participants were told and `content`, and how many notices the
/// scheduler will send for them (one per changed session and person enrolled in its series): what `/reload`
/// and a coordinator's programme edit report.
pub async fn notices_due(
    tx: &mut crate::db::Tx,
    content: &Content,
    tz: Tz,
) -> Result<(usize, usize), crate::db::DbError> {
    let before = crate::db::programme::snapshots(tx).await?;
    let changed = diff(&before, &current(content, tz));
    let mut notices = 0;
    for change in &changed {
        let series = match change {
            Change::Cancelled { snapshot } => Some(snapshot.series_id.clone()),
            Change::Moved { session_id, .. }
            | Change::Link { session_id }
            | Change::Place { session_id } => {
                content.session(session_id).map(|(s, _)| s.id.clone())
            }
        };
        if let Some(series) = series {
            notices += crate::db::programme::enrolled_recipients(tx, &series)
                .await?
                .len();
        }
    }
    Ok((changed.len(), notices))
}

/// A short stable id of a change, so the same change is announced once even if planned twice.
pub fn change_id(change: &Change, after: &[Snapshot]) -> String {
    let now_state = |id: &str| after.iter().find(|s| s.session_id == id);
    let text = match change {
        Change::Cancelled { snapshot } => format!("cancelled {}", snapshot.starts_at.timestamp()),
        Change::Moved { session_id, .. } => now_state(session_id)
            .map(|s| format!("moved {} {}", s.starts_at, s.ends_at))
            .unwrap_or_default(),
        Change::Link { session_id } => now_state(session_id)
            .and_then(|s| s.link.clone())
            .map(|l| format!("link {l}"))
            .unwrap_or_default(),
        Change::Place { session_id } => now_state(session_id)
            .and_then(|s| s.place.clone())
            .map(|p| format!("place {p}"))
            .unwrap_or_default(),
    };
    crate::domain::fingerprint(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn snapshot(id: &str, hour: u32) -> Snapshot {
        Snapshot {
            session_id: id.into(),
            series_id: "s".into(),
            title: "{}".into(),
            starts_at: Utc.with_ymd_and_hms(2024, 4, 3, hour, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2024, 4, 3, hour + 4, 0, 0).unwrap(),
            place: None,
            online: true,
            link: None,
        }
    }

    #[test]
    fn each_kind_of_change_is_found_once() {
        let before = vec![
            snapshot("a", 5),
            snapshot("b", 5),
            snapshot("c", 5),
            snapshot("d", 5),
        ];
        let mut moved = snapshot("a", 5);
        moved.starts_at += Duration::hours(1);
        let mut linked = snapshot("b", 5);
        linked.link = Some("https://meet.example/b".into());
        let after = vec![moved, linked, snapshot("c", 5), snapshot("new", 5)];
        assert_eq!(
            diff(&before, &after),
            vec![
                Change::Moved {
                    session_id: "a".into(),
                    before: snapshot("a", 5),
                },
                Change::Link {
                    session_id: "b".into()
                },
                Change::Cancelled {
                    snapshot: snapshot("d", 5)
                },
            ]
        );
        assert!(diff(&after, &after).is_empty());
    }
}
