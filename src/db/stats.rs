use super::DbError;
use sqlx::SqlitePool;

/// Registration counts for `/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: i64,
    pub by_role: Vec<(String, i64)>,
    pub by_series: Vec<(String, i64)>,
    pub by_area: Vec<(String, i64)>,
    pub in_progress: i64,
}

pub async fn counts(pool: &SqlitePool) -> Result<Counts, DbError> {
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM participants")
        .fetch_one(pool)
        .await?;
    let by_role =
        sqlx::query_as("SELECT role, COUNT(*) FROM participants GROUP BY role ORDER BY role")
            .fetch_all(pool)
            .await?;
    let by_series = sqlx::query_as(
        "SELECT series_id, COUNT(*) FROM participants WHERE series_id IS NOT NULL GROUP BY series_id ORDER BY series_id",
    )
    .fetch_all(pool)
    .await?;
    let by_area = sqlx::query_as("SELECT area, COUNT(*) FROM participants WHERE area IS NOT NULL GROUP BY area ORDER BY area")
        .fetch_all(pool)
        .await?;
    let (in_progress,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM dialogues d WHERE d.flow = 'registration'
           AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.telegram_user_id = d.telegram_user_id)",
    )
    .fetch_one(pool)
    .await?;
    Ok(Counts {
        total,
        by_role,
        by_series,
        by_area,
        in_progress,
    })
}
