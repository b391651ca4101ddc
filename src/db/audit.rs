use super::{DbError, Tx};
use chrono::{DateTime, Utc};

/// Records a coordinator's action (who, what, when).
pub async fn record(
    tx: &mut Tx,
    actor: i64,
    action: &str,
    detail: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO audit_log (actor, action, detail, at) VALUES (?, ?, ?, ?)")
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Line {
    pub id: i64,
    pub actor: i64,
    pub action: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// Which lines to show: by actor, by action, from and before a time (each optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<i64>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// A page of lines matching `filter`, newest first, and how many match in all.
pub async fn page(
    pool: &sqlx::SqlitePool,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Line>, i64), DbError> {
    const WHERE: &str = "WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2)
        AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)";
    let lines = sqlx::query_as(&format!(
        "SELECT id, actor, action, detail, at FROM audit_log {WHERE} ORDER BY id DESC LIMIT ?5 OFFSET ?6"
    ))
    .bind(filter.actor)
    .bind(filter.action.as_deref())
    .bind(filter.from)
    .bind(filter.before)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log {WHERE}"))
        .bind(filter.actor)
        .bind(filter.action.as_deref())
        .bind(filter.from)
        .bind(filter.before)
        .fetch_one(pool)
        .await?;
    Ok((lines, total))
}

/// The actions and actors the log holds, for the filter's choices.
pub async fn choices(pool: &sqlx::SqlitePool) -> Result<(Vec<String>, Vec<i64>), DbError> {
    let actions = sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
        .fetch_all(pool)
        .await?;
    let actors = sqlx::query_scalar("SELECT DISTINCT actor FROM audit_log ORDER BY actor")
        .fetch_all(pool)
        .await?;
    Ok((actions, actors))
}

/// The details recorded for `action`, oldest first (for unit tests of the services that record).
#[cfg(test)]
pub(crate) async fn details(pool: &sqlx::SqlitePool, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = ? ORDER BY id")
        .bind(action)
        .fetch_all(pool)
        .await
        .expect("audit log readable")
}
