//! Who facilitates each peer group, and what coordinators do to a group from the console. The database holds
//! the facilitators (migration 0013); the shipped `dialogues/groups.toml` seeds each group's list once. The
//! console's pause and resume are the chat's `/pause` and `/resume` (`prompts::command`).
use super::prompts;
use crate::content::Content;
use crate::db::{self, DbError, Tx, audit, groups as store};
use crate::domain::commands::Command;
use crate::domain::groups::PeerGroup;
use crate::services::Ctx;
use chrono::{DateTime, Utc};

/// Seeds each peer group's facilitators from the shipped file, once per group: after that the database holds
/// them (coordinators choose them in the console) and a release with an older file changes nothing. Run at
/// startup and on each scheduler pass (a group added by `/reload` is seeded then).
pub async fn seed_facilitators(
    pool: &crate::db::Db,
    content: &Content,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let groups: Vec<(String, Vec<i64>)> = content
        .groups
        .iter()
        .map(|g| {
            let ids = g.facilitators.iter().filter_map(|f| f.id()).collect();
            (g.id.clone(), ids)
        })
        .collect();
    store::seed_facilitators(pool, &groups, now).await
}

/// Whether `user` may use the facilitators' commands of `group`: one of its facilitators (the database's
/// list) or a coordinator.
pub(crate) async fn may_facilitate(
    ctx: &Ctx,
    tx: &mut Tx,
    group: &PeerGroup,
    user: i64,
) -> Result<bool, DbError> {
    Ok(ctx.config.is_coordinator(user) || store::is_facilitator(tx, &group.id, user).await?)
}

/// A coordinator adds (`add`) or removes a group's facilitator, with an audit line. Returns whether anything
/// changed.
pub async fn set_facilitator(
    ctx: &Ctx,
    coordinator: i64,
    group: &str,
    user: i64,
    add: bool,
) -> Result<bool, DbError> {
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    let changed = if add {
        store::add_facilitator(&mut tx, group, user, now).await?
    } else {
        store::remove_facilitator(&mut tx, group, user).await?
    };
    if changed {
        let action = if add {
            "facilitator_added"
        } else {
            "facilitator_removed"
        };
        audit::record(
            &mut tx,
            coordinator,
            action,
            &format!("{group} {user}"),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// A coordinator pauses or resumes a linked group's prompts, as a facilitator's `/pause` or `/resume` does,
/// with an audit line. Returns false when the group is not linked to a Telegram chat.
pub async fn pause(
    ctx: &Ctx,
    coordinator: i64,
    group: &PeerGroup,
    paused: bool,
) -> Result<bool, DbError> {
    let content = ctx.content.get();
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    let Some(link) = store::link_of_group(&mut tx, &group.id).await? else {
        return Ok(false);
    };
    let command = if paused {
        Command::Pause
    } else {
        Command::Resume
    };
    prompts::command(ctx, &mut tx, &content, group, &link, command).await?;
    let action = if paused {
        "group_paused"
    } else {
        "group_resumed"
    };
    audit::record(&mut tx, coordinator, action, &group.id, now).await?;
    tx.commit().await?;
    ctx.scheduler.wake();
    Ok(true)
}

/// The group's next prompts as the chat's `/upcoming` tells them ("• when: prompt…", one a line, without its
/// heading), for a linked group; the next prompts not yet posted, without times, for one not linked.
pub async fn plan_lines(ctx: &Ctx, group: &PeerGroup) -> Result<Vec<String>, DbError> {
    let content = ctx.content.get();
    let lang = group.language;
    let mut tx = db::begin_read(&ctx.pool).await?;
    let Some(link) = store::link_of_group(&mut tx, &group.id).await? else {
        let prompts = prompts::next_prompt(&mut tx, &content, group).await?;
        return Ok(prompts
            .into_iter()
            .take(prompts::UPCOMING)
            .map(|p| prompts::preview(p.text.get(lang)))
            .collect());
    };
    let response =
        prompts::command(ctx, &mut tx, &content, group, &link, Command::Upcoming).await?;
    Ok(response
        .replies
        .iter()
        .filter_map(|r| match r {
            crate::domain::Reply::Text { text, .. } => Some(text.clone()),
            _ => None,
        })
        .flat_map(|t| {
            t.lines()
                .filter_map(|l| l.strip_prefix("• ").map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect())
}
