//! The programme as stored (migration 0012): series, sessions (cancelled ones kept), what the shipped file has
//! seeded, the programme's end dates and the revision counter.
use super::{DbError, Tx};
use crate::domain::Localized;
use crate::domain::programme::{Series, Session};
use crate::domain::season::{EndSetting, Season};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

fn local(at: NaiveDateTime) -> String {
    at.format(LOCAL).to_string()
}

fn parse_local(text: &str) -> Result<NaiveDateTime, DbError> {
    NaiveDateTime::parse_from_str(text, LOCAL)
        .map_err(|_| DbError::Corrupt(format!("programme time '{text}'")))
}

fn json(text: &Localized) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn parse_json(text: &str) -> Result<Localized, DbError> {
    serde_json::from_str(text).map_err(|_| DbError::Corrupt(format!("programme text '{text}'")))
}

type SeriesRow = (
    String,
    String,
    String,
    String,
    Option<i64>,
    bool,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

type SessionRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// The whole stored programme.
pub async fn load(tx: &mut Tx) -> Result<Season, DbError> {
    let rows: Vec<SeriesRow> = sqlx::query_as(
        "SELECT id, code, name, area, capacity, waitlist, certificate_min_sessions, registration_opens,
                registration_closes, place
         FROM season_series ORDER BY position, id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut season = Season::default();
    for (id, code, name, area, capacity, waitlist, min, opens, closes, place) in rows {
        let count = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
        season.series.push(Series {
            id,
            code,
            name: parse_json(&name)?,
            area,
            capacity: count(capacity),
            waitlist,
            certificate_min_sessions: count(min),
            registration_opens: opens.as_deref().map(parse_local).transpose()?,
            registration_closes: closes.as_deref().map(parse_local).transpose()?,
            place: place.as_deref().map(parse_json).transpose()?,
            sessions: Vec::new(),
        });
    }
    let sessions: Vec<SessionRow> = sqlx::query_as(
        "SELECT id, series_id, starts, ends, place, online, link, title, theme, cancelled_at
         FROM season_sessions ORDER BY starts, id",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (id, series_id, starts, ends, place, online, link, title, theme, cancelled) in sessions {
        let session = Session {
            id,
            start: parse_local(&starts)?,
            end: parse_local(&ends)?,
            place: place.as_deref().map(parse_json).transpose()?,
            online,
            link,
            title: parse_json(&title)?,
            theme: theme.as_deref().map(parse_json).transpose()?,
        };
        if cancelled.is_some() {
            season.cancelled.push((series_id, session));
        } else if let Some(series) = season.series.iter_mut().find(|s| s.id == series_id) {
            series.sessions.push(session);
        }
    }
    let ends: Vec<(DateTime<Utc>, String)> =
        sqlx::query_as("SELECT set_at, ends FROM season_ends ORDER BY set_at, rowid")
            .fetch_all(&mut **tx)
            .await?;
    for (set_at, ends) in ends {
        let ends = NaiveDate::parse_from_str(&ends, "%Y-%m-%d")
            .map_err(|_| DbError::Corrupt(format!("programme end '{ends}'")))?;
        season.ends.push(EndSetting { set_at, ends });
    }
    season.revision = sqlx::query_scalar("SELECT revision FROM season_revision")
        .fetch_one(&mut **tx)
        .await?;
    Ok(season)
}

/// Series ids the database has seen: stored, or once seeded or deleted (`season_seeded` holds both: every id
/// the shipped file must never seed again).
pub async fn known_series(tx: &mut Tx) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar(
            "SELECT id FROM season_series UNION SELECT series_id FROM season_seeded",
        )
        .fetch_all(&mut **tx)
        .await?,
    )
}

pub async fn mark_seeded(tx: &mut Tx, series_id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO season_seeded (series_id, seeded_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(series_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a series and its sessions as they are in `series` (a session cancelled before stays cancelled
/// unless it is in `series` again, which the use case never allows).
pub async fn put_series(
    tx: &mut Tx,
    series: &Series,
    position: usize,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO season_series (id, position, code, name, area, capacity, waitlist, certificate_min_sessions,
                                    registration_opens, registration_closes, place, updated_at, updated_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET position = excluded.position, code = excluded.code, name = excluded.name,
           area = excluded.area, capacity = excluded.capacity, waitlist = excluded.waitlist,
           certificate_min_sessions = excluded.certificate_min_sessions,
           registration_opens = excluded.registration_opens, registration_closes = excluded.registration_closes,
           place = excluded.place, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(&series.id)
    .bind(i64::try_from(position).unwrap_or(i64::MAX))
    .bind(&series.code)
    .bind(json(&series.name))
    .bind(&series.area)
    .bind(series.capacity.map(i64::from))
    .bind(series.waitlist)
    .bind(series.certificate_min_sessions.map(i64::from))
    .bind(series.registration_opens.map(local))
    .bind(series.registration_closes.map(local))
    .bind(series.place.as_ref().map(json))
    .bind(now)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    for session in &series.sessions {
        sqlx::query(
            "INSERT INTO season_sessions (id, series_id, starts, ends, place, online, link, title, theme, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET series_id = excluded.series_id, starts = excluded.starts,
               ends = excluded.ends, place = excluded.place, online = excluded.online, link = excluded.link,
               title = excluded.title, theme = excluded.theme, cancelled_at = NULL, updated_at = excluded.updated_at",
        )
        .bind(&session.id)
        .bind(&series.id)
        .bind(local(session.start))
        .bind(local(session.end))
        .bind(session.place.as_ref().map(json))
        .bind(session.online)
        .bind(&session.link)
        .bind(json(&session.title))
        .bind(session.theme.as_ref().map(json))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Removes a series and its sessions (cancelled ones too) and remembers its id in `season_seeded`, so that
/// the shipped file never brings it back.
pub async fn delete_series(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("DELETE FROM season_sessions WHERE series_id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM season_series WHERE id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    mark_seeded(tx, id, now).await
}

/// How many people a series has had: enrolled in any state (also waiting or left), with a profile naming it,
/// or marked at one of its sessions (cancelled ones too).
pub async fn series_people(tx: &mut Tx, id: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM (
           SELECT telegram_user_id FROM enrolments WHERE series_id = ?1
           UNION SELECT telegram_user_id FROM participants WHERE series_id = ?1
           UNION SELECT a.telegram_user_id FROM attendance a JOIN season_sessions s ON s.id = a.session_id
                 WHERE s.series_id = ?1)",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn cancel_session(
    tx: &mut Tx,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE season_sessions SET cancelled_at = ?, updated_at = ? WHERE id = ? AND cancelled_at IS NULL",
    )
    .bind(now)
    .bind(now)
    .bind(session_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn add_end(
    tx: &mut Tx,
    ends: NaiveDate,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO season_ends (set_at, ends, set_by) VALUES (?, ?, ?)")
        .bind(now)
        .bind(ends.format("%Y-%m-%d").to_string())
        .bind(by)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Counts one more saved change; returns the new revision.
pub async fn bump_revision(tx: &mut Tx) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("UPDATE season_revision SET revision = revision + 1 RETURNING revision")
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Marks where seeding starts, so that seeding whose result is refused can be undone inside a larger
/// transaction (`/reload`'s input).
pub async fn begin_seeding(tx: &mut Tx) -> Result<(), DbError> {
    sqlx::query("SAVEPOINT season_seeding")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Keeps (`keep`) or undoes what was written since `begin_seeding`.
pub async fn end_seeding(tx: &mut Tx, keep: bool) -> Result<(), DbError> {
    if !keep {
        sqlx::query("ROLLBACK TO season_seeding")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE season_seeding")
        .execute(&mut **tx)
        .await?;
    Ok(())
}
