//! Operations on the database as a whole: a consistent online backup, a checked restore, and the queries of
//! the retention purge.
use super::{DbError, Tx};
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
    // One query (not one per person): the purge reads this again for every batch it erases.
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
