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

/// The details recorded for `action`, oldest first (for unit tests of the services that record).
#[cfg(test)]
pub(crate) async fn details(pool: &sqlx::SqlitePool, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = ? ORDER BY id")
        .bind(action)
        .fetch_all(pool)
        .await
        .expect("audit log readable")
}
