//! Operations on the database as a whole: a consistent online backup, a checked restore, and the queries of
//! the retention purge.
use super::{DbError, Tx};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use std::path::Path;

/// Writes a consistent copy of the database to `target` while the bot keeps running (`VACUUM INTO` reads one
/// snapshot; writers are not blocked). The file is created readable by its owner only and must not exist yet.
pub async fn backup(pool: &SqlitePool, target: &Path) -> Result<(), DbError> {
    if target.exists() {
        return Err(DbError::File {
            path: target.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists; choose a new file name",
            ),
        });
    }
    super::create_private_file(target)?;
    // It reads one snapshot and writes another file: no turn.
    let result = sqlx::query("VACUUM INTO ?")
        .bind(target.to_string_lossy().into_owned())
        .execute(pool)
        .await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(target);
        return Err(e.into());
    }
    Ok(())
}

/// `PRAGMA integrity_check` of the database behind `pool`: None when it is sound, else SQLite's findings.
pub async fn integrity_problems(pool: &SqlitePool) -> Result<Option<String>, DbError> {
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await?;
    Ok(match rows.as_slice() {
        [ok] if ok == "ok" => None,
        _ => Some(rows.join("; ")),
    })
}

/// Tables every database of this bot has since its first migration.
const CORE_TABLES: [&str; 4] = ["users", "participants", "dialogues", "audit_log"];

/// Why the database behind `pool` is not one of this bot's (None when it is): it must have sqlx's
/// `_sqlx_migrations` table with our first migration applied, every applied migration must be one of ours
/// with the same checksum (a newer bot's backup is refused too: this binary could not migrate it), and
/// the first migration's tables must be there. A foreign SQLite file passes `integrity_check` just as well.
pub async fn foreign_database_problem(pool: &SqlitePool) -> Result<Option<String>, DbError> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(pool)
            .await?;
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Ok(Some("it has no migrations table (_sqlx_migrations)".into()));
    }
    let applied: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT version, checksum FROM _sqlx_migrations WHERE success = 1 ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    let ours = super::MIGRATOR.iter().collect::<Vec<_>>();
    if !applied
        .iter()
        .any(|(version, _)| Some(*version) == ours.first().map(|m| m.version))
    {
        return Ok(Some(
            "its migrations do not start with this bot's first one".into(),
        ));
    }
    for (version, checksum) in &applied {
        match ours.iter().find(|m| m.version == *version) {
            None => {
                return Ok(Some(format!(
                    "it has migration {version}, which this version of the bot does not know"
                )));
            }
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                return Ok(Some(format!(
                    "its migration {version} is not this bot's (different checksum)"
                )));
            }
            Some(_) => {}
        }
    }
    let missing: Vec<&str> = CORE_TABLES
        .into_iter()
        .filter(|core| !tables.iter().any(|t| t == core))
        .collect();
    if !missing.is_empty() {
        return Ok(Some(format!("it lacks the tables {}", missing.join(", "))));
    }
    Ok(None)
}

/// Everyone enrolled in or registered for `series`, with the series of each of them (so the caller can keep
/// people who also belong to a series that is not over yet).
pub async fn people_of_series(
    tx: &mut Tx,
    series: &str,
) -> Result<Vec<(i64, Vec<String>)>, DbError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "WITH people AS (
             SELECT telegram_user_id FROM enrolments WHERE series_id = ?1
             UNION SELECT telegram_user_id FROM participants WHERE series_id = ?1)
         SELECT telegram_user_id, series_id FROM enrolments WHERE telegram_user_id IN people
         UNION SELECT telegram_user_id, series_id FROM participants
               WHERE series_id IS NOT NULL AND telegram_user_id IN people
         ORDER BY 1, 2",
    )
    .bind(series)
    .fetch_all(&mut **tx)
    .await?;
    let mut out: Vec<(i64, Vec<String>)> = Vec::new();
    for (user, series) in rows {
        match out.last_mut() {
            Some((last, theirs)) if *last == user => theirs.push(series),
            _ => out.push((user, vec![series])),
        }
    }
    Ok(out)
}

/// The series one person is enrolled in or registered for (what `people_of_series` lists for each).
pub async fn series_of_person(tx: &mut Tx, user: i64) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT series_id FROM enrolments WHERE telegram_user_id = ?1
         UNION SELECT series_id FROM participants WHERE telegram_user_id = ?1 AND series_id IS NOT NULL
         ORDER BY 1",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await?)
}

/// Up to `limit` fathers and others (the people the programme's end erases), by Telegram id with their role,
/// leaving out `keep` (coordinators: a JSON array of ids); with `consented_before`, only those who consented
/// before it.
pub async fn programme_people(
    tx: &mut Tx,
    keep: &str,
    consented_before: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT telegram_user_id, role FROM participants
         WHERE role IN ('father', 'other') AND telegram_user_id NOT IN (SELECT value FROM json_each(?1))
           AND (?3 IS NULL OR consent_at < ?3)
         ORDER BY telegram_user_id LIMIT ?2",
    )
    .bind(keep)
    .bind(limit)
    .bind(consented_before)
    .fetch_all(&mut **tx)
    .await?)
}

/// Up to `limit` people who never registered and have not written since `cutoff`: their users row, an
/// unfinished registration or a join request is all there is, and all of it is older than `cutoff`. `keep`
/// (a JSON array of ids: coordinators, facilitators) are never listed.
pub async fn unfinished_people(
    tx: &mut Tx,
    cutoff: DateTime<Utc>,
    keep: &str,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT telegram_user_id FROM users WHERE last_seen <= ?1
         UNION SELECT telegram_user_id FROM dialogues WHERE updated_at <= ?1
         UNION SELECT telegram_user_id FROM group_members WHERE at <= ?1
         EXCEPT SELECT telegram_user_id FROM participants
         EXCEPT SELECT telegram_user_id FROM users WHERE last_seen > ?1
         EXCEPT SELECT telegram_user_id FROM dialogues WHERE updated_at > ?1
         EXCEPT SELECT telegram_user_id FROM group_members WHERE at > ?1
         EXCEPT SELECT value FROM json_each(?2)
         ORDER BY 1 LIMIT ?3",
    )
    .bind(cutoff)
    .bind(keep)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?)
}

/// The oldest moment after `cutoff` at which someone who never registered (not in `keep`) last left a
/// trace (wrote, answered, asked to join): when `unfinished_people` may next find someone, less the days.
pub async fn oldest_unfinished_after(
    pool: &SqlitePool,
    cutoff: DateTime<Utc>,
    keep: &str,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let oldest: Option<String> = sqlx::query_scalar(
        "SELECT MIN(t) FROM (
             SELECT last_seen AS t, telegram_user_id AS u FROM users
             UNION ALL SELECT updated_at, telegram_user_id FROM dialogues
             UNION ALL SELECT at, telegram_user_id FROM group_members)
         WHERE t > ?1 AND u NOT IN (SELECT telegram_user_id FROM participants)
           AND u NOT IN (SELECT value FROM json_each(?2))",
    )
    .bind(cutoff)
    .bind(keep)
    .fetch_one(pool)
    .await?;
    oldest.map(|t| super::stored_time(&t)).transpose()
}
