//! Sending services' replies. Failures are logged with context; one failed message does not stop the rest.
//!
//! Flood control: a reply never waits for the outbox's budget (it only records that it was sent, see
//! `crate::send_budget`), but one that Telegram answers with 429 waits `retry_after` and is sent again — in place,
//! so the chat's later replies keep their order behind it (and its handling lane waits meanwhile). The 429
//! also pauses and slows the outbox. A reply is given up only after waiting ten minutes in all.
use crate::domain::message::ButtonAction;
use crate::domain::{Button, Reply};
use crate::send_budget::SendBudget;
use std::future::Future;
use std::time::Duration;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, InputFile};
use tokio::time::Instant;

/// How long one reply may wait for flood control in all before it is given up (and logged).
const MAX_FLOOD_WAIT: Duration = Duration::from_secs(600);

pub fn keyboard(rows: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|row| {
        row.iter()
            .filter_map(|b| match &b.action {
                ButtonAction::Callback(data) => Some(InlineKeyboardButton::callback(
                    b.label.clone(),
                    data.clone(),
                )),
                ButtonAction::Url(url) => url::Url::parse(url)
                    .ok()
                    .map(|u| InlineKeyboardButton::url(b.label.clone(), u)),
            })
            .collect::<Vec<_>>()
    }))
}

pub async fn replies(bot: &Bot, budget: &SendBudget, chat: ChatId, replies: &[Reply]) {
    for reply in replies {
        if let Err(e) =
            obeying_flood_control(budget, chat, true, || reply_one(bot, chat, reply)).await
        {
            log::warn!("reply to chat {}: {e}", chat.0);
        }
    }
}

/// Sends the replies in order, stopping at the first that fails (the caller has another way to answer).
pub async fn try_replies(
    bot: &Bot,
    budget: &SendBudget,
    chat: ChatId,
    replies: &[Reply],
) -> Result<(), RequestError> {
    for reply in replies {
        obeying_flood_control(budget, chat, true, || reply_one(bot, chat, reply)).await?;
    }
    Ok(())
}

/// Makes `request` and, while Telegram answers 429, waits its `retry_after` and makes it again. A request that
/// `creates` a message is recorded in the shared budget (edits are not: Telegram counts messages sent).
async fn obeying_flood_control<T, F, Fut>(
    budget: &SendBudget,
    chat: ChatId,
    creates: bool,
    mut request: F,
) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut waited = Duration::ZERO;
    loop {
        if creates {
            budget.reply_started(Instant::now());
        }
        match request().await {
            Ok(value) => {
                if creates {
                    budget.accepted(Instant::now());
                }
                return Ok(value);
            }
            Err(RequestError::RetryAfter(seconds)) => {
                let wait = seconds.duration().max(Duration::from_secs(1));
                let slowed = budget.too_many(Instant::now(), wait);
                if waited + wait > MAX_FLOOD_WAIT {
                    return Err(RequestError::RetryAfter(seconds));
                }
                log::info!(
                    "reply to chat {}: Telegram asks to wait {} s; it is sent again then{}",
                    chat.0,
                    wait.as_secs(),
                    if slowed { " (outbox slowed down)" } else { "" }
                );
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn reply_one(bot: &Bot, chat: ChatId, reply: &Reply) -> Result<(), RequestError> {
    match reply {
        Reply::Text { text, buttons } if buttons.is_empty() => {
            bot.send_message(chat, text.clone()).await.map(drop)
        }
        Reply::Text { text, buttons } => bot
            .send_message(chat, text.clone())
            .reply_markup(keyboard(buttons))
            .await
            .map(drop),
        Reply::Copy {
            from_chat_id,
            message_id,
        } => bot
            .copy_message(
                chat,
                ChatId(*from_chat_id),
                teloxide::types::MessageId(*message_id as i32),
            )
            .await
            .map(drop),
        Reply::Document(doc) => {
            let file = InputFile::memory(doc.bytes.clone()).file_name(doc.file_name.clone());
            let mut request = bot.send_document(chat, file);
            if let Some(caption) = &doc.caption {
                request = request.caption(caption.clone());
            }
            request.await.map(drop)
        }
        Reply::Photo(photo) => {
            let file = InputFile::memory(photo.bytes.clone()).file_name(photo.file_name.clone());
            let mut request = bot.send_photo(chat, file);
            if let Some(caption) = &photo.caption {
                request = request.caption(caption.clone());
            }
            request.await.map(drop)
        }
    }
}

/// Shows which answer was chosen on the message whose button was pressed, and removes its buttons.
pub async fn mark_pressed(bot: &Bot, budget: &SendBudget, message: &Message, mark: &str) {
    let Some(text) = message.text() else {
        return;
    };
    let new_text = format!("{text}\n\n{mark}");
    let edit = || async {
        bot.edit_message_text(message.chat.id, message.id, new_text.clone())
            .await
    };
    if let Err(e) = obeying_flood_control(budget, message.chat.id, false, edit).await {
        log::debug!("marking pressed button in chat {}: {e}", message.chat.id.0);
    }
}

/// Replaces the text and buttons of a message (a list toggled in place).
pub async fn replace(bot: &Bot, budget: &SendBudget, message: &Message, reply: &Reply) {
    let Reply::Text { text, buttons } = reply else {
        return;
    };
    let edit = || async {
        bot.edit_message_text(message.chat.id, message.id, text.clone())
            .reply_markup(keyboard(buttons))
            .await
    };
    let result = obeying_flood_control(budget, message.chat.id, false, edit).await;
    if let Err(e) = result {
        log::debug!("replacing a message in chat {}: {e}", message.chat.id.0);
    }
}
