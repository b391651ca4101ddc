//! One outbox payload as one Bot API request.
use crate::domain::outbox::Payload;
use crate::telegram::keyboard;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{InputFile, MessageId};

/// Sends `payload` to `chat_id`; returns the id of the message Telegram created.
pub async fn send(bot: &Bot, chat_id: i64, payload: &Payload) -> Result<i64, RequestError> {
    let chat = ChatId(chat_id);
    let id = match payload {
        Payload::Text { text, buttons } => {
            let mut request = bot.send_message(chat, text.clone());
            if !buttons.is_empty() {
                request = request.reply_markup(keyboard(buttons));
            }
            request.await?.id
        }
        Payload::Copy {
            from_chat_id,
            message_id,
        } => {
            // An id beyond i32 cannot exist; Telegram answers "message to copy not found" for 0.
            let message_id = MessageId(i32::try_from(*message_id).unwrap_or(0));
            bot.copy_message(chat, ChatId(*from_chat_id), message_id)
                .await?
        }
        Payload::Document {
            file_name,
            caption,
            bytes,
        } => {
            let file = InputFile::memory(bytes.clone()).file_name(file_name.clone());
            let mut request = bot.send_document(chat, file);
            if let Some(caption) = caption {
                request = request.caption(caption.clone());
            }
            request.await?.id
        }
        Payload::Email { .. } => {
            // The worker's email lane takes these rows; one here is a bug, refused like a bad request.
            return Err(RequestError::Api(teloxide::ApiError::Unknown(
                "Bad Request: an email row reached the Telegram sender".into(),
            )));
        }
    };
    Ok(i64::from(id.0))
}
