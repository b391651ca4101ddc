//! The programme as coordinators edit it: the season (series, sessions, the programme's end) and the changes a
//! coordinator can propose. Applying a change is pure; whether the result is a valid programme is decided by
//! the content check (`content::validate`), the same rules `milava-bot check` applies to the shipped file.
use super::programme::{Series, Session};
use chrono::{DateTime, NaiveDate, Utc};

/// The programme stored in the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Season {
    /// Series in the order they are offered, each with its sessions that are not cancelled.
    pub series: Vec<Series>,
    /// Cancelled sessions (series id, session): shown to coordinators, never offered, ids never reused.
    pub cancelled: Vec<(String, Session)>,
    /// Every end date the programme has had, oldest first; the last one is in force.
    pub ends: Vec<EndSetting>,
    /// Counts saved changes (see `ContentStore::put_in_use`).
    pub revision: i64,
}

/// One value the programme's end has had, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndSetting {
    pub set_at: DateTime<Utc>,
    pub ends: NaiveDate,
}

/// Everything of a series but its sessions, as a coordinator edits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesFields {
    pub code: String,
    pub name: super::Localized,
    pub area: String,
    pub capacity: Option<u32>,
    pub waitlist: bool,
    pub certificate_min_sessions: Option<u32>,
    pub registration_opens: Option<chrono::NaiveDateTime>,
    pub registration_closes: Option<chrono::NaiveDateTime>,
    pub place: Option<super::Localized>,
}

impl SeriesFields {
    pub fn of(series: &Series) -> SeriesFields {
        SeriesFields {
            code: series.code.clone(),
            name: series.name.clone(),
            area: series.area.clone(),
            capacity: series.capacity,
            waitlist: series.waitlist,
            certificate_min_sessions: series.certificate_min_sessions,
            registration_opens: series.registration_opens,
            registration_closes: series.registration_closes,
            place: series.place.clone(),
        }
    }

    fn put_into(self, series: &mut Series) {
        series.code = self.code;
        series.name = self.name;
        series.area = self.area;
        series.capacity = self.capacity;
        series.waitlist = self.waitlist;
        series.certificate_min_sessions = self.certificate_min_sessions;
        series.registration_opens = self.registration_opens;
        series.registration_closes = self.registration_closes;
        series.place = self.place;
    }
}

/// A change a coordinator proposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgrammeChange {
    /// A new series with its sessions (added at the end of the list).
    AddSeries(Series),
    EditSeries {
        id: String,
        fields: SeriesFields,
    },
    AddSession {
        series_id: String,
        session: Session,
    },
    /// A session's new times, place, link, title or theme (moving a session is editing its times).
    EditSession(Session),
    CancelSession {
        session_id: String,
    },
    /// Removes a series that has not started (a draft or a typo) with its sessions, cancelled ones too.
    /// Whether anyone is registered for it is the use case's check (`services::season::apply`).
    DeleteSeries {
        id: String,
    },
    SetProgrammeEnds(NaiveDate),
}

/// Why a change cannot even be applied (what it names does not exist or is taken); a change that applies
/// is then checked as a whole programme.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("no series '{0}'")]
    UnknownSeries(String),
    #[error("no session '{0}' that is not cancelled")]
    UnknownSession(String),
    #[error("the series id '{0}' is taken")]
    SeriesIdTaken(String),
    #[error("the session id '{0}' is taken (perhaps by a cancelled session)")]
    SessionIdTaken(String),
    /// The programme cannot end on a day that is already over: everyone would be erased at once.
    #[error("the day {0} is over")]
    EndPassed(NaiveDate),
    /// A series with a session on a day that is over is history: its sessions are cancelled instead.
    #[error("the series '{0}' has started")]
    SeriesStarted(String),
}

impl Season {
    /// The programme's last day in force.
    pub fn programme_ends(&self) -> Option<NaiveDate> {
        self.ends.last().map(|e| e.ends)
    }

    pub fn series(&self, id: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.id == id)
    }

    fn session_id_taken(&self, id: &str) -> bool {
        self.series
            .iter()
            .flat_map(|s| &s.sessions)
            .chain(self.cancelled.iter().map(|(_, s)| s))
            .any(|s| s.id == id)
    }

    /// A free session id for a series: `<series>-<n>` with the smallest n not used before.
    pub fn next_session_id(&self, series_id: &str) -> String {
        (1..)
            .map(|n| format!("{series_id}-{n}"))
            .find(|id| !self.session_id_taken(id))
            .unwrap_or_default()
    }

    /// The season with `change` applied (not yet validated as a programme); `today` is the local date now.
    pub fn with(
        &self,
        change: ProgrammeChange,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Season, ChangeError> {
        let mut next = self.clone();
        match change {
            ProgrammeChange::AddSeries(series) => {
                if self.series(&series.id).is_some() {
                    return Err(ChangeError::SeriesIdTaken(series.id));
                }
                if let Some(taken) = series
                    .sessions
                    .iter()
                    .find(|s| self.session_id_taken(&s.id))
                {
                    return Err(ChangeError::SessionIdTaken(taken.id.clone()));
                }
                next.series.push(series);
            }
            ProgrammeChange::EditSeries { id, fields } => {
                let series = next.series_mut(&id)?;
                fields.put_into(series);
            }
            ProgrammeChange::AddSession { series_id, session } => {
                if self.session_id_taken(&session.id) {
                    return Err(ChangeError::SessionIdTaken(session.id));
                }
                next.series_mut(&series_id)?.sessions.push(session);
            }
            ProgrammeChange::EditSession(session) => {
                let slot = next
                    .series
                    .iter_mut()
                    .flat_map(|s| s.sessions.iter_mut())
                    .find(|s| s.id == session.id)
                    .ok_or_else(|| ChangeError::UnknownSession(session.id.clone()))?;
                *slot = session;
            }
            ProgrammeChange::CancelSession { session_id } => {
                let (series, at) = next
                    .series
                    .iter()
                    .enumerate()
                    .find_map(|(i, s)| {
                        s.sessions
                            .iter()
                            .position(|x| x.id == session_id)
                            .map(|at| (i, at))
                    })
                    .ok_or(ChangeError::UnknownSession(session_id))?;
                let session = next.series[series].sessions.remove(at);
                next.cancelled
                    .push((next.series[series].id.clone(), session));
            }
            ProgrammeChange::DeleteSeries { id } => {
                let at = next
                    .series
                    .iter()
                    .position(|s| s.id == id)
                    .ok_or_else(|| ChangeError::UnknownSeries(id.clone()))?;
                let started = next.series[at]
                    .sessions
                    .iter()
                    .chain(
                        next.cancelled
                            .iter()
                            .filter(|(s, _)| *s == id)
                            .map(|(_, x)| x),
                    )
                    .any(|s| s.start.date() < today);
                if started {
                    return Err(ChangeError::SeriesStarted(id));
                }
                next.series.remove(at);
                next.cancelled.retain(|(s, _)| *s != id);
            }
            ProgrammeChange::SetProgrammeEnds(ends) if ends < today => {
                return Err(ChangeError::EndPassed(ends));
            }
            ProgrammeChange::SetProgrammeEnds(ends) => {
                next.ends.push(EndSetting { set_at: now, ends })
            }
        }
        Ok(next)
    }

    fn series_mut(&mut self, id: &str) -> Result<&mut Series, ChangeError> {
        self.series
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| ChangeError::UnknownSeries(id.to_string()))
    }
}

/// Whose data the end of the programme erases at a moment (fathers and others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndErasure {
    Nobody,
    /// Those who consented before this moment: the end they were told of (or one stated later and earlier
    /// still) is over, while the end in force now is not.
    ConsentedBefore(DateTime<Utc>),
    /// The programme in force is over.
    Everyone,
}

/// Who is erased for the programme's end, given every end it has had (oldest first) and whether a day is
/// over. A person is erased when the earliest end stated at any time since their consent is over: a later
/// end never keeps anyone longer than they were told, an earlier one applies to everyone.
pub fn end_erasure(ends: &[EndSetting], over: impl Fn(NaiveDate) -> bool) -> EndErasure {
    let Some(current) = ends.last() else {
        return EndErasure::Nobody;
    };
    if over(current.ends) {
        return EndErasure::Everyone;
    }
    // Era i holds those who consented between setting i and setting i + 1; their promise is the earliest end
    // of setting i and every later one. The promises grow with i, so the last era whose promise is over
    // decides the cut-off.
    let mut earliest_since = current.ends;
    let mut cut = None;
    for i in (0..ends.len() - 1).rev() {
        earliest_since = earliest_since.min(ends[i].ends);
        if over(earliest_since) && cut.is_none() {
            cut = Some(ends[i + 1].set_at);
        }
    }
    cut.map_or(EndErasure::Nobody, EndErasure::ConsentedBefore)
}

/// The earliest day whose end, once over, erases someone (for the scheduler's next run).
pub fn next_end_erasure(ends: &[EndSetting]) -> Option<NaiveDate> {
    ends.iter().map(|e| e.ends).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn set(year: i32, ends: &str) -> EndSetting {
        EndSetting {
            set_at: Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap(),
            ends: day(ends),
        }
    }

    #[test]
    fn a_later_end_keeps_nobody_longer_than_they_were_told() {
        // Told 31.7.2025 until 2026; then the programme runs to 31.7.2027.
        let ends = [set(2024, "2025-07-31"), set(2026, "2027-07-31")];
        let today = |d: &str| {
            let last = day(d);
            move |end: NaiveDate| end < last
        };
        assert_eq!(end_erasure(&ends, today("2025-07-31")), EndErasure::Nobody);
        assert_eq!(
            end_erasure(&ends, today("2025-08-01")),
            EndErasure::ConsentedBefore(ends[1].set_at)
        );
        assert_eq!(
            end_erasure(&ends, today("2027-08-01")),
            EndErasure::Everyone
        );
    }

    #[test]
    fn an_earlier_end_applies_to_everyone_who_consented_before_it() {
        // Told 2027, then 2025 (earlier), then 2028: those of the first two eras were told 2025 at some point.
        let ends = [
            set(2024, "2027-07-31"),
            set(2025, "2025-07-31"),
            set(2026, "2028-07-31"),
        ];
        let over = |end: NaiveDate| end < day("2025-08-01");
        assert_eq!(
            end_erasure(&ends, over),
            EndErasure::ConsentedBefore(ends[2].set_at)
        );
        assert_eq!(next_end_erasure(&ends), Some(day("2025-07-31")));
    }

    #[test]
    fn cancelled_session_ids_are_never_given_again() {
        let session = |id: &str| Session {
            id: id.into(),
            start: day("2027-03-10").and_hms_opt(9, 0, 0).unwrap(),
            end: day("2027-03-10").and_hms_opt(12, 0, 0).unwrap(),
            place: None,
            online: true,
            link: None,
            title: Default::default(),
            theme: None,
        };
        let season = Season {
            series: vec![Series {
                id: "s".into(),
                code: "s".into(),
                name: Default::default(),
                area: "oulu".into(),
                capacity: None,
                waitlist: false,
                certificate_min_sessions: None,
                registration_opens: None,
                registration_closes: None,
                place: None,
                sessions: vec![session("s-1"), session("s-2")],
            }],
            ..Default::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let today = day("2026-12-07");
        let cancelled = season
            .with(
                ProgrammeChange::CancelSession {
                    session_id: "s-2".into(),
                },
                now,
                today,
            )
            .unwrap();
        assert_eq!(cancelled.series[0].sessions.len(), 1);
        assert_eq!(cancelled.next_session_id("s"), "s-3");
        assert_eq!(
            cancelled.with(
                ProgrammeChange::AddSession {
                    series_id: "s".into(),
                    session: session("s-2")
                },
                now,
                today
            ),
            Err(ChangeError::SessionIdTaken("s-2".into()))
        );
        assert_eq!(
            cancelled.with(
                ProgrammeChange::CancelSession {
                    session_id: "s-2".into()
                },
                now,
                today
            ),
            Err(ChangeError::UnknownSession("s-2".into()))
        );
        assert_eq!(
            cancelled.with(
                ProgrammeChange::SetProgrammeEnds(day("2026-12-06")),
                now,
                today
            ),
            Err(ChangeError::EndPassed(day("2026-12-06")))
        );
    }

    #[test]
    fn only_a_series_that_has_not_started_can_be_deleted() {
        let session = |id: &str, date: &str| Session {
            id: id.into(),
            start: day(date).and_hms_opt(9, 0, 0).unwrap(),
            end: day(date).and_hms_opt(12, 0, 0).unwrap(),
            place: None,
            online: true,
            link: None,
            title: Default::default(),
            theme: None,
        };
        let series = |id: &str, sessions| Series {
            id: id.into(),
            code: id.into(),
            name: Default::default(),
            area: "oulu".into(),
            capacity: None,
            waitlist: false,
            certificate_min_sessions: None,
            registration_opens: None,
            registration_closes: None,
            place: None,
            sessions,
        };
        let season = Season {
            series: vec![
                series("old", vec![session("old-1", "2026-12-01")]),
                series("draft", vec![session("draft-2", "2027-03-10")]),
            ],
            cancelled: vec![("draft".into(), session("draft-1", "2027-03-03"))],
            ..Default::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let today = day("2026-12-07");
        let delete = |id: &str| ProgrammeChange::DeleteSeries { id: id.into() };
        let deleted = season.with(delete("draft"), now, today).unwrap();
        assert_eq!(deleted.series.len(), 1);
        assert!(deleted.cancelled.is_empty());
        assert_eq!(deleted.next_session_id("draft"), "draft-1");
        assert_eq!(
            season.with(delete("old"), now, today),
            Err(ChangeError::SeriesStarted("old".into()))
        );
        assert_eq!(
            season.with(delete("nope"), now, today),
            Err(ChangeError::UnknownSeries("nope".into()))
        );
    }
}
