//! The web console's sign-in links and browser sessions (migration 0011). Tokens and session ids arrive here
//! already hashed; nothing stored here opens a console by itself.
use super::{DbError, Tx};
use crate::domain::Lang;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

/// What became of a sign-in link that was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkUse {
    /// It was valid: it is used up now and names this coordinator.
    SignedIn { coordinator_id: i64 },
    /// No such link (mistyped, made up, or pruned long ago).
    Unknown,
    /// It was used before.
    Reused { coordinator_id: i64 },
    /// It ran out before it was opened.
    Expired { coordinator_id: i64 },
}

/// A browser session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    pub coordinator_id: i64,
    pub csrf: String,
    pub lang: Lang,
    pub last_seen_at: DateTime<Utc>,
}

/// Stores a new sign-in link (its token's hash).
pub async fn create_link(
    tx: &mut Tx,
    token_hash: &str,
    coordinator_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO console_links (token_hash, coordinator_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(coordinator_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Opens a link: a valid one is marked used (so it works once) and its coordinator returned.
pub async fn use_link(
    tx: &mut Tx,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<LinkUse, DbError> {
    let row: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT coordinator_id, expires_at, used_at FROM console_links WHERE token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((coordinator_id, expires_at, used_at)) = row else {
        return Ok(LinkUse::Unknown);
    };
    if used_at.is_some() {
        return Ok(LinkUse::Reused { coordinator_id });
    }
    if now >= expires_at {
        return Ok(LinkUse::Expired { coordinator_id });
    }
    sqlx::query("UPDATE console_links SET used_at = ? WHERE token_hash = ?")
        .bind(now)
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(LinkUse::SignedIn { coordinator_id })
}

/// Stores a new session (its id's hash).
pub async fn create_session(
    tx: &mut Tx,
    id_hash: &str,
    coordinator_id: i64,
    csrf: &str,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO console_sessions (id_hash, coordinator_id, csrf, lang, created_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id_hash)
    .bind(coordinator_id)
    .bind(csrf)
    .bind(lang.code())
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The session with this id hash, if there is one.
pub async fn session(pool: &SqlitePool, id_hash: &str) -> Result<Option<StoredSession>, DbError> {
    let row: Option<(i64, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT coordinator_id, csrf, lang, last_seen_at FROM console_sessions WHERE id_hash = ?",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(coordinator_id, csrf, lang, last_seen_at)| StoredSession {
            coordinator_id,
            csrf,
            lang: Lang::parse(&lang).unwrap_or(Lang::Fi),
            last_seen_at,
        }),
    )
}

/// Records that the session was used at `now`.
pub async fn touch_session(tx: &mut Tx, id_hash: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?")
        .bind(now)
        .bind(id_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the session's language.
pub async fn set_session_lang(tx: &mut Tx, id_hash: &str, lang: Lang) -> Result<(), DbError> {
    sqlx::query("UPDATE console_sessions SET lang = ? WHERE id_hash = ?")
        .bind(lang.code())
        .bind(id_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends a session; whether there was one.
pub async fn delete_session(tx: &mut Tx, id_hash: &str) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = ?")
        .bind(id_hash)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets sessions idle since before `idle_before` and links that ran out before `links_before`.
pub async fn prune(
    tx: &mut Tx,
    idle_before: DateTime<Utc>,
    links_before: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM console_sessions WHERE last_seen_at < ?")
        .bind(idle_before)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM console_links WHERE expires_at < ?")
        .bind(links_before)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
