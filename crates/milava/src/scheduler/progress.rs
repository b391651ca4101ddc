//! Broadcast progress: the coordinator's status message is edited in place (sent / blocked / failed /
//! remaining, estimated finish) at most every `TICK`, and a summary follows when the last row is done.
//!
//! The scheduler only decides: each edit is an outbox row (`OutboxKey::BroadcastStatusEdit`), sent by the
//! delivery worker within the send budget like any message. The row is coalesced: a new state replaces the
//! one still waiting (or in flight, which then waits again), and an unchanged state writes nothing, so the
//! message is edited at most once per state and its last state always arrives.
use crate::content::Content;
use crate::db::broadcasts::{self as store, Broadcast};
use crate::db::outbox::{self, BatchProgress, NewDelivery};
use crate::db::{self, DbError};
use crate::domain::Lang;
use crate::domain::broadcast::{BroadcastStatus, seconds_left};
use crate::domain::outbox::{OutboxKey, Payload, broadcast_batch};
use crate::domain::time::utc_to_local;
use crate::services::Ctx;
use chrono::Timelike;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How often a running broadcast's status message is updated.
pub const TICK: Duration = Duration::from_secs(3);

/// The status message's text: sent / blocked / failed / remaining of `total`, and the estimated finish at
/// the configured rate from `now`.
pub fn status_text(
    config: &crate::config::Config,
    content: &Content,
    lang: Lang,
    id: i64,
    progress: &BatchProgress,
    now: DateTime<Utc>,
) -> String {
    let rate = f64::from(config.delivery_max_per_second.max(1));
    let finish = now + chrono::Duration::seconds(seconds_left(progress.remaining, rate));
    // Shown to the minute, rounded up: "9.01", not "9.00.01".
    let finish = utc_to_local(config.timezone, finish);
    let finish = match finish.with_second(0).and_then(|t| t.with_nanosecond(0)) {
        Some(whole) if whole < finish => whole + chrono::Duration::minutes(1),
        Some(whole) => whole,
        None => finish,
    };
    let eta = match lang {
        Lang::Fi => finish.format("%-H.%M").to_string(),
        Lang::En => finish.format("%H:%M").to_string(),
    };
    content.fill(
        lang,
        "broadcast.progress",
        &[
            ("id", &id.to_string()),
            ("sent", &progress.sent.to_string()),
            ("total", &progress.total().to_string()),
            ("blocked", &progress.blocked.to_string()),
            ("failed", &progress.failed.to_string()),
            ("remaining", &progress.remaining.to_string()),
            ("eta", &eta),
        ],
    )
}

/// Scheduled broadcasts whose time came are marked sending; running ones get their status message
/// updated, and finished ones a summary. Returns whether any is still running.
pub async fn update(ctx: &Ctx, now: DateTime<Utc>) -> Result<bool, DbError> {
    store::start_due(&ctx.pool, now).await?;
    let running = store::sending(&ctx.pool).await?;
    for broadcast in &running {
        update_one(ctx, broadcast, now).await?;
    }
    Ok(!store::sending(&ctx.pool).await?.is_empty())
}

async fn update_one(ctx: &Ctx, b: &Broadcast, now: DateTime<Utc>) -> Result<(), DbError> {
    let content = ctx.content.get();
    let mut tx = db::begin_write(&ctx.pool).await?;
    let lang = crate::db::programme::recipient(&mut tx, b.coordinator)
        .await?
        .map(|(_, l)| l)
        .unwrap_or(Lang::Fi);
    tx.commit().await?;
    let progress = outbox::batch_progress(&ctx.pool, &broadcast_batch(b.id)).await?;
    let status = outbox::by_key(&ctx.pool, &OutboxKey::BroadcastStatus(b.id)).await?;
    let mut tx = db::begin_write(&ctx.pool).await?;
    let mut queued = false;
    // The status message's new state, once the worker has sent it; queued before the summary, so that it
    // goes first.
    if let Some((chat, message_id)) =
        status.and_then(|s| s.telegram_message_id.map(|id| (s.chat_id, id)))
    {
        let text = status_text(&ctx.config, &content, lang, b.id, &progress, now);
        let edit = NewDelivery::new(
            OutboxKey::BroadcastStatusEdit(b.id),
            chat,
            Payload::edit(message_id, text),
            now,
        )
        .for_user(b.coordinator);
        queued |= outbox::put_latest(&mut tx, &edit).await?;
    }
    if progress.remaining == 0 {
        store::finish(&mut tx, b.id, BroadcastStatus::Done, now).await?;
        let text = content.fill(
            lang,
            "broadcast.summary",
            &[
                ("id", &b.id.to_string()),
                ("sent", &progress.sent.to_string()),
                ("total", &progress.total().to_string()),
                ("blocked", &progress.blocked.to_string()),
                ("failed", &progress.failed.to_string()),
            ],
        );
        let summary = NewDelivery::new(
            OutboxKey::BroadcastSummary(b.id),
            b.coordinator,
            Payload::text(text),
            now,
        )
        .for_user(b.coordinator);
        queued |= outbox::enqueue(&mut tx, &summary).await?;
        log::info!("broadcast #{} done: {progress:?}", b.id);
    }
    tx.commit().await?;
    if queued {
        ctx.outbox.wake();
    }
    Ok(())
}
