//! The outbox table `deliveries`: producers enqueue rows inside their own transaction; the delivery worker
//! claims due rows one at a time and records each outcome.
use super::{Db, DbError, Tx, users};
use crate::domain::outbox::{Channel, KeyPrefix, OutboxKey, Payload, Status};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

/// A message to put in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// Names the message so that planning it again stores nothing new.
    pub idempotency_key: OutboxKey,
    pub chat_id: i64,
    /// The person, for a private chat: marked unreachable when they block the bot; erased by `/forget`.
    pub telegram_user_id: Option<i64>,
    pub payload: Payload,
    pub due_at: DateTime<Utc>,
    /// Not sent after this: a row still waiting then is cancelled by the worker.
    pub expires_at: Option<DateTime<Utc>>,
    /// Rows that belong together (e.g. one broadcast), for progress and cancelling.
    pub batch: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl NewDelivery {
    /// A message to `chat_id`, due at once (`now`).
    pub fn new(
        idempotency_key: OutboxKey,
        chat_id: i64,
        payload: Payload,
        now: DateTime<Utc>,
    ) -> Self {
        NewDelivery {
            idempotency_key,
            chat_id,
            telegram_user_id: None,
            payload,
            due_at: now,
            expires_at: None,
            batch: None,
            created_at: now,
        }
    }

    /// The message is for this person (their private chat, or about them).
    pub fn for_user(mut self, telegram_user_id: i64) -> Self {
        self.telegram_user_id = Some(telegram_user_id);
        self
    }

    pub fn due_at(mut self, due_at: DateTime<Utc>) -> Self {
        self.due_at = due_at;
        self
    }

    pub fn expires_at(mut self, expires_at: DateTime<Utc>) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    pub fn in_batch(mut self, batch: impl Into<String>) -> Self {
        self.batch = Some(batch.into());
        self
    }
}

/// A stored delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub idempotency_key: String,
    pub chat_id: i64,
    pub telegram_user_id: Option<i64>,
    pub payload: Payload,
    pub due_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub telegram_message_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub batch: Option<String>,
}

const COLUMNS: &str =
    "id, idempotency_key, chat_id, telegram_user_id, payload, document, due_at, expires_at,
    status, attempts, last_error, telegram_message_id, created_at, sent_at, batch";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    idempotency_key: String,
    chat_id: i64,
    telegram_user_id: Option<i64>,
    payload: String,
    document: Option<Vec<u8>>,
    due_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    telegram_message_id: Option<i64>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    batch: Option<String>,
}

impl TryFrom<Row> for Delivery {
    type Error = DbError;
    fn try_from(r: Row) -> Result<Self, DbError> {
        let payload = Payload::from_stored(&r.payload, r.document)
            .map_err(|e| DbError::Corrupt(format!("delivery {} payload: {e}", r.id)))?;
        let status = Status::parse(&r.status)
            .ok_or_else(|| DbError::Corrupt(format!("delivery status '{}'", r.status)))?;
        Ok(Delivery {
            id: r.id,
            idempotency_key: r.idempotency_key,
            chat_id: r.chat_id,
            telegram_user_id: r.telegram_user_id,
            payload,
            due_at: r.due_at,
            expires_at: r.expires_at,
            status,
            attempts: r.attempts,
            last_error: r.last_error,
            telegram_message_id: r.telegram_message_id,
            created_at: r.created_at,
            sent_at: r.sent_at,
            batch: r.batch,
        })
    }
}

/// Adds a message to the outbox unless one with the same idempotency key exists; returns whether it was added.
/// Call it inside the transaction that decides to send, and wake the worker (`Doorbell::wake`) after
/// the commit.
pub async fn enqueue(tx: &mut Tx, d: &NewDelivery) -> Result<bool, DbError> {
    insert(
        tx,
        d,
        "INSERT INTO deliveries (idempotency_key, chat_id, telegram_user_id, payload, document, due_at, expires_at,
           status, attempts, created_at, batch, channel) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .await
}

/// Puts the latest state of a coalesced message (a progress message's edit) under its key: a new row, or the
/// one already there given the new payload and due time, waiting again (one in flight stays `sending` and is
/// put back to wait when it is answered, see `mark_sent`). A payload equal to the stored one writes nothing:
/// the message already shows it or is about to; nor does anything for a chat found unreachable (`skipped`).
/// Returns whether anything was written.
pub async fn put_latest(tx: &mut Tx, d: &NewDelivery) -> Result<bool, DbError> {
    insert(
        tx,
        d,
        "INSERT INTO deliveries (idempotency_key, chat_id, telegram_user_id, payload, document, due_at, expires_at,
           status, attempts, created_at, batch, channel) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
         ON CONFLICT (idempotency_key) DO UPDATE SET
           chat_id = excluded.chat_id, payload = excluded.payload, document = excluded.document,
           due_at = excluded.due_at, expires_at = excluded.expires_at, attempts = 0, last_error = NULL,
           status = CASE WHEN deliveries.status = 'sending' THEN 'sending' ELSE 'pending' END
         WHERE deliveries.payload IS NOT excluded.payload AND deliveries.status != 'skipped'",
    )
    .await
}

/// Inserts `d` with `statement` (`enqueue` and `put_latest` differ only in what an existing key does);
/// whether a row was written.
async fn insert(tx: &mut Tx, d: &NewDelivery, statement: &'static str) -> Result<bool, DbError> {
    let payload = d
        .payload
        .to_json()
        .map_err(|e| DbError::Corrupt(format!("delivery payload: {e}")))?;
    let done = sqlx::query(statement)
        .bind(d.idempotency_key.encode())
        .bind(d.chat_id)
        .bind(d.telegram_user_id)
        .bind(payload)
        .bind(d.payload.document_bytes())
        .bind(d.due_at)
        .bind(d.expires_at)
        .bind(d.created_at)
        .bind(&d.batch)
        .bind(d.payload.channel().as_str())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims the next due Telegram row (`due_at <= now`, oldest first) whose chat is not in `held_chats`, marking it
/// `sending`. A row past its `expires_at` is cancelled instead, and one whose payload no longer parses is
/// marked `failed`; then the next one is claimed.
pub async fn claim_next(
    db: &Db,
    now: DateTime<Utc>,
    held_chats: &[i64],
) -> Result<Option<Delivery>, DbError> {
    claim(db, now, held_chats, Channel::Telegram).await
}

/// Claims the next due email row (the worker's email lane), like `claim_next`.
pub async fn claim_next_email(db: &Db, now: DateTime<Utc>) -> Result<Option<Delivery>, DbError> {
    claim(db, now, &[], Channel::Email).await
}

async fn claim(
    db: &Db,
    now: DateTime<Utc>,
    held_chats: &[i64],
    channel: Channel,
) -> Result<Option<Delivery>, DbError> {
    let held = serde_json::to_string(held_chats).map_err(|e| DbError::Corrupt(e.to_string()))?;
    loop {
        let turn = db.turn().await?;
        let row: Option<Row> = sqlx::query_as(&format!(
            "UPDATE deliveries SET status = 'sending'
             WHERE id = (SELECT id FROM deliveries WHERE channel = ? AND status = 'pending' AND due_at <= ?
                           AND chat_id NOT IN (SELECT value FROM json_each(?))
                         ORDER BY due_at, id LIMIT 1)
             RETURNING {COLUMNS}"
        ))
        .bind(channel.as_str())
        .bind(now)
        .bind(&held)
        .fetch_optional(db.writer())
        .await?;
        drop(turn);
        let Some(row) = row else {
            return Ok(None);
        };
        let id = row.id;
        if let Some(expired) = row.expires_at.filter(|at| *at <= now) {
            log::info!(
                "delivery {id} ({}) expired at {expired} before it could be sent; cancelled",
                row.idempotency_key
            );
            let _turn = db.turn().await?;
            sqlx::query("UPDATE deliveries SET status = 'cancelled', last_error = ? WHERE id = ?")
                .bind(format!("expired at {expired} before it could be sent"))
                .bind(id)
                .execute(db.writer())
                .await?;
            continue;
        }
        match Delivery::try_from(row) {
            Ok(delivery) => return Ok(Some(delivery)),
            Err(e) => {
                log::error!("delivery {id}: {e}; marked failed");
                mark_failed(db, id, &e.to_string(), None).await?;
            }
        }
    }
}

/// Records that `delivery` went out as Telegram's message `telegram_message_id`. An edit (a coalesced row)
/// given a new payload while it was in flight (`put_latest`) waits again instead, to send that; edits are
/// only ever written by this version, so their JSON compares exactly.
pub async fn mark_sent(
    db: &Db,
    delivery: &Delivery,
    telegram_message_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sent = match &delivery.payload {
        Payload::Telegram(crate::domain::Reply::Edit { .. }) => Some(
            delivery
                .payload
                .to_json()
                .map_err(|e| DbError::Corrupt(format!("delivery payload: {e}")))?,
        ),
        _ => None,
    };
    let _turn = db.turn().await?;
    sqlx::query(
        "UPDATE deliveries SET status = CASE WHEN ?1 IS NULL OR payload = ?1 THEN 'sent' ELSE 'pending' END,
           telegram_message_id = ?2, sent_at = ?3, last_error = NULL
         WHERE id = ?4",
    )
    .bind(sent)
    .bind(telegram_message_id)
    .bind(now)
    .bind(delivery.id)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// An email row was accepted by the mail server.
pub async fn mark_email_sent(db: &Db, id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    let _turn = db.turn().await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
    )
    .bind(now)
    .bind(id)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Gives a row up; `attempts` replaces the stored count when given.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    reason: &str,
    attempts: Option<i64>,
) -> Result<(), DbError> {
    let _turn = db.turn().await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', last_error = ?, attempts = COALESCE(?, attempts) WHERE id = ?",
    )
    .bind(reason)
    .bind(attempts)
    .bind(id)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Puts a row back to wait until `due_at` after a transient error.
pub async fn retry_at(
    db: &Db,
    id: i64,
    due_at: DateTime<Utc>,
    attempts: i64,
    reason: &str,
) -> Result<(), DbError> {
    let _turn = db.turn().await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', due_at = ?, attempts = ?, last_error = ? WHERE id = ?",
    )
    .bind(due_at)
    .bind(attempts)
    .bind(reason)
    .bind(id)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Puts a claimed row back as it was (a flood wait, or a shutdown before its request finished).
pub async fn release(db: &Db, id: i64) -> Result<(), DbError> {
    let _turn = db.turn().await?;
    sqlx::query("UPDATE deliveries SET status = 'pending' WHERE id = ? AND status = 'sending'")
        .bind(id)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Crash recovery: rows left `sending` were in flight when the process stopped; they become `pending` again
/// (and are sent again). Returns how many.
pub async fn release_all_sending(db: &Db) -> Result<u64, DbError> {
    let _turn = db.turn().await?;
    let done = sqlx::query("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

/// The recipient blocked the bot or is gone: this row and every other pending Telegram row to the same chat
/// become `skipped` (their emails still go), and the person is marked unreachable. Returns how many other rows were skipped.
pub async fn skip_unreachable(
    db: &Db,
    delivery: &Delivery,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let mut tx = db.write().await?;
    sqlx::query("UPDATE deliveries SET status = 'skipped', last_error = ? WHERE id = ?")
        .bind(reason)
        .bind(delivery.id)
        .execute(&mut *tx)
        .await?;
    let others = sqlx::query(
        "UPDATE deliveries SET status = 'skipped', last_error = ?
         WHERE chat_id = ? AND status = 'pending' AND channel = 'telegram'",
    )
    .bind(reason)
    .bind(delivery.chat_id)
    .execute(&mut *tx)
    .await?;
    // A private chat's id is its person's id.
    let person = delivery
        .telegram_user_id
        .or((delivery.chat_id > 0).then_some(delivery.chat_id));
    if let Some(person) = person {
        users::mark_unreachable(&mut tx, person, now).await?;
    }
    // A peer group the bot was removed from while it was not listening (no my_chat_member seen): its
    // prompts stop too.
    if delivery.chat_id < 0 {
        sqlx::query(
            "UPDATE group_links SET active = 0, updated_at = ? WHERE chat_id = ? AND active = 1",
        )
        .bind(now)
        .bind(delivery.chat_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(others.rows_affected())
}

/// A group became a supergroup: this row (with its new try count) and the chat's other pending rows go to
/// the new chat id, and a peer group linked to the chat follows.
pub async fn move_chat(
    db: &Db,
    id: i64,
    from_chat: i64,
    to_chat: i64,
    attempts: i64,
) -> Result<(), DbError> {
    let mut tx = db.write().await?;
    sqlx::query("UPDATE deliveries SET chat_id = ?, status = 'pending', attempts = ? WHERE id = ?")
        .bind(to_chat)
        .bind(attempts)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE deliveries SET chat_id = ? WHERE chat_id = ? AND status = 'pending' AND channel = 'telegram'",
    )
        .bind(to_chat)
        .bind(from_chat)
        .execute(&mut *tx)
        .await?;
    // A linked peer group lives on under its new id: its later prompts and join requests come from there.
    sqlx::query("UPDATE group_links SET chat_id = ? WHERE chat_id = ?")
        .bind(to_chat)
        .bind(from_chat)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The earliest due time of a pending row due after `now` (the worker sleeps until then).
pub async fn next_due_after(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(due_at) FROM deliveries WHERE status = 'pending' AND due_at > ?",
    )
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Which of `chats` have a pending row due at `now`.
pub async fn chats_with_due_rows(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    chats: &[i64],
) -> Result<Vec<i64>, DbError> {
    if chats.is_empty() {
        return Ok(Vec::new());
    }
    let chats = serde_json::to_string(chats).map_err(|e| DbError::Corrupt(e.to_string()))?;
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT chat_id FROM deliveries WHERE status = 'pending' AND due_at <= ? AND channel = 'telegram'
           AND chat_id IN (SELECT value FROM json_each(?))",
    )
    .bind(now)
    .bind(chats)
    .fetch_all(pool)
    .await?)
}

/// How far one batch has got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchProgress {
    pub sent: i64,
    /// Skipped because the recipient blocked the bot or is gone.
    pub blocked: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Pending or being sent.
    pub remaining: i64,
}

impl BatchProgress {
    pub fn total(&self) -> i64 {
        self.sent + self.blocked + self.failed + self.cancelled + self.remaining
    }
}

pub async fn batch_progress(pool: &SqlitePool, batch: &str) -> Result<BatchProgress, DbError> {
    batch_progress_on(&mut *pool.acquire().await?, batch).await
}

/// `batch_progress` on the caller's connection (inside a transaction: with its own writes).
pub async fn batch_progress_on(
    conn: &mut sqlx::SqliteConnection,
    batch: &str,
) -> Result<BatchProgress, DbError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM deliveries WHERE batch = ? GROUP BY status")
            .bind(batch)
            .fetch_all(conn)
            .await?;
    let mut progress = BatchProgress::default();
    for (status, count) in rows {
        match Status::parse(&status) {
            Some(Status::Sent) => progress.sent += count,
            Some(Status::Skipped) => progress.blocked += count,
            Some(Status::Failed) => progress.failed += count,
            Some(Status::Cancelled) => progress.cancelled += count,
            Some(Status::Pending | Status::Sending) => progress.remaining += count,
            None => return Err(DbError::Corrupt(format!("delivery status '{status}'"))),
        }
    }
    Ok(progress)
}

/// Withdraws a batch's rows that are still waiting; returns how many. A row already being sent is not stopped.
pub async fn cancel_batch(tx: &mut Tx, batch: &str) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'cancelled' WHERE batch = ? AND status = 'pending'",
    )
    .bind(batch)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Withdraws one waiting row (it stays, `cancelled`, with the reason); returns whether it was still waiting.
pub async fn cancel(tx: &mut Tx, id: i64, reason: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'cancelled', last_error = ? WHERE id = ? AND status = 'pending'",
    )
    .bind(reason)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Waiting rows whose idempotency key is in the set `prefix`, as (id, stored key), oldest first.
pub async fn pending_with_prefix(
    tx: &mut Tx,
    prefix: &KeyPrefix,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, idempotency_key FROM deliveries
         WHERE status = 'pending' AND substr(idempotency_key, 1, length(?1)) = ?1 ORDER BY id",
    )
    .bind(prefix.encode())
    .fetch_all(&mut **tx)
    .await?)
}

/// The id of the waiting row with exactly this key, if there is one.
pub async fn pending_by_key(tx: &mut Tx, key: &OutboxKey) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM deliveries WHERE status = 'pending' AND idempotency_key = ?",
    )
    .bind(key.encode())
    .fetch_optional(&mut **tx)
    .await?)
}

/// Marks every pending row due by `now` as sent, without sending anything: `bench plan` stands in for the
/// delivery worker with this between scheduler passes. Returns how many.
pub async fn pretend_due_sent(db: &Db, now: DateTime<Utc>) -> Result<u64, DbError> {
    let _turn = db.turn().await?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'sent', sent_at = ?1 WHERE status = 'pending' AND due_at <= ?1",
    )
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected())
}

/// Stored keys and statuses of all rows whose idempotency key is in the set `prefix`. A prefix ending in an
/// ASCII character other than DEL is looked up as a range of the keys' unique index.
pub async fn statuses_with_prefix(
    tx: &mut Tx,
    prefix: &KeyPrefix,
) -> Result<Vec<(String, Status)>, DbError> {
    let prefix = prefix.encode();
    let prefix = prefix.as_str();
    let upper = prefix
        .char_indices()
        .last()
        .filter(|(_, c)| c.is_ascii() && *c != '\x7f')
        .map(|(i, c)| format!("{}{}", &prefix[..i], char::from(c as u8 + 1)));
    let query = match &upper {
        Some(upper) => sqlx::query_as(
            "SELECT idempotency_key, status FROM deliveries WHERE idempotency_key >= ? AND idempotency_key < ?",
        )
        .bind(prefix)
        .bind(upper),
        None => sqlx::query_as(
            "SELECT idempotency_key, status FROM deliveries WHERE substr(idempotency_key, 1, length(?1)) = ?1",
        )
        .bind(prefix),
    };
    let rows: Vec<(String, String)> = query.fetch_all(&mut **tx).await?;
    rows.into_iter()
        .map(|(key, status)| {
            let status = Status::parse(&status)
                .ok_or_else(|| DbError::Corrupt(format!("delivery status '{status}'")))?;
            Ok((key, status))
        })
        .collect()
}

/// Puts a withdrawn row (`cancelled`, so never sent) back to wait under its key, with the payload, chat and
/// times of `d`: something withdrawn and then wanted again (reminders turned off and on, a session moved and
/// moved back). Returns whether a row was revived.
pub async fn revive(tx: &mut Tx, d: &NewDelivery) -> Result<bool, DbError> {
    let payload = d
        .payload
        .to_json()
        .map_err(|e| DbError::Corrupt(format!("delivery payload: {e}")))?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'pending', chat_id = ?, telegram_user_id = ?, payload = ?, document = ?,
           due_at = ?, expires_at = ?, attempts = 0, last_error = NULL, batch = ?, channel = ?
         WHERE idempotency_key = ? AND status = 'cancelled'",
    )
    .bind(d.chat_id)
    .bind(d.telegram_user_id)
    .bind(payload)
    .bind(d.payload.document_bytes())
    .bind(d.due_at)
    .bind(d.expires_at)
    .bind(&d.batch)
    .bind(d.payload.channel().as_str())
    .bind(d.idempotency_key.encode())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes finished rows (sent, failed, skipped, cancelled) older than `before` (by when they were sent, or
/// else when they were due). Their idempotency keys go with them. Returns how many.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, DbError> {
    let mut pruned = 0;
    // At most a thousand rows per turn (a month of a large programme's rows at once held replies up for
    // 0.2 s), fewer when a turn takes longer than `BACKGROUND_SLICE`: the next takes as many as fit in it.
    let mut limit: i64 = 1000;
    loop {
        let turn = db.turn().await?;
        let began = std::time::Instant::now();
        let done = sqlx::query(
            "DELETE FROM deliveries WHERE id IN (
                 SELECT id FROM deliveries WHERE status IN ('sent', 'failed', 'skipped', 'cancelled')
                    AND COALESCE(sent_at, due_at) < ? LIMIT ?)",
        )
        .bind(before)
        .bind(limit)
        .execute(db.writer())
        .await?;
        drop(turn);
        let took = began.elapsed();
        pruned += done.rows_affected();
        if done.rows_affected() < limit as u64 {
            return Ok(pruned);
        }
        let fit =
            limit as f64 * super::BACKGROUND_SLICE.as_secs_f64() / took.as_secs_f64().max(1e-6);
        limit = (fit as i64).clamp(50, 1000);
        tokio::task::yield_now().await;
    }
}

/// The idempotency keys that start with `prefix`, which must end in ':' (through the key's index).
pub async fn keys_under(pool: &SqlitePool, prefix: &str) -> Result<Vec<String>, DbError> {
    let upper = format!("{};", prefix.trim_end_matches(':'));
    Ok(sqlx::query_scalar(
        "SELECT idempotency_key FROM deliveries WHERE idempotency_key >= ? AND idempotency_key < ?",
    )
    .bind(prefix)
    .bind(upper)
    .fetch_all(pool)
    .await?)
}

/// One delivery by its idempotency key.
pub async fn by_key(pool: &SqlitePool, key: &OutboxKey) -> Result<Option<Delivery>, DbError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM deliveries WHERE idempotency_key = ?"
    ))
    .bind(key.encode())
    .fetch_optional(pool)
    .await?;
    row.map(Delivery::try_from).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use super::super::temp_pool as pool;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 12, 7, 0, 0).unwrap()
    }

    /// A key with any name (a coaching step's), for rows whose kind does not matter here.
    fn named(name: &str) -> OutboxKey {
        OutboxKey::Coaching {
            user: 0,
            step: name.into(),
        }
    }

    fn session(series: &str, session: &str, user: i64) -> OutboxKey {
        OutboxKey::Session {
            series: series.into(),
            session: session.into(),
            start: 5,
            user,
            item: crate::domain::outbox::SessionItem::CheckIn,
        }
    }

    fn new(key: OutboxKey, chat: i64) -> NewDelivery {
        let text = key.encode();
        NewDelivery::new(key, chat, Payload::text(text), t0()).for_user(chat)
    }

    async fn put(pool: &Db, rows: &[NewDelivery]) -> usize {
        let mut tx = super::super::begin_write(pool).await.unwrap();
        let mut added = 0;
        for row in rows {
            added += usize::from(enqueue(&mut tx, row).await.unwrap());
        }
        tx.commit().await.unwrap();
        added
    }

    async fn status(pool: &SqlitePool, key: &str) -> Status {
        by_key(pool, &named(key)).await.unwrap().unwrap().status
    }

    #[tokio::test]
    async fn keys_by_prefix_and_a_withdrawn_row_wanted_again() {
        let (pool, _dir) = pool().await;
        put(
            &pool,
            &[
                new(session("s", "a-1", 7), 7),
                new(session("s", "a-1", 8), 8),
                new(session("s", "a-10", 7), 7),
                new(named("session:s:a-1"), 9),
                new(session("t", "a-1", 7), 7),
            ],
        )
        .await;
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        let prefix = KeyPrefix::Session {
            series: "s".into(),
            session: "a-1".into(),
        };
        let mut found = statuses_with_prefix(&mut tx, &prefix).await.unwrap();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            found,
            [
                ("session:s:a-1:5:7:checkin".to_string(), Status::Pending),
                ("session:s:a-1:5:8:checkin".to_string(), Status::Pending),
            ]
        );
        let (id, _) = pending_with_prefix(&mut tx, &prefix).await.unwrap()[0].clone();
        assert!(cancel(&mut tx, id, "no longer planned").await.unwrap());
        let again = NewDelivery {
            payload: Payload::text("again"),
            ..new(session("s", "a-1", 7), 7).due_at(t0() + chrono::Duration::hours(1))
        };
        assert!(!enqueue(&mut tx, &again).await.unwrap(), "the key is taken");
        assert!(revive(&mut tx, &again).await.unwrap());
        assert!(
            !revive(&mut tx, &again).await.unwrap(),
            "only a withdrawn row is revived"
        );
        tx.commit().await.unwrap();
        let row = by_key(&pool, &session("s", "a-1", 7))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.status, row.payload, row.due_at, row.last_error),
            (
                Status::Pending,
                Payload::text("again"),
                t0() + chrono::Duration::hours(1),
                None
            )
        );
    }

    /// A row written by an earlier version (its JSON from before `Reply` and `Payload` were one type, its
    /// document in the BLOB column) is claimed and decoded as the message it was.
    #[tokio::test]
    async fn a_row_stored_by_an_earlier_version_still_decodes() {
        let (pool, _dir) = pool().await;
        sqlx::query(
            "INSERT INTO deliveries (idempotency_key, chat_id, telegram_user_id, payload, document, due_at,
               status, attempts, created_at, channel)
             VALUES ('certificate:s:5', 5, 5, ?, ?, ?, 'pending', 0, ?, 'telegram')",
        )
        .bind(r#"{"kind":"document","file_name":"todistus.pdf","caption":"Todistus"}"#)
        .bind(vec![1u8, 2, 3])
        .bind(t0())
        .bind(t0())
        .execute(pool.writer())
        .await
        .unwrap();
        let row = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(
            row.payload,
            Payload::document(crate::domain::Document {
                file_name: "todistus.pdf".into(),
                bytes: vec![1, 2, 3],
                caption: Some("Todistus".into()),
            })
        );
        let key = OutboxKey::Certificate {
            series: "s".into(),
            user: 5,
            email: false,
        };
        assert_eq!(by_key(&pool, &key).await.unwrap().unwrap().id, row.id);
    }

    /// A coalesced edit row holds only the latest state: an unchanged state writes nothing, a new one
    /// replaces the waiting one, and one written while the previous was in flight is sent after it.
    #[tokio::test]
    async fn a_coalesced_edit_keeps_only_its_latest_state() {
        let (pool, _dir) = pool().await;
        let edit = |text: &str| {
            NewDelivery::new(
                OutboxKey::BroadcastStatusEdit(4),
                900,
                Payload::edit(77, text),
                t0(),
            )
            .for_user(900)
        };
        let put = |d: NewDelivery| {
            let pool = pool.clone();
            async move {
                let mut tx = super::super::begin_write(&pool).await.unwrap();
                let written = put_latest(&mut tx, &d).await.unwrap();
                tx.commit().await.unwrap();
                written
            }
        };
        let key = OutboxKey::BroadcastStatusEdit(4);
        assert!(put(edit("1/3")).await);
        assert!(!put(edit("1/3")).await, "the same state writes nothing");
        assert!(put(edit("2/3")).await);
        let first = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(
            first.payload,
            Payload::edit(77, "2/3"),
            "only the latest waits"
        );
        assert!(put(edit("3/3")).await, "a new state while one is in flight");
        assert_eq!(
            by_key(&pool, &key).await.unwrap().unwrap().status,
            Status::Sending
        );
        mark_sent(&pool, &first, 77, t0()).await.unwrap();
        let row = by_key(&pool, &key).await.unwrap().unwrap();
        assert_eq!(
            (row.status, row.payload),
            (Status::Pending, Payload::edit(77, "3/3")),
            "the state written meanwhile still goes"
        );
        let last = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        mark_sent(&pool, &last, 77, t0()).await.unwrap();
        assert_eq!(
            by_key(&pool, &key).await.unwrap().unwrap().status,
            Status::Sent
        );
        assert!(!put(edit("3/3")).await, "the message already shows it");
        assert!(claim_next(&pool, t0(), &[]).await.unwrap().is_none());
    }

    /// A lookup by key finds that key only, not the keys it is a prefix of (user 12's survey reminder is not
    /// user 123's).
    #[tokio::test]
    async fn a_pending_row_is_found_by_its_exact_key() {
        let (pool, _dir) = pool().await;
        let reminder = |user| OutboxKey::SurveyReminder {
            survey: "palaute".into(),
            trigger: crate::domain::survey::Trigger::Manual(1),
            user,
        };
        put(&pool, &[new(reminder(123), 123)]).await;
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        assert_eq!(pending_by_key(&mut tx, &reminder(12)).await.unwrap(), None);
        let id = by_key(&pool, &reminder(123)).await.unwrap().unwrap().id;
        assert_eq!(
            pending_by_key(&mut tx, &reminder(123)).await.unwrap(),
            Some(id)
        );
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_key_is_stored_once() {
        let (pool, _dir) = pool().await;
        assert_eq!(
            put(&pool, &[new(named("k"), 1), new(named("k"), 2)]).await,
            1
        );
        assert_eq!(put(&pool, &[new(named("k"), 3)]).await, 0);
        assert_eq!(
            by_key(&pool, &named("k")).await.unwrap().unwrap().chat_id,
            1
        );
    }

    #[tokio::test]
    async fn claims_go_oldest_due_first_and_skip_held_chats() {
        let (pool, _dir) = pool().await;
        let later = t0() + chrono::Duration::minutes(5);
        put(
            &pool,
            &[
                new(named("late"), 1).due_at(later),
                new(named("a"), 1),
                new(named("b"), 2),
                new(named("c"), 1),
            ],
        )
        .await;
        let first = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(
            (first.idempotency_key, first.status),
            (named("a").encode(), Status::Sending)
        );
        let next = claim_next(&pool, t0(), &[1]).await.unwrap().unwrap();
        assert_eq!(next.idempotency_key, named("b").encode(), "chat 1 is held");
        assert!(claim_next(&pool, t0(), &[1]).await.unwrap().is_none());
        assert_eq!(
            chats_with_due_rows(&pool, t0(), &[1, 2, 3]).await.unwrap(),
            [1]
        );
        assert_eq!(next_due_after(&pool, t0()).await.unwrap(), Some(later));
        assert_eq!(
            claim_next(&pool, t0(), &[])
                .await
                .unwrap()
                .unwrap()
                .idempotency_key,
            named("c").encode()
        );
        assert!(
            claim_next(&pool, t0(), &[]).await.unwrap().is_none(),
            "'late' is not due"
        );
        assert_eq!(
            claim_next(&pool, later, &[])
                .await
                .unwrap()
                .unwrap()
                .idempotency_key,
            named("late").encode()
        );

        assert_eq!(
            release_all_sending(&pool).await.unwrap(),
            4,
            "crash recovery"
        );
        assert_eq!(status(&pool, "a").await, Status::Pending);
    }

    #[tokio::test]
    async fn outcomes_are_recorded() {
        let (pool, _dir) = pool().await;
        put(
            &pool,
            &[
                new(named("sent"), 1),
                new(named("retry"), 2),
                new(named("failed"), 3),
            ],
        )
        .await;
        let sent = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        mark_sent(&pool, &sent, 77, t0()).await.unwrap();
        let retry = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        let again = t0() + chrono::Duration::seconds(5);
        retry_at(&pool, retry.id, again, 1, "network")
            .await
            .unwrap();
        let failed = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        mark_failed(&pool, failed.id, "Bad Request: chat not found", None)
            .await
            .unwrap();

        let sent = by_key(&pool, &named("sent")).await.unwrap().unwrap();
        assert_eq!(
            (sent.status, sent.telegram_message_id, sent.sent_at),
            (Status::Sent, Some(77), Some(t0()))
        );
        let retry = by_key(&pool, &named("retry")).await.unwrap().unwrap();
        assert_eq!(
            (retry.status, retry.attempts, retry.due_at),
            (Status::Pending, 1, again)
        );
        assert_eq!(retry.last_error.as_deref(), Some("network"));
        let failed = by_key(&pool, &named("failed")).await.unwrap().unwrap();
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.last_error.as_deref(),
            Some("Bad Request: chat not found")
        );
    }

    #[tokio::test]
    async fn an_unreachable_chat_loses_all_its_waiting_rows_and_its_person_is_marked() {
        let (pool, _dir) = pool().await;
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        users::touch(&mut tx, 5, 5, crate::domain::Lang::Fi, t0())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        put(
            &pool,
            &[new(named("x"), 5), new(named("y"), 5), new(named("z"), 6)],
        )
        .await;
        let x = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(
            skip_unreachable(&pool, &x, "blocked", t0()).await.unwrap(),
            1
        );
        assert_eq!(status(&pool, "x").await, Status::Skipped);
        assert_eq!(status(&pool, "y").await, Status::Skipped);
        assert_eq!(status(&pool, "z").await, Status::Pending);
        let counts = super::super::stats::counts(&pool).await.unwrap();
        assert_eq!(counts.unreachable, 1);

        let mut tx = super::super::begin_write(&pool).await.unwrap();
        users::touch(&mut tx, 5, 5, crate::domain::Lang::Fi, t0())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let counts = super::super::stats::counts(&pool).await.unwrap();
        assert_eq!(counts.unreachable, 0, "writing again makes them reachable");
    }

    #[tokio::test]
    async fn emails_have_their_own_lane_and_outlive_a_telegram_block() {
        let (pool, _dir) = pool().await;
        let cert = OutboxKey::Certificate {
            series: "s".into(),
            user: 5,
            email: true,
        };
        let mail = NewDelivery::new(
            cert.clone(),
            5,
            Payload::email("a@example.org", crate::domain::Lang::Fi, "s", "b", None),
            t0(),
        )
        .for_user(5);
        put(&pool, &[mail, new(named("chat"), 5)]).await;
        let chat = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(chat.idempotency_key, named("chat").encode());
        assert!(
            claim_next(&pool, t0(), &[]).await.unwrap().is_none(),
            "the Telegram lane never takes an email"
        );
        skip_unreachable(&pool, &chat, "blocked", t0())
            .await
            .unwrap();
        assert_eq!(
            by_key(&pool, &cert).await.unwrap().unwrap().status,
            Status::Pending
        );
        let email = claim_next_email(&pool, t0()).await.unwrap().unwrap();
        assert_eq!(email.idempotency_key, cert.encode());
        mark_email_sent(&pool, email.id, t0()).await.unwrap();
        let row = by_key(&pool, &cert).await.unwrap().unwrap();
        assert_eq!((row.status, row.sent_at), (Status::Sent, Some(t0())));
        assert!(claim_next_email(&pool, t0()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_migrated_group_takes_its_waiting_rows_along() {
        let (pool, _dir) = pool().await;
        put(&pool, &[new(named("g1"), -5), new(named("g2"), -5)]).await;
        let g1 = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        move_chat(&pool, g1.id, -5, -1005, 1).await.unwrap();
        for key in ["g1", "g2"] {
            let d = by_key(&pool, &named(key)).await.unwrap().unwrap();
            assert_eq!((d.chat_id, d.status), (-1005, Status::Pending), "{key}");
        }
    }

    #[tokio::test]
    async fn batches_report_progress_and_can_be_cancelled() {
        let (pool, _dir) = pool().await;
        let rows: Vec<NewDelivery> = (1..=4)
            .map(|chat| {
                new(OutboxKey::Broadcast { id: 9, user: chat }, chat).in_batch("broadcast:9")
            })
            .collect();
        put(&pool, &rows).await;
        let first = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        mark_sent(&pool, &first, 1, t0()).await.unwrap();
        let second = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        skip_unreachable(&pool, &second, "blocked", t0())
            .await
            .unwrap();
        let third = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(
            batch_progress(&pool, "broadcast:9").await.unwrap(),
            BatchProgress {
                sent: 1,
                blocked: 1,
                failed: 0,
                cancelled: 0,
                remaining: 2
            }
        );
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        assert_eq!(
            cancel_batch(&mut tx, "broadcast:9").await.unwrap(),
            1,
            "the one in flight stays"
        );
        tx.commit().await.unwrap();
        mark_failed(&pool, third.id, "Bad Request: chat not found", None)
            .await
            .unwrap();
        let progress = batch_progress(&pool, "broadcast:9").await.unwrap();
        assert_eq!(
            progress,
            BatchProgress {
                sent: 1,
                blocked: 1,
                failed: 1,
                cancelled: 1,
                remaining: 0
            }
        );
        assert_eq!(progress.total(), 4);
    }

    #[tokio::test]
    async fn rows_can_be_withdrawn_by_key_prefix_and_expire() {
        let (pool, _dir) = pool().await;
        let end = t0() + chrono::Duration::hours(1);
        put(
            &pool,
            &[
                new(session("s1", "a", 1), 1),
                new(session("s1", "b", 2), 2).expires_at(t0()),
                new(session("s2", "a", 1), 1).expires_at(end),
                new(session("s1_x", "a", 3), 3),
            ],
        )
        .await;
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        let found = pending_with_prefix(&mut tx, &KeyPrefix::Series("s1".into()))
            .await
            .unwrap();
        let keys: Vec<&str> = found.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["session:s1:a:5:1:checkin", "session:s1:b:5:2:checkin"]
        );
        assert!(
            cancel(&mut tx, found[0].0, "no longer planned")
                .await
                .unwrap()
        );
        assert!(!cancel(&mut tx, found[0].0, "again").await.unwrap());
        tx.commit().await.unwrap();

        let claimed = claim_next(&pool, t0(), &[]).await.unwrap().unwrap();
        assert_eq!(
            claimed.idempotency_key, "session:s2:a:5:1:checkin",
            "the expired one was passed over"
        );
        let expired = by_key(&pool, &session("s1", "b", 2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(expired.status, Status::Cancelled);
        assert!(expired.last_error.unwrap().contains("expired"));
    }

    #[tokio::test]
    async fn finished_rows_past_retention_are_pruned() {
        let (pool, _dir) = pool().await;
        put(
            &pool,
            &[
                new(named("old"), 1),
                new(named("waiting"), 2).due_at(t0() - chrono::Duration::days(90)),
            ],
        )
        .await;
        let old = claim_next(&pool, t0(), &[2]).await.unwrap().unwrap();
        mark_sent(&pool, &old, 1, t0()).await.unwrap();
        assert_eq!(
            prune(&pool, t0()).await.unwrap(),
            0,
            "sent exactly at the cut-off stays"
        );
        assert_eq!(
            prune(&pool, t0() + chrono::Duration::days(1))
                .await
                .unwrap(),
            1
        );
        assert!(by_key(&pool, &named("old")).await.unwrap().is_none());
        assert_eq!(
            status(&pool, "waiting").await,
            Status::Pending,
            "unsent rows are never pruned"
        );
    }

    /// More finished rows than one prune step takes: all go, over several turns; an unsent one stays.
    #[tokio::test]
    async fn a_large_backlog_of_finished_rows_is_pruned_completely() {
        let (pool, _dir) = pool().await;
        let long_ago = t0() - chrono::Duration::days(90);
        let rows: Vec<NewDelivery> = (0..2_500)
            .map(|i| new(named(&format!("old-{i}")), i).due_at(long_ago))
            .chain([new(named("waiting"), 1).due_at(long_ago)])
            .collect();
        put(&pool, &rows).await;
        sqlx::query(
            "UPDATE deliveries SET status = 'cancelled' WHERE idempotency_key LIKE 'coaching:0:old-%'",
        )
        .execute(pool.writer())
        .await
        .unwrap();
        assert_eq!(prune(&pool, t0()).await.unwrap(), 2_500);
        let left: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM deliveries")
            .fetch_all(pool.read())
            .await
            .unwrap();
        assert_eq!(left, vec![named("waiting").encode()]);
    }

    #[tokio::test]
    async fn forget_erases_the_persons_deliveries() {
        let (pool, _dir) = pool().await;
        put(
            &pool,
            &[
                new(named("mine"), 7),
                NewDelivery::new(named("to my chat"), 7, Payload::text("x"), t0()),
                new(named("theirs"), 8),
            ],
        )
        .await;
        let mut tx = super::super::begin_write(&pool).await.unwrap();
        super::super::erase_user(&mut tx, 7).await.unwrap();
        tx.commit().await.unwrap();
        assert!(by_key(&pool, &named("mine")).await.unwrap().is_none());
        assert!(by_key(&pool, &named("to my chat")).await.unwrap().is_none());
        assert!(by_key(&pool, &named("theirs")).await.unwrap().is_some());
    }
}
