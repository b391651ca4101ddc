use super::dialogues::{self, DialogueState};
use super::{DbError, Tx};
use crate::domain::{Lang, UserInfo};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// `touch` and reading the person's dialogue in one statement: every update needs both, and each statement
/// is a round trip to SQLite's thread (about 0.15 ms here) while this process's write turn is held. The
/// dialogue is its own `Result` so that an unreadable one can be restarted while the user is still recorded.
pub async fn touch_reading_dialogue(
    tx: &mut Tx,
    telegram_user_id: i64,
    chat_id: i64,
    language: Lang,
    now: DateTime<Utc>,
) -> Result<(UserInfo, Result<Option<DialogueState>, DbError>), DbError> {
    let row = sqlx::query(
        "INSERT INTO users (telegram_user_id, chat_id, language, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (telegram_user_id) DO UPDATE SET chat_id = excluded.chat_id, last_seen = excluded.last_seen,
           unreachable_since = NULL
         RETURNING language,
           (SELECT flow FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT step FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT answers FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT content_version FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT updated_at FROM dialogues WHERE telegram_user_id = ?1)",
    )
    .bind(telegram_user_id)
    .bind(chat_id)
    .bind(language.code())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let lang: String = row.try_get(0)?;
    let language =
        Lang::parse(&lang).ok_or_else(|| DbError::Corrupt(format!("language '{lang}'")))?;
    let user = UserInfo {
        telegram_user_id,
        chat_id,
        language,
    };
    Ok((user, stored_dialogue(&row)))
}

/// A person's record and dialogue as `touch_reading_dialogue` gives them, without touching them (the console
/// reads someone else's); None if the bot has no record of them.
pub async fn reading_dialogue(
    tx: &mut Tx,
    telegram_user_id: i64,
) -> Result<Option<(UserInfo, Result<Option<DialogueState>, DbError>)>, DbError> {
    let row = sqlx::query(
        "SELECT language,
           (SELECT flow FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT step FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT answers FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT content_version FROM dialogues WHERE telegram_user_id = ?1),
           (SELECT updated_at FROM dialogues WHERE telegram_user_id = ?1),
           chat_id
         FROM users WHERE telegram_user_id = ?1",
    )
    .bind(telegram_user_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let lang: String = row.try_get(0)?;
    let language =
        Lang::parse(&lang).ok_or_else(|| DbError::Corrupt(format!("language '{lang}'")))?;
    let user = UserInfo {
        telegram_user_id,
        chat_id: row.try_get(6)?,
        language,
    };
    Ok(Some((user, stored_dialogue(&row))))
}

/// The dialogue columns of `touch_reading_dialogue`'s row. Each is decoded on its own, so a value of the
/// wrong type or form (a hand edit, an old deploy) makes the dialogue unreadable — restarted by the caller —
/// instead of failing the whole input.
fn stored_dialogue(row: &SqliteRow) -> Result<Option<DialogueState>, DbError> {
    let unreadable = |e: sqlx::Error| DbError::Corrupt(format!("dialogue: {e}"));
    let flow: Option<String> = row.try_get(1).map_err(unreadable)?;
    let step: Option<String> = row.try_get(2).map_err(unreadable)?;
    let answers: Option<String> = row.try_get(3).map_err(unreadable)?;
    let version: Option<String> = row.try_get(4).map_err(unreadable)?;
    let updated_at: Option<DateTime<Utc>> = row.try_get(5).map_err(unreadable)?;
    match (flow, step, answers, version, updated_at) {
        (Some(flow), Some(step), Some(answers), Some(version), Some(updated_at)) => {
            dialogues::parse((flow, step, answers, version, updated_at)).map(Some)
        }
        _ => Ok(None),
    }
}

/// Records that a user wrote (creating them with `language` on first contact) and returns their record.
/// Someone who writes is reachable again, even if they had blocked the bot before.
pub async fn touch(
    tx: &mut Tx,
    telegram_user_id: i64,
    chat_id: i64,
    language: Lang,
    now: DateTime<Utc>,
) -> Result<UserInfo, DbError> {
    let (user, _) = touch_reading_dialogue(tx, telegram_user_id, chat_id, language, now).await?;
    Ok(user)
}

pub async fn set_language(
    tx: &mut Tx,
    telegram_user_id: i64,
    language: Lang,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET language = ? WHERE telegram_user_id = ?")
        .bind(language.code())
        .bind(telegram_user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// First and last contact, for `/mydata`.
pub async fn seen(
    tx: &mut Tx,
    telegram_user_id: i64,
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>, DbError> {
    Ok(
        sqlx::query_as("SELECT first_seen, last_seen FROM users WHERE telegram_user_id = ?")
            .bind(telegram_user_id)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// Telegram said the user blocked the bot or is gone (kept from the first time until they write again).
pub async fn mark_unreachable(
    tx: &mut Tx,
    telegram_user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET unreachable_since = COALESCE(unreachable_since, ?) WHERE telegram_user_id = ?",
    )
    .bind(now)
    .bind(telegram_user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The language a person chose, if they have written before (a read outside any write turn).
pub async fn language(
    pool: &sqlx::SqlitePool,
    telegram_user_id: i64,
) -> Result<Option<Lang>, DbError> {
    let lang: Option<String> =
        sqlx::query_scalar("SELECT language FROM users WHERE telegram_user_id = ?")
            .bind(telegram_user_id)
            .fetch_optional(pool)
            .await?;
    Ok(lang.and_then(|l| Lang::parse(&l)))
}
