//! One-to-one coaching: each father's weekly time and progress, and his private reflections.
use super::{DbError, Tx};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoachingStatus {
    Active,
    Paused,
    Stopped,
}

impl CoachingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoachingStatus::Active => "active",
            CoachingStatus::Paused => "paused",
            CoachingStatus::Stopped => "stopped",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(CoachingStatus::Active),
            "paused" => Some(CoachingStatus::Paused),
            "stopped" => Some(CoachingStatus::Stopped),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coaching {
    pub telegram_user_id: i64,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u32,
    pub minute_of_day: u32,
    pub status: CoachingStatus,
    /// Index of the next step of the path to send.
    pub next_step: usize,
    pub open_step: Option<String>,
    pub last_slot: DateTime<Utc>,
}

type Row = (i64, i64, i64, String, i64, Option<String>, DateTime<Utc>);

fn coaching(row: Row) -> Result<Coaching, DbError> {
    let (telegram_user_id, weekday, minute, status, next_step, open_step, last_slot) = row;
    Ok(Coaching {
        telegram_user_id,
        weekday: u32::try_from(weekday).unwrap_or(1),
        minute_of_day: u32::try_from(minute).unwrap_or(0),
        status: CoachingStatus::parse(&status)
            .ok_or_else(|| DbError::Corrupt(format!("coaching status '{status}'")))?,
        next_step: usize::try_from(next_step).unwrap_or(0),
        open_step,
        last_slot,
    })
}

const SELECT: &str = "SELECT telegram_user_id, weekday, minute_of_day, status, next_step, open_step, last_slot FROM coaching";

pub async fn get(tx: &mut Tx, user: i64) -> Result<Option<Coaching>, DbError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE telegram_user_id = ?"))
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(coaching).transpose()
}

/// Everyone whose coaching is active or paused (paused slots still pass by).
pub async fn running(pool: &SqlitePool) -> Result<Vec<Coaching>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE status != 'stopped' ORDER BY telegram_user_id"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(coaching).collect()
}

pub async fn put(tx: &mut Tx, c: &Coaching, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO coaching (telegram_user_id, weekday, minute_of_day, status, next_step, open_step, last_slot, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (telegram_user_id) DO UPDATE SET weekday = excluded.weekday,
           minute_of_day = excluded.minute_of_day, status = excluded.status, next_step = excluded.next_step,
           open_step = excluded.open_step, last_slot = excluded.last_slot, updated_at = excluded.updated_at",
    )
    .bind(c.telegram_user_id)
    .bind(i64::from(c.weekday))
    .bind(i64::from(c.minute_of_day))
    .bind(c.status.as_str())
    .bind(i64::try_from(c.next_step).unwrap_or(i64::MAX))
    .bind(&c.open_step)
    .bind(c.last_slot)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Reflection {
    pub id: i64,
    pub step_id: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

pub async fn add_reflection(
    tx: &mut Tx,
    user: i64,
    step: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO coaching_reflections (telegram_user_id, step_id, text, at) VALUES (?, ?, ?, ?)",
    )
    .bind(user)
    .bind(step)
    .bind(text)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One page of the user's own reflections, newest first.
pub async fn reflections(
    tx: &mut Tx,
    user: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Reflection>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, step_id, text, at FROM coaching_reflections WHERE telegram_user_id = ?
         ORDER BY id DESC LIMIT ? OFFSET ?",
    )
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut **tx)
    .await?)
}

pub async fn count_reflections(tx: &mut Tx, user: i64) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM coaching_reflections WHERE telegram_user_id = ?")
            .bind(user)
            .fetch_one(&mut **tx)
            .await?,
    )
}
