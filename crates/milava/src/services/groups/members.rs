//! Join requests to a linked group, and the bot's own membership changing (removed, demoted).
use super::{GroupAdmin, prompts, rules_text, wants_peer_group};
use crate::db::outbox::{self, NewDelivery};
use crate::db::{self, DbError, groups as store, participants, programme};
use crate::domain::groups::BotRights;
use crate::domain::outbox::{OutboxKey, Payload};
use crate::domain::{Button, Lang};
use crate::services::Ctx;
use chrono::Duration;

/// Telegram lets the bot write to someone who asked to join for this long after the request.
const JOIN_REQUEST_WINDOW: i64 = 5;

/// A `chat_join_request`, parsed at the boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinRequest {
    pub chat_id: i64,
    pub user_id: i64,
    /// The private chat the bot may write to for 5 minutes.
    pub user_chat_id: i64,
    pub language_code: Option<String>,
    pub bot_username: String,
}

/// Approves a registered, consenting father assigned to this group; declines anyone else and tells them
/// (within Telegram's 5 minutes, through the outbox) how to register. New members get the group's rules
/// privately. Requests to a group that is not linked are left for the group's own admins.
pub async fn on_join_request(ctx: &Ctx, admin: &dyn GroupAdmin, request: &JoinRequest) {
    let decision = match decide(ctx, request).await {
        Ok(decision) => decision,
        Err(e) => {
            log::error!(
                "join request of user {} to chat {}: {e}",
                request.user_id,
                request.chat_id
            );
            return;
        }
    };
    let Some(approve) = decision else {
        return;
    };
    ctx.outbox.wake();
    if let Err(e) = admin
        .decide_join(request.chat_id, request.user_id, approve)
        .await
    {
        log::warn!(
            "join request of user {} to chat {}: could not {}: {e}",
            request.user_id,
            request.chat_id,
            if approve { "approve" } else { "decline" }
        );
    }
}

async fn decide(ctx: &Ctx, request: &JoinRequest) -> Result<Option<bool>, DbError> {
    let content = ctx.content.get();
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    let Some(link) = store::link_of_chat(&mut tx, request.chat_id)
        .await?
        .filter(|l| l.active)
    else {
        log::info!(
            "join request to chat {}, which is not a linked group: left alone",
            request.chat_id
        );
        return Ok(None);
    };
    let Some(group) = content.group(&link.group_id) else {
        return Ok(None);
    };
    let participant = participants::get(&mut tx, request.user_id).await?;
    let known = programme::recipient(&mut tx, request.user_id).await?;
    let lang = known.map(|(_, lang)| lang).unwrap_or_else(|| {
        Lang::from_telegram(
            request.language_code.as_deref(),
            ctx.config.default_language,
        )
    });
    let approve = participant
        .as_ref()
        .is_some_and(|p| wants_peer_group(p) && p.group_id.as_deref() == Some(group.id.as_str()));
    let user = request.user_id;
    let payload = if approve {
        store::put_member(&mut tx, &group.id, user, true, now).await?;
        let text = format!(
            "{}\n\n{}",
            content.fill(lang, "groups.welcome", &[("group", group.name.get(lang))]),
            rules_text(&content, group, lang)
        );
        Payload::text(text)
    } else {
        let key = match &participant {
            None => "groups.join_declined_register",
            Some(_) => "groups.join_declined_other",
        };
        let text = content.fill(lang, key, &[("group", group.name.get(lang))]);
        if participant.is_none() {
            // The deep link preselects this group, so registering leads straight back here.
            let url = format!("https://t.me/{}?start={}", request.bot_username, group.code);
            let button = Button::url(content.text(lang, "button.groups.register"), url);
            Payload::with_buttons(text, vec![vec![button]])
        } else {
            Payload::text(text)
        }
    };
    let outcome = if approve { "approved" } else { "declined" };
    log::info!(
        "join request of user {user} to group {}: {outcome}",
        group.id
    );
    let key = OutboxKey::Join {
        group: group.id.clone(),
        user,
        at: now.timestamp(),
        approved: approve,
    };
    let delivery = NewDelivery::new(key, request.user_chat_id, payload, now)
        .for_user(user)
        .expires_at(now + Duration::minutes(JOIN_REQUEST_WINDOW));
    outbox::enqueue(&mut tx, &delivery).await?;
    tx.commit().await?;
    Ok(Some(approve))
}

/// The bot's membership in a group changed (`my_chat_member`). If it was removed or lost a right it needs,
/// the group's prompts stop (pending ones are withdrawn) and every coordinator is told which right is missing.
/// Rights given back take effect with `/linkgroup` again.
pub async fn on_bot_rights(ctx: &Ctx, chat: i64, rights: BotRights) {
    if let Err(e) = bot_rights(ctx, chat, rights).await {
        log::error!("bot membership change in chat {chat}: {e}");
    }
}

async fn bot_rights(ctx: &Ctx, chat: i64, rights: BotRights) -> Result<(), DbError> {
    let Some(missing) = rights.missing() else {
        return Ok(());
    };
    let content = ctx.content.get();
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    let Some(group_id) = store::deactivate_chat(&mut tx, chat, now).await? else {
        return Ok(());
    };
    let withdrawn = prompts::withdraw_pending(&mut tx, &group_id).await?;
    log::warn!(
        "group {group_id} (chat {chat}): the bot lacks {missing:?}; prompts stopped ({withdrawn} withdrawn)"
    );
    for coordinator in &ctx.config.coordinator_ids {
        let (coordinator_chat, lang) = programme::recipient(&mut tx, *coordinator)
            .await?
            .unwrap_or((*coordinator, ctx.config.default_language));
        let name = content
            .group(&group_id)
            .map(|g| g.name.get(lang).to_string())
            .unwrap_or_else(|| group_id.clone());
        let text = content.fill(
            lang,
            "groups.bot_lost",
            &[
                ("group", &name),
                ("right", content.text(lang, missing.text_key())),
            ],
        );
        let key = OutboxKey::GroupLost {
            group: group_id.clone(),
            at: now.timestamp(),
            coordinator: *coordinator,
        };
        let delivery = NewDelivery::new(key, coordinator_chat, Payload::text(text), now)
            .for_user(*coordinator);
        outbox::enqueue(&mut tx, &delivery).await?;
    }
    tx.commit().await?;
    ctx.outbox.wake();
    Ok(())
}
