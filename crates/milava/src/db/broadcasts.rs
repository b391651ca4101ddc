//! Broadcast drafts, schedules and their audiences.
use super::{Db, DbError, Tx};
use crate::domain::broadcast::{Audience, BroadcastStatus};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    pub id: i64,
    pub coordinator: i64,
    pub step: String,
    pub status: BroadcastStatus,
    pub audience: Option<Audience>,
    pub source_chat: Option<i64>,
    pub source_message: Option<i64>,
    pub send_at: Option<DateTime<Utc>>,
    pub recipients: i64,
    pub created_at: DateTime<Utc>,
    /// What it says: the console's text or the copied chat message's; `None` for a copied picture or file.
    pub text: Option<String>,
}

type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<DateTime<Utc>>,
    i64,
    DateTime<Utc>,
    Option<String>,
);

const COLUMNS: &str = "id, coordinator, step, status, audience, source_chat, source_message, send_at, recipients, created_at, text";

fn broadcast(r: Row) -> Result<Broadcast, DbError> {
    let (
        id,
        coordinator,
        step,
        status,
        audience,
        source_chat,
        source_message,
        send_at,
        recipients,
        created_at,
        text,
    ) = r;
    Ok(Broadcast {
        id,
        coordinator,
        step,
        status: BroadcastStatus::parse(&status)
            .ok_or_else(|| DbError::Corrupt(format!("broadcast status '{status}'")))?,
        audience: audience.as_deref().and_then(Audience::parse),
        source_chat,
        source_message,
        send_at,
        recipients,
        created_at,
        text,
    })
}

pub async fn create(tx: &mut Tx, coordinator: i64, now: DateTime<Utc>) -> Result<i64, DbError> {
    // One draft per coordinator at a time: an unfinished earlier draft is dropped.
    sqlx::query("UPDATE broadcasts SET status = 'cancelled', step = 'done' WHERE coordinator = ? AND status = 'draft'")
        .bind(coordinator)
        .execute(&mut **tx)
        .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO broadcasts (coordinator, step, status, created_at) VALUES (?, 'audience', 'draft', ?) RETURNING id",
    )
    .bind(coordinator)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// A broadcast written in the console, with its audience and text: a draft only until it is queued in the
/// same transaction (unlike `create`, it leaves the coordinator's chat draft alone).
pub async fn create_with_audience(
    tx: &mut Tx,
    coordinator: i64,
    audience: &Audience,
    text: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO broadcasts (coordinator, step, status, audience, text, created_at) VALUES (?, 'confirm', 'draft', ?, ?, ?) RETURNING id",
    )
    .bind(coordinator)
    .bind(audience.code())
    .bind(text)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Broadcast>, DbError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM broadcasts WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(broadcast).transpose()
}

/// The coordinator's draft, if they are putting one together.
pub async fn draft_of(tx: &mut Tx, coordinator: i64) -> Result<Option<Broadcast>, DbError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE coordinator = ? AND status = 'draft' ORDER BY id DESC LIMIT 1"
    ))
    .bind(coordinator)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(broadcast).transpose()
}

pub async fn recent(tx: &mut Tx, limit: i64) -> Result<Vec<Broadcast>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE status != 'draft' ORDER BY id DESC LIMIT ?"
    ))
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(broadcast).collect()
}

/// Broadcasts being sent right now (the progress reporter follows them).
pub async fn sending(pool: &SqlitePool) -> Result<Vec<Broadcast>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE status = 'sending' ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(broadcast).collect()
}

/// Scheduled broadcasts whose time has come become `sending`.
pub async fn start_due(db: &Db, now: DateTime<Utc>) -> Result<u64, DbError> {
    let _turn = db.turn().await?;
    Ok(sqlx::query(
        "UPDATE broadcasts SET status = 'sending' WHERE status = 'scheduled' AND send_at <= ?",
    )
    .bind(now)
    .execute(db.writer())
    .await?
    .rows_affected())
}

pub async fn next_scheduled(pool: &SqlitePool) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT MIN(send_at) FROM broadcasts WHERE status = 'scheduled'")
            .fetch_one(pool)
            .await?,
    )
}

pub async fn set_audience(tx: &mut Tx, id: i64, audience: &Audience) -> Result<(), DbError> {
    sqlx::query("UPDATE broadcasts SET audience = ?, step = 'message' WHERE id = ?")
        .bind(audience.code())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The chat message to copy to everyone, with its text (`None` for a picture or file).
pub async fn set_message(
    tx: &mut Tx,
    id: i64,
    chat: i64,
    message: i64,
    text: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE broadcasts SET source_chat = ?, source_message = ?, text = ?, step = 'confirm' WHERE id = ?",
    )
    .bind(chat)
    .bind(message)
    .bind(text)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_step(tx: &mut Tx, id: i64, step: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE broadcasts SET step = ? WHERE id = ?")
        .bind(step)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Confirmed: queued now (`sending`) or for later (`scheduled`), with the number of recipients.
pub async fn confirm(
    tx: &mut Tx,
    id: i64,
    status: BroadcastStatus,
    send_at: DateTime<Utc>,
    recipients: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE broadcasts SET status = ?, step = 'done', send_at = ?, recipients = ?, confirmed_at = ? WHERE id = ?",
    )
    .bind(status.as_str())
    .bind(send_at)
    .bind(recipients)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn finish(
    tx: &mut Tx,
    id: i64,
    status: BroadcastStatus,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE broadcasts SET status = ?, step = 'done', finished_at = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Someone who would receive a broadcast: user, chat.
pub type Recipient = (i64, i64);

/// Counts for the preview: who receives it, and who is left out because they cannot be reached or turned
/// announcements off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudienceCount {
    pub recipients: i64,
    pub unreachable: i64,
    pub opted_out: i64,
}

/// The audience's filter as SQL over `participants p` (values bound separately, never spliced in).
fn audience_filter(audience: &Audience) -> (&'static str, Option<String>) {
    match audience {
        Audience::Everyone => ("1 = 1", None),
        Audience::Role(role) => ("p.role = ?", Some(role.as_str().to_string())),
        Audience::Series(id) => (
            "EXISTS (SELECT 1 FROM enrolments e WHERE e.telegram_user_id = p.telegram_user_id AND e.series_id = ? AND e.status = 'enrolled')",
            Some(id.clone()),
        ),
        Audience::Area(area) => ("p.area = ?", Some(area.clone())),
        Audience::Research => ("p.research_consent = 1", None),
        Audience::Group(id) => ("p.group_id = ?", Some(id.clone())),
    }
}

pub async fn count_audience(tx: &mut Tx, audience: &Audience) -> Result<AudienceCount, DbError> {
    let (filter, value) = audience_filter(audience);
    let sql = format!(
        "SELECT
           COALESCE(SUM(CASE WHEN u.unreachable_since IS NULL AND u.announcements = 1 THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN u.unreachable_since IS NOT NULL THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN u.unreachable_since IS NULL AND u.announcements = 0 THEN 1 ELSE 0 END), 0)
         FROM participants p JOIN users u ON u.telegram_user_id = p.telegram_user_id WHERE {filter}"
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
    if let Some(value) = value {
        query = query.bind(value);
    }
    let (recipients, unreachable, opted_out) = query.fetch_one(&mut **tx).await?;
    Ok(AudienceCount {
        recipients,
        unreachable,
        opted_out,
    })
}

pub async fn recipients(tx: &mut Tx, audience: &Audience) -> Result<Vec<Recipient>, DbError> {
    let (filter, value) = audience_filter(audience);
    let sql = format!(
        "SELECT u.telegram_user_id, u.chat_id FROM participants p JOIN users u ON u.telegram_user_id = p.telegram_user_id
         WHERE {filter} AND u.unreachable_since IS NULL AND u.announcements = 1 ORDER BY u.telegram_user_id"
    );
    let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
    if let Some(value) = value {
        query = query.bind(value);
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

pub async fn set_announcements(tx: &mut Tx, user: i64, on: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET announcements = ? WHERE telegram_user_id = ?")
        .bind(on)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn announcements(tx: &mut Tx, user: i64) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar::<_, bool>("SELECT announcements FROM users WHERE telegram_user_id = ?")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or(true),
    )
}

/// Scheduled broadcasts, soonest first: id, when, and the coordinator who scheduled it (the console's overview).
pub async fn scheduled(pool: &SqlitePool) -> Result<Vec<(i64, DateTime<Utc>, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, send_at, coordinator FROM broadcasts WHERE status = 'scheduled' AND send_at IS NOT NULL
         ORDER BY send_at, id LIMIT 20",
    )
    .fetch_all(pool)
    .await?)
}
