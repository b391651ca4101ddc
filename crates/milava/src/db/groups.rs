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

/// Seeds each group's facilitators from the shipped file, once per group (`group_facilitators_seeded`): a group
/// seeded before keeps what coordinators chose since. `groups`: (group id, facilitator ids). Returns how many
/// groups were seeded now.
pub async fn seed_facilitators(
    pool: &super::Db,
    groups: &[(String, Vec<i64>)],
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let mut tx = super::begin_write(pool).await?;
    let mut seeded = 0;
    for (group, ids) in groups {
        let new = sqlx::query(
            "INSERT OR IGNORE INTO group_facilitators_seeded (group_id, seeded_at) VALUES (?, ?)",
        )
        .bind(group)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !new {
            continue;
        }
        seeded += 1;
        for id in ids {
            add_facilitator(&mut tx, group, *id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(seeded)
}

/// Adds a facilitator; false when they already were one.
pub async fn add_facilitator(
    tx: &mut Tx,
    group: &str,
    user: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "INSERT OR IGNORE INTO group_facilitators (group_id, telegram_user_id, added_at) VALUES (?, ?, ?)",
    )
    .bind(group)
    .bind(user)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Removes a facilitator; false when they were not one.
pub async fn remove_facilitator(tx: &mut Tx, group: &str, user: i64) -> Result<bool, DbError> {
    Ok(
        sqlx::query("DELETE FROM group_facilitators WHERE group_id = ? AND telegram_user_id = ?")
            .bind(group)
            .bind(user)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}

pub async fn is_facilitator(tx: &mut Tx, group: &str, user: i64) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM group_facilitators WHERE group_id = ? AND telegram_user_id = ?",
    )
    .bind(group)
    .bind(user)
    .fetch_one(&mut **tx)
    .await?
        > 0)
}

/// Every group's facilitators: (group id, user id), by group.
pub async fn facilitators(pool: &SqlitePool) -> Result<Vec<(String, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT group_id, telegram_user_id FROM group_facilitators ORDER BY group_id, added_at, telegram_user_id",
    )
    .fetch_all(pool)
    .await?)
}

/// Every group's link, linked or not (the console lists them all).
pub async fn links(pool: &SqlitePool) -> Result<Vec<GroupLink>, DbError> {
    Ok(sqlx::query_as(&format!("{LINK} ORDER BY group_id"))
        .fetch_all(pool)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped file seeds a group once; what coordinators changed since stays when a release ships the
    /// older list again, and a group new in the file is seeded.
    #[tokio::test]
    async fn the_file_seeds_each_group_once_and_never_overwrites_coordinators_choices() {
        let (pool, _dir) = super::super::temp_pool().await;
        let now = Utc::now();
        let shipped = vec![("oulu".to_string(), vec![5])];
        assert_eq!(seed_facilitators(&pool, &shipped, now).await.unwrap(), 1);
        assert_eq!(facilitators(&pool).await.unwrap(), vec![("oulu".into(), 5)]);
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        assert!(remove_facilitator(&mut tx, "oulu", 5).await.unwrap());
        assert!(add_facilitator(&mut tx, "oulu", 6, now).await.unwrap());
        tx.commit().await.unwrap();
        let next_release = vec![
            ("oulu".to_string(), vec![5]),
            ("kajaani".to_string(), vec![7]),
        ];
        assert_eq!(
            seed_facilitators(&pool, &next_release, now).await.unwrap(),
            1
        );
        assert_eq!(
            facilitators(&pool).await.unwrap(),
            vec![("kajaani".into(), 7), ("oulu".into(), 6)]
        );
    }
}
