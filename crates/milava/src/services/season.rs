//! The programme coordinators edit. It lives in the database (`db::season`); the shipped
//! `dialogues/programme.toml` seeds only the series the database has never seen, and `content.toml`
//! `programme_ends` only a database without an end. `apply` is the one use case behind every edit (the
//! console's forms; tests call it directly): the proposed change is applied to the stored programme, the whole
//! resulting content is checked with the same function as `milava-bot check`, written in one transaction
//! with the audit line, and put in use after the commit; the scheduler then announces changed sessions to
//! their participants once each and re-plans reminders, exactly as after `/reload`.
use super::Ctx;
use crate::content::{Content, ContentError, ContentProblem};
use crate::db::{self, DbError, Tx, audit, season as store};
use crate::domain::season::{ChangeError, ProgrammeChange, Season};
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum SeasonError {
    /// The change names something that does not exist, or takes an id in use.
    #[error("{0}")]
    Change(#[from] ChangeError),
    /// The resulting programme breaks the content rules (as `check` words them).
    #[error("{}", ContentError(.0.clone()))]
    Invalid(Vec<ContentProblem>),
    /// A series people have registered for (or attended) is never deleted: its sessions are cancelled instead,
    /// which tells them.
    #[error("{people} people registered for the series or attended it")]
    Registered { people: i64 },
    #[error("{0}")]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SeasonError {
    fn from(e: sqlx::Error) -> Self {
        SeasonError::Db(DbError::from(e))
    }
}

/// What a saved change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Sessions participants will be told about (moved, cancelled, new link or place).
    pub changed_sessions: usize,
    /// Change notices the scheduler will send for them (one per session and participant).
    pub notices: usize,
}

/// Seeds from `shipped` what the database has never seen and returns the stored programme. A shipped
/// series whose session ids the database already uses for another series is refused (a problem), never
/// merged.
pub async fn seed(
    tx: &mut Tx,
    shipped: &Content,
    now: DateTime<Utc>,
) -> Result<Result<Season, Vec<ContentProblem>>, DbError> {
    let known = store::known_series(tx).await?;
    let mut stored = store::load(tx).await?;
    let mut problems = Vec::new();
    let mut seeded = Vec::new();
    for series in shipped.series.iter().filter(|s| !known.contains(&s.id)) {
        let taken = series.sessions.iter().find(|s| {
            stored
                .series
                .iter()
                .flat_map(|x| &x.sessions)
                .chain(stored.cancelled.iter().map(|(_, x)| x))
                .any(|x| x.id == s.id)
        });
        if let Some(taken) = taken {
            problems.push(ContentProblem {
                file: "programme.toml".into(),
                key: format!("session {}", taken.id),
                problem: "this session id is already used in the database's programme".into(),
                code: "session.id_in_database",
            });
            continue;
        }
        store::put_series(tx, series, stored.series.len(), 0, now).await?;
        store::mark_seeded(tx, &series.id, now).await?;
        stored.series.push(series.clone());
        seeded.push(series.id.as_str());
    }
    if stored.ends.is_empty() {
        store::add_end(tx, shipped.programme_ends, 0, now).await?;
        seeded.push("programme_ends");
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // Recorded in `season_seeded` (with its time) and the log; the audit log is for what people did.
    if !seeded.is_empty() {
        store::bump_revision(tx).await?;
        log::info!(
            "programme: seeded {} from the shipped files",
            seeded.join(", ")
        );
    }
    Ok(Ok(store::load(tx).await?))
}

/// `shipped` content with the database's programme in place of the shipped one (seeding first), checked as
/// a whole like `check` does; when refused, nothing is seeded. Start-up and `/reload` use it; `/reload`
/// passes its input's transaction.
pub async fn with_stored_programme(
    tx: &mut Tx,
    shipped: Content,
    now: DateTime<Utc>,
) -> Result<Result<Content, ContentError>, DbError> {
    store::begin_seeding(tx).await?;
    let checked = match seed(tx, &shipped, now).await? {
        Ok(season) => {
            let content = shipped.with_season(season);
            let problems = crate::content::validate(&content);
            match problems.is_empty() {
                true => Ok(content),
                false => Err(ContentError(problems)),
            }
        }
        Err(problems) => Err(ContentError(problems)),
    };
    store::end_seeding(tx, checked.is_ok()).await?;
    Ok(checked)
}

/// Applies a coordinator's change (`by` is their Telegram id): refused with every problem when the result
/// is not a valid programme; otherwise stored, audited and put in use, and the scheduler is woken to tell
/// participants and re-plan.
pub async fn apply(ctx: &Ctx, by: i64, change: ProgrammeChange) -> Result<Applied, SeasonError> {
    let now = ctx.clock.now();
    let tz = ctx.config.timezone;
    let mut tx = db::begin_write(&ctx.pool).await?;
    if let ProgrammeChange::DeleteSeries { id } = &change {
        let people = store::series_people(&mut tx, id).await?;
        if people > 0 {
            return Err(SeasonError::Registered { people });
        }
    }
    let stored = store::load(&mut tx).await?;
    let today = crate::domain::time::utc_to_local(tz, now).date();
    let next = stored.with(change.clone(), now, today)?;
    let mut candidate = (*ctx.content.get()).clone().with_season(next.clone());
    let problems = crate::content::validate(&candidate);
    if !problems.is_empty() {
        return Err(SeasonError::Invalid(problems));
    }
    let series_of = |id: &str| {
        next.series
            .iter()
            .position(|s| s.id == id || s.sessions.iter().any(|x| x.id == id))
    };
    let detail = match &change {
        ProgrammeChange::AddSeries(series) => format!("added series {}", series.id),
        ProgrammeChange::EditSeries { id, .. } => format!("edited series {id}"),
        ProgrammeChange::AddSession { session, .. } => format!("added session {}", session.id),
        ProgrammeChange::EditSession(session) => format!("edited session {}", session.id),
        ProgrammeChange::CancelSession { session_id } => format!("cancelled session {session_id}"),
        ProgrammeChange::DeleteSeries { id } => id.clone(),
        ProgrammeChange::SetProgrammeEnds(ends) => format!("programme ends {ends}"),
    };
    let action = match &change {
        ProgrammeChange::DeleteSeries { .. } => "series_deleted",
        _ => "programme_changed",
    };
    match &change {
        ProgrammeChange::AddSeries(series) => {
            store::put_series(&mut tx, series, next.series.len() - 1, by, now).await?
        }
        ProgrammeChange::EditSeries { id, .. }
        | ProgrammeChange::AddSession { series_id: id, .. } => {
            if let Some(at) = series_of(id) {
                store::put_series(&mut tx, &next.series[at], at, by, now).await?;
            }
        }
        ProgrammeChange::EditSession(session) => {
            if let Some(at) = series_of(&session.id) {
                store::put_series(&mut tx, &next.series[at], at, by, now).await?;
            }
        }
        ProgrammeChange::CancelSession { session_id } => {
            store::cancel_session(&mut tx, session_id, now).await?
        }
        ProgrammeChange::DeleteSeries { id } => store::delete_series(&mut tx, id, now).await?,
        ProgrammeChange::SetProgrammeEnds(ends) => store::add_end(&mut tx, *ends, by, now).await?,
    }
    candidate.season_extra.revision = store::bump_revision(&mut tx).await?;
    let (changed_sessions, notices) = super::changes::notices_due(&mut tx, &candidate, tz).await?;
    audit::record(&mut tx, by, action, &detail, now).await?;
    tx.commit().await?;
    log::info!("programme: {detail} by {by} ({notices} change notices due)");
    ctx.content.put_in_use(candidate);
    ctx.scheduler.wake();
    Ok(Applied {
        changed_sessions,
        notices,
    })
}

/// Whether series `id` (in use now) may be deleted: `None` when there is no such series.
pub async fn deletable(
    ctx: &Ctx,
    id: &str,
) -> Result<Option<Result<(), SeasonError>>, SeasonError> {
    let content = ctx.content.get();
    if content.series(id).is_none() {
        return Ok(None);
    }
    let now = ctx.clock.now();
    let today = crate::domain::time::utc_to_local(ctx.config.timezone, now).date();
    let delete = ProgrammeChange::DeleteSeries { id: id.into() };
    if let Err(e) = content.season().with(delete, now, today) {
        return Ok(Some(Err(e.into())));
    }
    let mut tx = db::begin_read(&ctx.pool).await?;
    let people = store::series_people(&mut tx, id).await?;
    Ok(Some(match people {
        0 => Ok(()),
        people => Err(SeasonError::Registered { people }),
    }))
}

/// The stored programme (and the reminder offsets) as a programme.toml, for review in git; `check
/// --programme FILE` validates it with the rest of `dialogues/`.
pub fn export(content: &Content, now_local: chrono::NaiveDateTime) -> String {
    super::season_export::to_toml(content, now_local)
}
