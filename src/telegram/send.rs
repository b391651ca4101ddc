//! Sending services' replies. Failures are logged with context; one failed message does not stop the rest.
use crate::domain::message::ButtonAction;
use crate::domain::{Button, Reply};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, InputFile};

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

pub async fn replies(bot: &Bot, chat: ChatId, replies: &[Reply]) {
    for reply in replies {
        if let Err(e) = reply_one(bot, chat, reply).await {
            log::warn!("reply to chat {}: {e}", chat.0);
        }
    }
}

/// Sends the replies in order, stopping at the first that fails (the caller has another way to answer).
pub async fn try_replies(
    bot: &Bot,
    chat: ChatId,
    replies: &[Reply],
) -> Result<(), teloxide::RequestError> {
    for reply in replies {
        reply_one(bot, chat, reply).await?;
    }
    Ok(())
}

async fn reply_one(bot: &Bot, chat: ChatId, reply: &Reply) -> Result<(), teloxide::RequestError> {
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
pub async fn mark_pressed(bot: &Bot, message: &Message, mark: &str) {
    let Some(text) = message.text() else {
        return;
    };
    let new_text = format!("{text}\n\n{mark}");
    if let Err(e) = bot
        .edit_message_text(message.chat.id, message.id, new_text)
        .await
    {
        log::debug!("marking pressed button in chat {}: {e}", message.chat.id.0);
    }
}

/// Replaces the text and buttons of a message (a list toggled in place).
pub async fn replace(bot: &Bot, message: &Message, reply: &Reply) {
    let Reply::Text { text, buttons } = reply else {
        return;
    };
    let result = bot
        .edit_message_text(message.chat.id, message.id, text.clone())
        .reply_markup(keyboard(buttons))
        .await;
    if let Err(e) = result {
        log::debug!("replacing a message in chat {}: {e}", message.chat.id.0);
    }
}
