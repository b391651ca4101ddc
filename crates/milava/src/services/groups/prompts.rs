//! Discussion prompts: the next prompt of a group's plan goes to the outbox on the group's schedule (the
//! scheduler) or at once (`/prompt`); `/skip` passes one over; `/pause` and `/resume` stop and restart the
//! schedule; `/upcoming` lists what comes next. A prompt is recorded the moment it is queued, so it is never
//! queued twice for one group (the outbox key `prompt:{group}:{prompt}` guards the same).
use crate::content::Content;
use crate::db::groups::{self as store, GroupLink};
use crate::db::outbox::{self, NewDelivery};
use crate::db::{DbError, Tx};
use crate::domain::commands::Command;
use crate::domain::groups::{PeerGroup, Prompt, plan_prompts};
use crate::domain::outbox::{KeyPrefix, OutboxKey, Payload};
use crate::domain::schedule::LocalSchedule;
use crate::domain::{Lang, Reply};
use crate::services::present::local_when;
use crate::services::{Ctx, Response};
use chrono::{DateTime, Utc};

/// How many upcoming prompts `/upcoming` lists.
pub(crate) const UPCOMING: usize = 3;

/// The next prompt of the plan the group has not had.
pub(crate) async fn next_prompt<'c>(
    tx: &mut Tx,
    content: &'c Content,
    group: &PeerGroup,
) -> Result<Vec<&'c Prompt>, DbError> {
    let done = store::prompts_done(tx, &group.id).await?;
    Ok(plan_prompts(group, &content.themes)
        .into_iter()
        .filter(|p| !done.contains(&p.id))
        .collect())
}

pub(crate) fn prompt_text(content: &Content, prompt: &Prompt, lang: Lang) -> String {
    let mut text = content.fill(lang, "groups.prompt", &[("text", prompt.text.get(lang))]);
    if let Some(follow_up) = &prompt.follow_up {
        text.push_str("\n\n");
        text.push_str(&content.fill(
            lang,
            "groups.prompt_follow_up",
            &[("question", follow_up.get(lang))],
        ));
    }
    text
}

/// Queues the group's next prompt, due at `due`; returns its id, or None when the plan is used up.
pub(crate) async fn queue_next(
    tx: &mut Tx,
    content: &Content,
    group: &PeerGroup,
    link: &GroupLink,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbError> {
    let Some(prompt) = next_prompt(tx, content, group).await?.into_iter().next() else {
        return Ok(None);
    };
    store::record_prompt(tx, &group.id, &prompt.id, true, now).await?;
    let key = OutboxKey::Prompt {
        group: group.id.clone(),
        prompt: prompt.id.clone(),
    };
    let payload = Payload::text(prompt_text(content, prompt, group.language));
    let delivery = NewDelivery::new(key, link.chat_id, payload, now).due_at(due);
    outbox::enqueue(tx, &delivery).await?;
    log::info!("group {}: prompt {} queued for {due}", group.id, prompt.id);
    Ok(Some(prompt.id.clone()))
}

/// Withdraws the group's prompts still waiting in the outbox (the bot was removed); the group may have
/// them later. Returns how many.
pub(crate) async fn withdraw_pending(tx: &mut Tx, group: &str) -> Result<usize, DbError> {
    let prefix = KeyPrefix::GroupPrompts(group.to_string());
    let pending = outbox::pending_with_prefix(tx, &prefix).await?;
    for (id, key) in &pending {
        outbox::cancel(tx, *id, "the bot left the group or lost a right").await?;
        if let Some(OutboxKey::Prompt { prompt, .. }) = OutboxKey::decode(key) {
            store::unrecord_prompt(tx, group, &prompt).await?;
        }
    }
    Ok(pending.len())
}

fn schedule(group: &PeerGroup) -> Option<LocalSchedule> {
    group
        .schedule
        .as_deref()
        .and_then(|s| LocalSchedule::parse(s).ok())
}

/// The group's next scheduled prompt time after `after`, if it has a schedule.
pub(crate) fn next_slot(
    ctx: &Ctx,
    group: &PeerGroup,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule(group).and_then(|s| s.next_after(ctx.config.timezone, after))
}

/// The latest slot in `(after, up_to]`.
pub(crate) fn latest_slot(
    ctx: &Ctx,
    group: &PeerGroup,
    after: DateTime<Utc>,
    up_to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule(group).and_then(|s| s.latest_in(ctx.config.timezone, after, up_to))
}

pub(crate) fn next_slot_text(
    ctx: &Ctx,
    content: &Content,
    group: &PeerGroup,
    now: DateTime<Utc>,
) -> String {
    let lang = group.language;
    match next_slot(ctx, group, now) {
        Some(at) => local_when(content, ctx.config.timezone, lang, at),
        None => content.text(lang, "groups.no_schedule").to_string(),
    }
}

/// A facilitator's `/prompt`, `/skip`, `/pause`, `/resume` or `/upcoming` in the linked group.
pub(crate) async fn command(
    ctx: &Ctx,
    tx: &mut Tx,
    content: &Content,
    group: &PeerGroup,
    link: &GroupLink,
    command: Command,
) -> Result<Response, DbError> {
    let lang = group.language;
    let now = ctx.clock.now();
    let text = match command {
        // The prompt itself, posted at once, is the answer.
        Command::Prompt => match queue_next(tx, content, group, link, now, now).await? {
            Some(_) => return Ok(Response::default()),
            None => content.text(lang, "groups.plan_done").to_string(),
        },
        Command::Skip => match next_prompt(tx, content, group).await?.into_iter().next() {
            Some(prompt) => {
                store::record_prompt(tx, &group.id, &prompt.id, false, now).await?;
                log::info!("group {}: prompt {} skipped", group.id, prompt.id);
                content.fill(
                    lang,
                    "groups.skipped",
                    &[("prompt", &preview(prompt.text.get(lang)))],
                )
            }
            None => content.text(lang, "groups.plan_done").to_string(),
        },
        Command::Pause => {
            store::set_paused(tx, &group.id, true, now).await?;
            content.text(lang, "groups.paused").to_string()
        }
        Command::Resume => {
            store::set_paused(tx, &group.id, false, now).await?;
            // Slots that passed while paused stay passed: the schedule continues from now.
            store::set_last_slot(tx, &group.id, now.max(link.last_slot)).await?;
            let next = next_slot_text(ctx, content, group, now);
            content.fill(lang, "groups.resumed", &[("next", &next)])
        }
        Command::Upcoming => upcoming(ctx, tx, content, group, link, now).await?,
        _ => return Ok(Response::default()),
    };
    Ok(Response {
        replies: vec![Reply::text(text)],
        ..Response::default()
    })
}

async fn upcoming(
    ctx: &Ctx,
    tx: &mut Tx,
    content: &Content,
    group: &PeerGroup,
    link: &GroupLink,
    now: DateTime<Utc>,
) -> Result<String, DbError> {
    let lang = group.language;
    let prompts = next_prompt(tx, content, group).await?;
    if prompts.is_empty() {
        return Ok(content.text(lang, "groups.plan_done").to_string());
    }
    let mut lines = vec![content.text(lang, "groups.upcoming_title").to_string()];
    if link.paused {
        lines.push(content.text(lang, "groups.upcoming_paused").to_string());
    }
    let mut at = now;
    for prompt in prompts.into_iter().take(UPCOMING) {
        let when = if link.paused {
            None
        } else {
            next_slot(ctx, group, at).inspect(|slot| at = *slot)
        };
        let when = when
            .map(|t| local_when(content, ctx.config.timezone, lang, t))
            .unwrap_or_else(|| {
                content
                    .text(lang, "groups.upcoming_unscheduled")
                    .to_string()
            });
        lines.push(content.fill(
            lang,
            "groups.upcoming_line",
            &[("when", &when), ("prompt", &preview(prompt.text.get(lang)))],
        ));
    }
    Ok(lines.join("\n"))
}

/// The start of a prompt, for lists.
pub(crate) fn preview(text: &str) -> String {
    const CHARS: usize = 70;
    if text.chars().count() <= CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(CHARS).collect();
    format!("{}…", cut.trim_end())
}
