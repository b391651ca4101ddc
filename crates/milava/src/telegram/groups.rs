//! Group chats: commands (only commands — ordinary group messages are neither read further nor logged),
//! join requests, and the bot's own membership changing. Also the `GroupAdmin` the services use.
use super::parse::text_or_command;
use super::send;
use crate::domain::groups::{BotRights, BotStatus};
use crate::send_budget::SendBudget;
use crate::services::groups::{self, GroupAdmin, GroupInput, JoinRequest};
use crate::services::{Ctx, IncomingKind, Response};
use teloxide::prelude::*;
use teloxide::types::{ChatMemberKind, ChatMemberUpdated, Me, MediaKind, MessageKind};

/// Telegram allows invite link names of at most 32 characters.
const MAX_LINK_NAME_CHARS: usize = 32;

pub struct TelegramAdmin {
    pub bot: Bot,
    pub me: UserId,
}

#[async_trait::async_trait]
impl GroupAdmin for TelegramAdmin {
    async fn bot_rights(&self, chat: i64) -> Result<BotRights, String> {
        let member = self
            .bot
            .get_chat_member(ChatId(chat), self.me)
            .await
            .map_err(|e| e.to_string())?;
        Ok(rights(&member.kind))
    }

    async fn is_chat_admin(&self, chat: i64, user: i64) -> Result<bool, String> {
        let user = UserId(u64::try_from(user).map_err(|e| e.to_string())?);
        let member = self
            .bot
            .get_chat_member(ChatId(chat), user)
            .await
            .map_err(|e| e.to_string())?;
        Ok(matches!(
            member.kind,
            ChatMemberKind::Owner(_) | ChatMemberKind::Administrator(_)
        ))
    }

    async fn create_join_link(&self, chat: i64, name: &str) -> Result<String, String> {
        let name: String = name.chars().take(MAX_LINK_NAME_CHARS).collect();
        let link = self
            .bot
            .create_chat_invite_link(ChatId(chat))
            .name(name)
            .creates_join_request(true)
            .await
            .map_err(|e| e.to_string())?;
        Ok(link.invite_link)
    }

    async fn decide_join(&self, chat: i64, user: i64, approve: bool) -> Result<(), String> {
        let user = UserId(u64::try_from(user).map_err(|e| e.to_string())?);
        let result = if approve {
            self.bot.approve_chat_join_request(ChatId(chat), user).await
        } else {
            self.bot.decline_chat_join_request(ChatId(chat), user).await
        };
        result.map(drop).map_err(|e| e.to_string())
    }
}

pub fn rights(kind: &ChatMemberKind) -> BotRights {
    match kind {
        ChatMemberKind::Owner(_) => BotRights {
            status: BotStatus::Administrator,
            can_invite_users: true,
            can_delete_messages: true,
        },
        ChatMemberKind::Administrator(a) => BotRights {
            status: BotStatus::Administrator,
            can_invite_users: a.can_invite_users,
            can_delete_messages: a.can_delete_messages,
        },
        ChatMemberKind::Member(_) => BotRights {
            status: BotStatus::Member,
            can_invite_users: false,
            can_delete_messages: false,
        },
        ChatMemberKind::Restricted(_) | ChatMemberKind::Left | ChatMemberKind::Banned(_) => {
            BotRights {
                status: BotStatus::Gone,
                can_invite_users: false,
                can_delete_messages: false,
            }
        }
    }
}

/// A command in a group chat as input; None for anything else (chatter is ignored unread).
fn group_input(msg: &Message, me: &Me) -> Option<GroupInput> {
    let user = msg.from.as_ref().filter(|u| !u.is_bot)?;
    let MessageKind::Common(common) = &msg.kind else {
        return None;
    };
    let MediaKind::Text(text) = &common.media_kind else {
        return None;
    };
    if !text.text.starts_with('/') {
        return None;
    }
    let IncomingKind::Command { command, args } = text_or_command(&text.text, me.username()) else {
        return None;
    };
    Some(GroupInput {
        chat_id: msg.chat.id.0,
        user_id: user.id.0 as i64,
        language_code: user.language_code.clone(),
        command,
        args,
        bot_username: me.username().to_string(),
    })
}

pub async fn on_group_message(bot: &Bot, msg: &Message, me: &Me, ctx: &Ctx) {
    let Some(input) = group_input(msg, me) else {
        return;
    };
    let admin = TelegramAdmin {
        bot: bot.clone(),
        me: me.id,
    };
    let response = groups::on_group_command(ctx, &admin, &input).await;
    deliver(bot, &ctx.send_budget, msg, input.user_id, &response).await;
}

/// Sends a group command's answers: in the group, privately to the asker (with the fallback in the group
/// when that is not possible), and deletes the command message when asked to.
async fn deliver(bot: &Bot, budget: &SendBudget, msg: &Message, user_id: i64, response: &Response) {
    send::replies(bot, budget, msg.chat.id, &response.replies).await;
    if !response.private.is_empty()
        && let Err(e) = send::try_replies(bot, budget, ChatId(user_id), &response.private).await
    {
        log::info!(
            "group {}: could not answer a member privately ({e}); neutral note in the group",
            msg.chat.id.0
        );
        send::replies(bot, budget, msg.chat.id, &response.private_fallback).await;
    }
    if response.delete_input
        && let Err(e) = bot.delete_message(msg.chat.id, msg.id).await
    {
        log::debug!("group {}: command message not deleted: {e}", msg.chat.id.0);
    }
}

pub async fn on_join_request(
    bot: Bot,
    request: teloxide::types::ChatJoinRequest,
    me: Me,
    ctx: Ctx,
) -> ResponseResult<()> {
    let admin = TelegramAdmin {
        bot: bot.clone(),
        me: me.id,
    };
    let input = JoinRequest {
        chat_id: request.chat.id.0,
        user_id: request.from.id.0 as i64,
        user_chat_id: request.user_chat_id.0,
        language_code: request.from.language_code.clone(),
        bot_username: me.username().to_string(),
    };
    groups::on_join_request(&ctx, &admin, &input).await;
    ctx.metrics.update_handled();
    Ok(())
}

/// The bot's membership changed. Private chats (someone blocked or unblocked the bot) are handled by the
/// outbox's error answers; groups matter here.
pub async fn on_my_chat_member(update: ChatMemberUpdated, ctx: Ctx) -> ResponseResult<()> {
    if update.chat.is_group() || update.chat.is_supergroup() {
        groups::on_bot_rights(&ctx, update.chat.id.0, rights(&update.new_chat_member.kind)).await;
        ctx.metrics.update_handled();
    }
    Ok(())
}
