//! Enrolments, reminder preferences, attendance, session snapshots and scheduler marks.
use super::{DbError, Tx};
use crate::domain::Lang;
use crate::domain::enrolment::{Enrolment, EnrolmentStatus};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

type EnrolmentRow = (i64, String, String, Option<DateTime<Utc>>, DateTime<Utc>);

fn enrolment(row: EnrolmentRow) -> Result<Enrolment, DbError> {
    let (telegram_user_id, series_id, status, offered_until, queued_at) = row;
    let status = EnrolmentStatus::parse(&status)
        .ok_or_else(|| DbError::Corrupt(format!("enrolment status '{status}'")))?;
    Ok(Enrolment {
        telegram_user_id,
        series_id,
        status,
        offered_until,
        queued_at,
    })
}

const ENROLMENT: &str =
    "SELECT telegram_user_id, series_id, status, offered_until, queued_at FROM enrolments";

pub async fn enrolment_of(
    tx: &mut Tx,
    user: i64,
    series: &str,
) -> Result<Option<Enrolment>, DbError> {
    let row: Option<EnrolmentRow> = sqlx::query_as(&format!(
        "{ENROLMENT} WHERE telegram_user_id = ? AND series_id = ?"
    ))
    .bind(user)
    .bind(series)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(enrolment).transpose()
}

/// The user's enrolments that are not `left`, oldest first.
pub async fn active_enrolments(tx: &mut Tx, user: i64) -> Result<Vec<Enrolment>, DbError> {
    let rows: Vec<EnrolmentRow> = sqlx::query_as(&format!(
        "{ENROLMENT} WHERE telegram_user_id = ? AND status != 'left' ORDER BY queued_at"
    ))
    .bind(user)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(enrolment).collect()
}

pub async fn put_enrolment(tx: &mut Tx, e: &Enrolment, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO enrolments (telegram_user_id, series_id, status, offered_until, queued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (telegram_user_id, series_id) DO UPDATE SET status = excluded.status,
           offered_until = excluded.offered_until, queued_at = excluded.queued_at, updated_at = excluded.updated_at",
    )
    .bind(e.telegram_user_id)
    .bind(&e.series_id)
    .bind(e.status.as_str())
    .bind(e.offered_until)
    .bind(e.queued_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// People holding a place (enrolled or offered) in a series.
pub async fn places_taken(tx: &mut Tx, series: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM enrolments WHERE series_id = ? AND status IN ('enrolled', 'offered')",
    )
    .bind(series)
    .fetch_one(&mut **tx)
    .await?)
}

/// 1-based position on the series' waitlist.
pub async fn waitlist_position(tx: &mut Tx, user: i64, series: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM enrolments w, enrolments me
         WHERE me.telegram_user_id = ? AND me.series_id = ? AND w.series_id = me.series_id AND w.status = 'waitlisted'
           AND (w.queued_at < me.queued_at OR (w.queued_at = me.queued_at AND w.telegram_user_id <= me.telegram_user_id))",
    )
    .bind(user)
    .bind(series)
    .fetch_one(&mut **tx)
    .await?)
}

/// The first on the series' waitlist, passing over `except` (someone whose offer just ran out).
pub async fn first_waitlisted(
    tx: &mut Tx,
    series: &str,
    except: Option<i64>,
) -> Result<Option<Enrolment>, DbError> {
    let row: Option<EnrolmentRow> = sqlx::query_as(&format!(
        "{ENROLMENT} WHERE series_id = ? AND status = 'waitlisted' AND telegram_user_id IS NOT ?
         ORDER BY queued_at, telegram_user_id LIMIT 1"
    ))
    .bind(series)
    .bind(except)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(enrolment).transpose()
}

/// The first waiting for a place in the series who has never let an offer of it run out.
pub async fn first_waiting_never_lapsed(tx: &mut Tx, series: &str) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT telegram_user_id FROM enrolments
         WHERE series_id = ? AND status = 'waitlisted' AND offers_lapsed = 0
         ORDER BY queued_at, telegram_user_id LIMIT 1",
    )
    .bind(series)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Counts an offer that ran out (see `first_waiting_never_lapsed`).
pub async fn count_lapsed_offer(tx: &mut Tx, user: i64, series: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE enrolments SET offers_lapsed = offers_lapsed + 1
         WHERE telegram_user_id = ? AND series_id = ?",
    )
    .bind(user)
    .bind(series)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Offers whose time ran out before `now`, the longest lapsed first.
pub async fn expired_offers(tx: &mut Tx, now: DateTime<Utc>) -> Result<Vec<Enrolment>, DbError> {
    let rows: Vec<EnrolmentRow> = sqlx::query_as(&format!(
        "{ENROLMENT} WHERE status = 'offered' AND offered_until <= ?
         ORDER BY offered_until, telegram_user_id"
    ))
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(enrolment).collect()
}

/// The earliest time after `now` an offer runs out (the scheduler wakes then). Offers that ran out while
/// nobody else was waiting stand, and are left out.
pub async fn next_offer_expiry(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(offered_until) FROM enrolments WHERE status = 'offered' AND offered_until > ?",
    )
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Someone enrolled in a series, with what reminders need to reach them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub telegram_user_id: i64,
    pub chat_id: i64,
    pub language: Lang,
    pub name: String,
    pub reminders_enabled: bool,
    /// Offset ids chosen; None = all.
    pub reminder_offsets: Option<Vec<String>>,
    /// The address given at registration, if any (certificates go there too when email is on).
    pub email: Option<String>,
    /// They chose (in /reminders) to get session reminders by email as well.
    pub email_reminders: bool,
}

type MemberRow = (
    i64,
    i64,
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
    bool,
);

pub async fn members(pool: &SqlitePool, series: &str) -> Result<Vec<Member>, DbError> {
    let rows: Vec<MemberRow> = sqlx::query_as(
        "SELECT u.telegram_user_id, u.chat_id, u.language, p.name, u.reminders_enabled, u.reminder_offsets,
                NULLIF(TRIM(p.email), ''), u.email_reminders
         FROM enrolments e JOIN users u ON u.telegram_user_id = e.telegram_user_id
         JOIN participants p ON p.telegram_user_id = e.telegram_user_id
         WHERE e.series_id = ? AND e.status = 'enrolled' ORDER BY p.name, u.telegram_user_id",
    )
    .bind(series)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(
            |(
                telegram_user_id,
                chat_id,
                language,
                name,
                reminders_enabled,
                offsets,
                email,
                email_reminders,
            )| {
                Ok(Member {
                    email,
                    email_reminders,
                    telegram_user_id,
                    chat_id,
                    language: Lang::parse(&language)
                        .ok_or_else(|| DbError::Corrupt(format!("language '{language}'")))?,
                    name,
                    reminders_enabled,
                    reminder_offsets: offsets
                        .map(|o| serde_json::from_str(&o))
                        .transpose()
                        .map_err(|e| DbError::Corrupt(e.to_string()))?,
                })
            },
        )
        .collect()
}

pub async fn reminder_settings(
    tx: &mut Tx,
    user: i64,
) -> Result<(bool, Option<Vec<String>>), DbError> {
    let row: Option<(bool, Option<String>)> = sqlx::query_as(
        "SELECT reminders_enabled, reminder_offsets FROM users WHERE telegram_user_id = ?",
    )
    .bind(user)
    .fetch_optional(&mut **tx)
    .await?;
    let (enabled, offsets) = row.unwrap_or((true, None));
    let offsets = offsets
        .map(|o| serde_json::from_str(&o))
        .transpose()
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    Ok((enabled, offsets))
}

pub async fn set_reminder_settings(
    tx: &mut Tx,
    user: i64,
    enabled: bool,
    offsets: Option<&[String]>,
) -> Result<(), DbError> {
    let offsets = offsets.map(|o| serde_json::to_string(o).unwrap_or_default());
    sqlx::query(
        "UPDATE users SET reminders_enabled = ?, reminder_offsets = ? WHERE telegram_user_id = ?",
    )
    .bind(enabled)
    .bind(offsets)
    .bind(user)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the person gets session reminders by email too (`/reminders`).
pub async fn email_reminders(tx: &mut Tx, user: i64) -> Result<bool, DbError> {
    let on: Option<bool> =
        sqlx::query_scalar("SELECT email_reminders FROM users WHERE telegram_user_id = ?")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(on.unwrap_or(false))
}

pub async fn set_email_reminders(tx: &mut Tx, user: i64, on: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET email_reminders = ? WHERE telegram_user_id = ?")
        .bind(on)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn mark_attended(
    tx: &mut Tx,
    session: &str,
    user: i64,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO attendance (session_id, telegram_user_id, marked_at, marked_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(session)
    .bind(user)
    .bind(now)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unmark_attended(tx: &mut Tx, session: &str, user: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM attendance WHERE session_id = ? AND telegram_user_id = ?")
        .bind(session)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Session ids the user attended (among all sessions).
pub async fn attended_sessions(tx: &mut Tx, user: i64) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT session_id FROM attendance WHERE telegram_user_id = ? ORDER BY session_id",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await?)
}

/// Who attended a session.
pub async fn attendees(tx: &mut Tx, session: &str) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT telegram_user_id FROM attendance WHERE session_id = ? ORDER BY telegram_user_id",
    )
    .bind(session)
    .fetch_all(&mut **tx)
    .await?)
}

/// A session as participants were last told about it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Snapshot {
    pub session_id: String,
    pub series_id: String,
    /// JSON `{fi, en}`.
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online: bool,
    pub link: Option<String>,
}

pub async fn snapshots(tx: &mut Tx) -> Result<Vec<Snapshot>, DbError> {
    Ok(sqlx::query_as(
        "SELECT session_id, series_id, title, starts_at, ends_at, place, online, link FROM session_snapshots ORDER BY starts_at",
    )
    .fetch_all(&mut **tx)
    .await?)
}

pub async fn put_snapshot(tx: &mut Tx, s: &Snapshot) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO session_snapshots (session_id, series_id, title, starts_at, ends_at, place, online, link)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET series_id = excluded.series_id, title = excluded.title, starts_at = excluded.starts_at,
           ends_at = excluded.ends_at, place = excluded.place, online = excluded.online, link = excluded.link",
    )
    .bind(&s.session_id)
    .bind(&s.series_id)
    .bind(&s.title)
    .bind(s.starts_at)
    .bind(s.ends_at)
    .bind(&s.place)
    .bind(s.online)
    .bind(&s.link)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_snapshot(tx: &mut Tx, session: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM session_snapshots WHERE session_id = ?")
        .bind(session)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn is_marked(tx: &mut Tx, key: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM scheduler_marks WHERE key = ?")
            .bind(key)
            .fetch_one(&mut **tx)
            .await?
            > 0,
    )
}

pub async fn mark(tx: &mut Tx, key: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("INSERT INTO scheduler_marks (key, done_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(key)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One line of a session's attendance list: every enrolled person and whether they were there.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AttendanceRow {
    pub telegram_user_id: i64,
    pub name: String,
    pub organisation: Option<String>,
    pub marked_at: Option<DateTime<Utc>>,
    pub marked_by: Option<i64>,
}

pub async fn attendance_list(
    tx: &mut Tx,
    series: &str,
    session: &str,
) -> Result<Vec<AttendanceRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.telegram_user_id, p.name, p.organisation, a.marked_at, a.marked_by
         FROM enrolments e JOIN participants p ON p.telegram_user_id = e.telegram_user_id
         LEFT JOIN attendance a ON a.telegram_user_id = e.telegram_user_id AND a.session_id = ?
         WHERE e.series_id = ? AND (e.status = 'enrolled' OR a.marked_at IS NOT NULL)
         ORDER BY p.name, p.telegram_user_id",
    )
    .bind(session)
    .bind(series)
    .fetch_all(&mut **tx)
    .await?)
}

/// Chat and language of everyone enrolled in a series (for notices).
pub async fn enrolled_recipients(
    tx: &mut Tx,
    series: &str,
) -> Result<Vec<(i64, i64, Lang)>, DbError> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT u.telegram_user_id, u.chat_id, u.language FROM enrolments e
         JOIN users u ON u.telegram_user_id = e.telegram_user_id
         WHERE e.series_id = ? AND e.status = 'enrolled' ORDER BY u.telegram_user_id",
    )
    .bind(series)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(user, chat, lang)| {
            let lang =
                Lang::parse(&lang).ok_or_else(|| DbError::Corrupt(format!("language '{lang}'")))?;
            Ok((user, chat, lang))
        })
        .collect()
}

/// Chat and language of one user, if they have written to the bot.
pub async fn recipient(tx: &mut Tx, user: i64) -> Result<Option<(i64, Lang)>, DbError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT chat_id, language FROM users WHERE telegram_user_id = ?")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(chat, lang)| {
        Ok((
            chat,
            Lang::parse(&lang).ok_or_else(|| DbError::Corrupt(format!("language '{lang}'")))?,
        ))
    })
    .transpose()
}
