//! Peer groups: which real Telegram group is linked to which content group, the prompts each has had, and
//! the join requests the bot decided. No group message texts are stored.
use super::{DbError, Tx};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupLink {
    pub group_id: String,
    pub chat_id: i64,
    pub invite_link: Option<String>,
    pub active: bool,
    pub paused: bool,
    pub last_slot: DateTime<Utc>,
    pub linked_at: DateTime<Utc>,
}

const LINK: &str =
    "SELECT group_id, chat_id, invite_link, active, paused, last_slot, linked_at FROM group_links";

pub async fn link_of_chat(tx: &mut Tx, chat: i64) -> Result<Option<GroupLink>, DbError> {
    Ok(sqlx::query_as(&format!("{LINK} WHERE chat_id = ?"))
        .bind(chat)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn link_of_group(tx: &mut Tx, group: &str) -> Result<Option<GroupLink>, DbError> {
    Ok(sqlx::query_as(&format!("{LINK} WHERE group_id = ?"))
        .bind(group)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Active links (the scheduler's prompts).
pub async fn active_links(pool: &SqlitePool) -> Result<Vec<GroupLink>, DbError> {
    Ok(
        sqlx::query_as(&format!("{LINK} WHERE active = 1 ORDER BY group_id"))
            .fetch_all(pool)
            .await?,
    )
}

/// Links (or re-links) a group to a chat: active, not paused, no schedule slot before `now` caught up.
/// A chat linked to another group before is unlinked from it.
pub async fn put_link(
    tx: &mut Tx,
    group: &str,
    chat: i64,
    invite_link: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM group_links WHERE chat_id = ? AND group_id != ?")
        .bind(chat)
        .bind(group)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO group_links (group_id, chat_id, invite_link, active, paused, last_slot, linked_at, updated_at)
         VALUES (?, ?, ?, 1, 0, ?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET chat_id = excluded.chat_id, invite_link = excluded.invite_link,
           active = 1, paused = 0, last_slot = excluded.last_slot, updated_at = excluded.updated_at",
    )
    .bind(group)
    .bind(chat)
    .bind(invite_link)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The bot was removed from the chat or lost a right it needs; returns the group it was linked to.
pub async fn deactivate_chat(
    tx: &mut Tx,
    chat: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE group_links SET active = 0, updated_at = ? WHERE chat_id = ? AND active = 1 RETURNING group_id",
    )
    .bind(now)
    .bind(chat)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn set_paused(
    tx: &mut Tx,
    group: &str,
    paused: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE group_links SET paused = ?, updated_at = ? WHERE group_id = ?")
        .bind(paused)
        .bind(now)
        .bind(group)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_last_slot(tx: &mut Tx, group: &str, slot: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("UPDATE group_links SET last_slot = ? WHERE group_id = ?")
        .bind(slot)
        .bind(group)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Prompt ids the group has had (posted or skipped).
pub async fn prompts_done(tx: &mut Tx, group: &str) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT prompt_id FROM group_prompts WHERE group_id = ?")
            .bind(group)
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// Records a prompt as posted or skipped; false if the group had it already.
pub async fn record_prompt(
    tx: &mut Tx,
    group: &str,
    prompt: &str,
    posted: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO group_prompts (group_id, prompt_id, outcome, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(group)
    .bind(prompt)
    .bind(if posted { "posted" } else { "skipped" })
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A queued prompt was withdrawn before it was sent (the bot left the group): the group may have it later.
pub async fn unrecord_prompt(tx: &mut Tx, group: &str, prompt: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM group_prompts WHERE group_id = ? AND prompt_id = ?")
        .bind(group)
        .bind(prompt)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn put_member(
    tx: &mut Tx,
    group: &str,
    user: i64,
    approved: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO group_members (group_id, telegram_user_id, status, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id, telegram_user_id) DO UPDATE SET status = excluded.status, at = excluded.at",
    )
    .bind(group)
    .bind(user)
    .bind(if approved { "approved" } else { "declined" })
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The groups a person was let into, with when (for /mydata).
pub async fn memberships(tx: &mut Tx, user: i64) -> Result<Vec<(String, DateTime<Utc>)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT group_id, at FROM group_members WHERE telegram_user_id = ? AND status = 'approved' ORDER BY at",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await?)
}
