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
