//! The scheduler's part for peer groups and coaching: at each group's scheduled slot its next prompt goes to
//! the outbox, and at each father's weekly slot his next coaching step. Slots are local wall times (see
//! `domain::schedule` for the nights the clocks change). After downtime only the latest missed slot counts,
//! and only if it is recent (`PROMPT_CATCH_UP`); older ones pass without a message.
use crate::content::Content;
use crate::db::{self, DbError, coaching as coaching_store, groups as store};
use crate::services::{Ctx, coaching, groups::prompts};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// A prompt whose slot passed while the bot was down is still posted this long after its time.
const PROMPT_CATCH_UP: Duration = Duration::hours(6);

/// Coaching fathers handled per transaction, at most (and never longer than `db::BACKGROUND_SLICE`).
const COACHING_BATCH: usize = 100;

/// Queues due prompts and coaching steps; returns (prompts, steps) queued.
pub async fn plan(
    ctx: &Ctx,
    content: &Content,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(usize, usize), DbError> {
    let mut prompts_queued = 0;
    for link in store::active_links(&ctx.pool).await? {
        let Some(group) = content.group(&link.group_id) else {
            continue;
        };
        let Some(slot) = prompts::latest_slot(ctx, group, link.last_slot, now) else {
            continue;
        };
        let mut tx = db::begin_write(&ctx.pool).await?;
        store::set_last_slot(&mut tx, &group.id, slot).await?;
        if !link.paused && now - slot <= PROMPT_CATCH_UP {
            if prompts::queue_next(&mut tx, content, group, &link, slot, now)
                .await?
                .is_some()
            {
                prompts_queued += 1;
            }
        } else if !link.paused {
            log::warn!(
                "group {}: the prompt slot {slot} passed while the bot was down; not posted late",
                group.id
            );
        }
        tx.commit().await?;
    }
    let mut steps = 0;
    // Fathers whose next slot is still to come need no write at all; the rest go in short transactions
    // (`db::Slices`), one father at a time.
    let mut slices = db::Slices::new(&ctx.pool, COACHING_BATCH);
    for c in coaching_store::running(&ctx.pool).await? {
        if coaching::next_due(content, tz, &c).is_some_and(|due| due > now) {
            continue;
        }
        if coaching::send_if_due(slices.next().await?, content, tz, &c, now).await? {
            steps += 1;
        }
    }
    slices.finish().await?;
    Ok((prompts_queued, steps))
}

/// The next moment a prompt or a coaching step is due.
pub async fn next_run(
    ctx: &Ctx,
    content: &Content,
    tz: Tz,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let prompts = store::active_links(&ctx.pool)
        .await?
        .into_iter()
        .filter_map(|link| {
            let group = content.group(&link.group_id)?;
            prompts::next_slot(ctx, group, link.last_slot)
        })
        .min();
    let steps = coaching_store::running(&ctx.pool)
        .await?
        .iter()
        .filter_map(|c| coaching::next_due(content, tz, c))
        .min();
    Ok([prompts, steps].into_iter().flatten().min())
}
