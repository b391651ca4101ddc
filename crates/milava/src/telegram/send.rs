//! The one place that calls Telegram's send and edit methods: `send_one` turns one `Reply` (the one outgoing
//! message type) into its Bot API request, for services' replies here and for the delivery worker's outbox
//! rows alike. Replies' failures are logged with context; one failed message does not stop the rest.
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
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId};
use teloxide::{ApiError, Bot};
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

/// Sends `message` to `chat`; returns the id of the message Telegram created (or edited). An edit that
/// changes nothing ("message is not modified") has done its work.
pub async fn send_one(bot: &Bot, chat: ChatId, message: &Reply) -> Result<i64, RequestError> {
    let id = match message {
        Reply::Text { text, buttons } => {
            let mut request = bot.send_message(chat, text.clone());
            if !buttons.is_empty() {
                request = request.reply_markup(keyboard(buttons));
            }
            request.await?.id
        }
        Reply::Copy {
            from_chat_id,
            message_id,
        } => {
            bot.copy_message(chat, ChatId(*from_chat_id), message_id_of(*message_id))
                .await?
        }
        Reply::Document(doc) => {
            let file = InputFile::memory(doc.bytes.clone()).file_name(doc.file_name.clone());
            let mut request = bot.send_document(chat, file);
            if let Some(caption) = &doc.caption {
                request = request.caption(caption.clone());
            }
            request.await?.id
        }
        Reply::Photo(photo) => {
            let file = InputFile::memory(photo.bytes.clone()).file_name(photo.file_name.clone());
            let mut request = bot.send_photo(chat, file);
            if let Some(caption) = &photo.caption {
                request = request.caption(caption.clone());
            }
            request.await?.id
        }
        Reply::Edit {
            message_id,
            text,
            buttons,
        } => {
            let id = message_id_of(*message_id);
            let mut request = bot.edit_message_text(chat, id, text.clone());
            if !buttons.is_empty() {
                request = request.reply_markup(keyboard(buttons));
            }
            match request.await {
                Ok(edited) => edited.id,
                Err(RequestError::Api(ApiError::MessageNotModified)) => id,
                Err(e) => return Err(e),
            }
        }
    };
    Ok(i64::from(id.0))
}

/// A stored message id as Telegram's. An id beyond i32 cannot exist; Telegram answers "message not found"
/// for 0.
fn message_id_of(id: i64) -> MessageId {
    MessageId(i32::try_from(id).unwrap_or(0))
}

pub async fn replies(bot: &Bot, budget: &SendBudget, chat: ChatId, replies: &[Reply]) {
    for reply in replies {
        if let Err(e) =
            obeying_flood_control(budget, chat, creates(reply), || send_one(bot, chat, reply)).await
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
        obeying_flood_control(budget, chat, creates(reply), || send_one(bot, chat, reply)).await?;
    }
    Ok(())
}

/// Whether sending `message` creates a message (what Telegram's flood limits count; an edit does not).
fn creates(message: &Reply) -> bool {
    !matches!(message, Reply::Edit { .. })
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
        let started = if creates {
            let now = Instant::now();
            let slot = budget.reply_slot(now);
            if let Some(at) = slot {
                tokio::time::sleep_until(at).await;
            }
            Some(slot.unwrap_or(now))
        } else {
            None
        };
        match request().await {
            Ok(value) => {
                if let Some(started) = started {
                    budget.accepted(started, Instant::now());
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

/// Shows which answer was chosen on the message whose button was pressed, and removes its buttons.
pub async fn mark_pressed(bot: &Bot, budget: &SendBudget, message: &Message, mark: &str) {
    let Some(text) = message.text() else {
        return;
    };
    let edit = Reply::Edit {
        message_id: i64::from(message.id.0),
        text: format!("{text}\n\n{mark}"),
        buttons: Vec::new(),
    };
    let chat = message.chat.id;
    if let Err(e) = obeying_flood_control(budget, chat, false, || send_one(bot, chat, &edit)).await
    {
        log::debug!("marking pressed button in chat {}: {e}", chat.0);
    }
}

/// Replaces the text and buttons of a message (a list toggled in place).
pub async fn replace(bot: &Bot, budget: &SendBudget, message: &Message, reply: &Reply) {
    let Reply::Text { text, buttons } = reply else {
        return;
    };
    let edit = Reply::Edit {
        message_id: i64::from(message.id.0),
        text: text.clone(),
        buttons: buttons.clone(),
    };
    let chat = message.chat.id;
    let result = obeying_flood_control(budget, chat, false, || send_one(bot, chat, &edit)).await;
    if let Err(e) = result {
        log::debug!("replacing a message in chat {}: {e}", chat.0);
    }
}
