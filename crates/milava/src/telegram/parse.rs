//! Telegram updates → `services::Incoming`. Only private chats are handled here.
use crate::domain::commands::Command;
use crate::services::{Incoming, IncomingKind};
use teloxide::types::{MediaKind, Message, MessageKind, User};

pub fn incoming(
    user: &User,
    chat_id: i64,
    message_id: Option<i64>,
    kind: IncomingKind,
) -> Incoming {
    Incoming {
        user_id: user.id.0 as i64,
        chat_id,
        first_name: user.first_name.clone(),
        language_code: user.language_code.clone(),
        message_id,
        kind,
    }
}

/// A private message as input; `None` for messages the bot ignores (groups, service messages, other bots).
pub fn incoming_from_message(msg: &Message, bot_username: &str) -> Option<Incoming> {
    let user = msg.from.as_ref().filter(|u| !u.is_bot)?;
    if !msg.chat.is_private() {
        return None;
    }
    let kind = match &msg.kind {
        MessageKind::Common(common) => match &common.media_kind {
            MediaKind::Text(text) => text_or_command(&text.text, bot_username),
            other => IncomingKind::Media(media_name(other).to_string()),
        },
        // Content this teloxide version cannot parse still deserves an answer.
        MessageKind::Empty {} => IncomingKind::Media("other".to_string()),
        _ => return None,
    };
    Some(incoming(
        user,
        msg.chat.id.0,
        Some(i64::from(msg.id.0)),
        kind,
    ))
}

/// `/name@bot args` → a command (the name lower-cased and parsed, the bot's own @username removed); anything
/// else is text.
pub fn text_or_command(text: &str, bot_username: &str) -> IncomingKind {
    let Some(rest) = text.strip_prefix('/') else {
        return IncomingKind::Text(text.to_string());
    };
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = match head.split_once('@') {
        Some((name, to)) if to.eq_ignore_ascii_case(bot_username) => name,
        Some(_) => return IncomingKind::Text(text.to_string()),
        None => head,
    };
    if name.is_empty() {
        return IncomingKind::Text(text.to_string());
    }
    let name = name.to_lowercase();
    match Command::from_name(&name) {
        Some(command) => IncomingKind::Command {
            command,
            args: args.trim().to_string(),
        },
        None => IncomingKind::UnknownCommand(name),
    }
}

fn media_name(kind: &MediaKind) -> &'static str {
    match kind {
        MediaKind::Animation(_) => "animation",
        MediaKind::Audio(_) => "audio",
        MediaKind::Contact(_) => "contact",
        MediaKind::Document(_) => "document",
        MediaKind::Location(_) | MediaKind::Venue(_) => "location",
        MediaKind::Photo(_) => "photo",
        MediaKind::Poll(_) => "poll",
        MediaKind::Sticker(_) => "sticker",
        MediaKind::Video(_) => "video",
        MediaKind::VideoNote(_) => "video_note",
        MediaKind::Voice(_) => "voice",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_and_other_bots_ignored() {
        let cmd = |name: &str, args: &str| IncomingKind::Command {
            command: Command::from_name(name).unwrap(),
            args: args.into(),
        };
        assert_eq!(
            text_or_command("/start oulu-kevat24", "milava_bot"),
            cmd("start", "oulu-kevat24")
        );
        assert_eq!(
            text_or_command("/Help@Milava_Bot", "milava_bot"),
            cmd("help", "")
        );
        assert_eq!(
            text_or_command("/help@other_bot", "milava_bot"),
            IncomingKind::Text("/help@other_bot".into())
        );
        assert_eq!(
            text_or_command("hello", "milava_bot"),
            IncomingKind::Text("hello".into())
        );
        assert_eq!(
            text_or_command("/Nonsense x", "milava_bot"),
            IncomingKind::UnknownCommand("nonsense".into())
        );
        assert_eq!(
            text_or_command("/", "milava_bot"),
            IncomingKind::Text("/".into())
        );
    }
}
