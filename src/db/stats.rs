use super::DbError;
use sqlx::SqlitePool;

/// Registration counts for `/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: i64,
    pub by_role: Vec<(String, i64)>,
    pub by_series: Vec<(String, i64)>,
    pub by_area: Vec<(String, i64)>,
    /// Fathers by peer group (the console's overview; `/stats` leaves it out).
    pub by_group: Vec<(String, i64)>,
    pub in_progress: i64,
    /// People who blocked the bot or whose account is gone (the outbox skips them).
    pub unreachable: i64,
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
    let by_group = sqlx::query_as("SELECT group_id, COUNT(*) FROM participants WHERE group_id IS NOT NULL GROUP BY group_id ORDER BY group_id")
        .fetch_all(pool)
        .await?;
    let (in_progress,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM dialogues d WHERE d.flow = 'registration'
           AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.telegram_user_id = d.telegram_user_id)",
    )
    .fetch_one(pool)
    .await?;
    let (unreachable,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE unreachable_since IS NOT NULL")
            .fetch_one(pool)
            .await?;
    Ok(Counts {
        total,
        by_role,
        by_series,
        by_area,
        by_group,
        in_progress,
        unreachable,
    })
}

/// A short summary of what is stored (the simulator's `:db`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub users: i64,
    pub participants_by_role: Vec<(String, i64)>,
    pub dialogues_by_step: Vec<(String, i64)>,
    pub deliveries_by_status: Vec<(String, i64)>,
    pub audit_entries: i64,
}

pub async fn summary(pool: &SqlitePool) -> Result<Summary, DbError> {
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?;
    let participants_by_role =
        sqlx::query_as("SELECT role, COUNT(*) FROM participants GROUP BY role ORDER BY role")
            .fetch_all(pool)
            .await?;
    let dialogues_by_step =
        sqlx::query_as("SELECT flow || ':' || step, COUNT(*) FROM dialogues GROUP BY 1 ORDER BY 1")
            .fetch_all(pool)
            .await?;
    let deliveries_by_status =
        sqlx::query_as("SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let (audit_entries,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await?;
    Ok(Summary {
        users,
        participants_by_role,
        dialogues_by_step,
        deliveries_by_status,
        audit_entries,
    })
}

/// The earliest due time of a delivery not yet sent (the simulator steps its clock through these).
pub async fn outbox_next_due(
    pool: &SqlitePool,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(due_at) FROM deliveries WHERE status IN ('pending', 'sending')",
    )
    .fetch_one(pool)
    .await?)
}

/// How many deliveries due at `now` are not sent yet.
pub async fn outbox_due_count(
    pool: &SqlitePool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending') AND due_at <= ?",
    )
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// The next deliveries: due time, chat and what kind of message (for the simulator's `:due`).
pub async fn outbox_upcoming(
    pool: &SqlitePool,
    limit: i64,
) -> Result<Vec<(chrono::DateTime<chrono::Utc>, i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT due_at, chat_id, COALESCE(json_extract(payload, '$.text'), json_extract(payload, '$.file_name'), json_extract(payload, '$.kind'))
         FROM deliveries WHERE status = 'pending' ORDER BY due_at, id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The outbox backlog for `/health`: rows waiting in all, how many are due at `now`, and the due time of the
/// oldest due one.
pub async fn outbox_backlog(
    pool: &SqlitePool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(i64, i64, Option<chrono::DateTime<chrono::Utc>>), DbError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE due_at <= ?1), MIN(due_at) FILTER (WHERE due_at <= ?1)
         FROM deliveries WHERE status IN ('pending', 'sending')",
    )
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Whether the database answers at all (for `/health`).
pub async fn ping(pool: &SqlitePool) -> Result<(), DbError> {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(pool)
        .await?;
    Ok(())
}

/// How many participants have a Telegram id above `after` (benchmarks count the people they registered).
pub async fn participants_from(pool: &SqlitePool, after: i64) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM participants WHERE telegram_user_id > ?")
            .bind(after)
            .fetch_one(pool)
            .await?,
    )
}

/// The outbox as the console's overview shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxHealth {
    /// Rows by status (pending, sending, sent, failed, skipped, cancelled) of the retention period.
    pub by_status: Vec<(String, i64)>,
    /// Rows that failed in the last 24 hours.
    pub failed_last_day: i64,
    /// Rows due at `now` and not sent yet, and the due time of the oldest of them.
    pub due: i64,
    pub oldest_due: Option<chrono::DateTime<chrono::Utc>>,
    /// What is queued, by kind (the idempotency key's first part: `session`, `broadcast`, `certificate`…): the
    /// next due time and how many rows wait.
    pub waves: Vec<(String, chrono::DateTime<chrono::Utc>, i64)>,
}

pub async fn outbox_health(
    pool: &SqlitePool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<OutboxHealth, DbError> {
    let by_status =
        sqlx::query_as("SELECT status, COUNT(*) FROM deliveries GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let failed_last_day = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE status = 'failed' AND COALESCE(sent_at, due_at) >= ?",
    )
    .bind(now - chrono::TimeDelta::days(1))
    .fetch_one(pool)
    .await?;
    let (_, due, oldest_due) = outbox_backlog(pool, now).await?;
    let waves = sqlx::query_as(
        "SELECT CASE WHEN instr(idempotency_key, ':') > 0
                     THEN substr(idempotency_key, 1, instr(idempotency_key, ':') - 1)
                     ELSE idempotency_key END AS kind,
                MIN(due_at), COUNT(*)
         FROM deliveries WHERE status = 'pending' GROUP BY kind ORDER BY MIN(due_at) LIMIT 20",
    )
    .fetch_all(pool)
    .await?;
    Ok(OutboxHealth {
        by_status,
        failed_last_day,
        due,
        oldest_due,
        waves,
    })
}
