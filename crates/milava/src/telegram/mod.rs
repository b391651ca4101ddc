//! The teloxide adapter: one handler schema, thin handlers that parse updates into `services::Incoming`,
//! call `services::handle`, and send what it returns.
mod commands;
mod groups;
pub mod intake;
mod parse;
mod send;
pub mod webhook;
pub mod webhook_server;

pub use commands::publish_commands;
pub use parse::incoming_from_message;
pub use send::{keyboard, send_one};

use crate::services::{self, Ctx, Incoming, IncomingKind};
use teloxide::dispatching::{UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::{MaybeInaccessibleMessage, Me};

/// The update kinds the bot asks Telegram for.
pub const ALLOWED_UPDATES: &[teloxide::types::AllowedUpdate] = &[
    teloxide::types::AllowedUpdate::Message,
    teloxide::types::AllowedUpdate::EditedMessage,
    teloxide::types::AllowedUpdate::CallbackQuery,
    teloxide::types::AllowedUpdate::ChatJoinRequest,
    teloxide::types::AllowedUpdate::MyChatMember,
];

/// The one handler tree: private messages, edits and button presses; in groups, commands, join requests and
/// the bot's own membership.
pub fn schema() -> UpdateHandler<teloxide::RequestError> {
    dptree::entry()
        // Frees the update's place in its handling lane once it has been handled (see `intake`).
        .map(|update: Update, gate: std::sync::Arc<intake::Gate>| gate.ticket(&update))
        // An update arrived, so receiving them works (again).
        .chain(dptree::inspect(|ctx: Ctx| {
            ctx.faults.recovered(crate::fault_log::Fault::Intake)
        }))
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_chat_join_request().endpoint(groups::on_join_request))
        .branch(Update::filter_my_chat_member().endpoint(groups::on_my_chat_member))
        .branch(Update::filter_edited_message().endpoint(on_edited_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
}

async fn on_message(bot: Bot, msg: Message, me: Me, ctx: Ctx) -> ResponseResult<()> {
    if msg.chat.is_group() || msg.chat.is_supergroup() {
        groups::on_group_message(&bot, &msg, &me, &ctx).await;
    } else if let Some(incoming) = incoming_from_message(&msg, me.username()) {
        let response = services::handle(&ctx, &incoming).await;
        send::replies(&bot, &ctx.send_budget, msg.chat.id, &response.replies).await;
        if let Some(menu) = &response.menu {
            commands::set_chat_menu(&bot, msg.chat.id, menu).await;
        }
    }
    ctx.metrics.update_handled();
    Ok(())
}

async fn on_edited_message(bot: Bot, msg: Message, ctx: Ctx) -> ResponseResult<()> {
    if let (Some(user), true) = (msg.from.as_ref(), msg.chat.is_private()) {
        let incoming = parse::incoming(user, msg.chat.id.0, None, IncomingKind::Edited);
        let response = services::handle(&ctx, &incoming).await;
        send::replies(&bot, &ctx.send_budget, msg.chat.id, &response.replies).await;
    }
    ctx.metrics.update_handled();
    Ok(())
}

async fn on_callback(bot: Bot, query: CallbackQuery, ctx: Ctx) -> ResponseResult<()> {
    let chat_id = query
        .message
        .as_ref()
        .map(|m| m.chat().id)
        .unwrap_or(ChatId(query.from.id.0 as i64));
    let incoming: Incoming = parse::incoming(
        &query.from,
        chat_id.0,
        None,
        IncomingKind::Button(query.data.clone().unwrap_or_default()),
    );
    let response = services::handle(&ctx, &incoming).await;
    let mut answer = bot.answer_callback_query(query.id.clone());
    if let Some(toast) = &response.toast {
        answer = answer.text(toast.clone());
    }
    if let Err(e) = answer.await {
        log::warn!("answerCallbackQuery for user {}: {e}", query.from.id);
    }
    if let (Some(mark), Some(MaybeInaccessibleMessage::Regular(message))) =
        (&response.mark_pressed, &query.message)
    {
        send::mark_pressed(&bot, &ctx.send_budget, message, mark).await;
    }
    if let (Some(reply), Some(MaybeInaccessibleMessage::Regular(message))) =
        (&response.replace_pressed, &query.message)
    {
        send::replace(&bot, &ctx.send_budget, message, reply).await;
    }
    send::replies(&bot, &ctx.send_budget, chat_id, &response.replies).await;
    if let Some(menu) = &response.menu {
        commands::set_chat_menu(&bot, chat_id, menu).await;
    }
    ctx.metrics.update_handled();
    Ok(())
}
