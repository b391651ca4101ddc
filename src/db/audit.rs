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
