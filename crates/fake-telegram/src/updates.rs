//! Builders for the JSON objects Telegram sends in updates and results.

use super::types::{FakeGroup, FakeUser};
use super::{FAKE_BOT_ID, FAKE_BOT_USERNAME};
use serde_json::{Map, Value, json};

/// Current unix time.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The bot as a `User`.
pub(crate) fn bot_user() -> Value {
    json!({"id": FAKE_BOT_ID, "is_bot": true, "first_name": "Milava Test Bot", "username": FAKE_BOT_USERNAME})
}

/// The result of `getMe`: a `User` plus the bot-only fields teloxide's `Me` requires.
pub(crate) fn me() -> Value {
    let mut me = bot_user();
    for (key, value) in [
        ("can_join_groups", true),
        ("can_read_all_group_messages", false),
        ("supports_inline_queries", false),
        ("can_connect_to_business", false),
        ("has_main_web_app", false),
    ] {
        me[key] = json!(value);
    }
    me
}

pub(crate) fn private_chat(user: &FakeUser) -> Value {
    let mut chat = json!({"id": user.id, "type": "private", "first_name": user.first_name});
    if let Some(username) = &user.username {
        chat["username"] = json!(username);
    }
    chat
}

pub(crate) fn group_chat(group: &FakeGroup) -> Value {
    json!({"id": group.id, "type": "supergroup", "title": group.title})
}

/// `text` plus a `bot_command` entity when the text starts with '/'.
pub(crate) fn text_fields(text: &str) -> Value {
    let mut fields = json!({"text": text});
    if text.starts_with('/') {
        let command = text.split_whitespace().next().unwrap_or(text);
        let length = command.encode_utf16().count();
        fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
    }
    fields
}

/// A message from `user` in `chat`, with `fields` (text, sticker, photo, ...) merged in.
pub(crate) fn user_message(
    message_id: i64,
    user: &FakeUser,
    chat: Value,
    date: i64,
    fields: Value,
) -> Value {
    let mut message = Map::new();
    message.insert("message_id".to_owned(), json!(message_id));
    message.insert("from".to_owned(), user.to_json());
    message.insert("chat".to_owned(), chat);
    message.insert("date".to_owned(), json!(date));
    if let Value::Object(fields) = fields {
        message.extend(fields);
    }
    Value::Object(message)
}

/// A `callback_query` from `user` on `message`.
pub(crate) fn callback_query(id: &str, user: &FakeUser, message: Value, data: &str) -> Value {
    let chat_instance = message
        .pointer("/chat/id")
        .and_then(Value::as_i64)
        .map(|chat| format!("{}", chat.unsigned_abs().wrapping_mul(7919)))
        .unwrap_or_else(|| "0".to_owned());
    json!({
        "id": id,
        "from": user.to_json(),
        "message": message,
        "chat_instance": chat_instance,
        "data": data,
    })
}

/// A message that is too old to be shown (`InaccessibleMessage`, `date` 0).
pub(crate) fn inaccessible_message(chat: Value, message_id: i64) -> Value {
    json!({"chat": chat, "message_id": message_id, "date": 0})
}

/// A `chat_join_request` of `user` to `group`.
pub(crate) fn join_request(group: &FakeGroup, user: &FakeUser, invite_link: Option<&str>) -> Value {
    let mut request = json!({
        "chat": group_chat(group),
        "from": user.to_json(),
        "user_chat_id": user.id,
        "date": now(),
    });
    if let Some(link) = invite_link {
        request["invite_link"] = json!({
            "invite_link": link,
            "creator": bot_user(),
            "creates_join_request": true,
            "is_primary": false,
            "is_revoked": false,
        });
    }
    request
}

/// A `my_chat_member` update for the bot in `user`'s private chat (e.g. blocked: "kicked").
pub(crate) fn my_chat_member(user: &FakeUser, old_status: &str, new_status: &str) -> Value {
    let member = |status: &str| {
        let mut m = json!({"user": bot_user(), "status": status});
        if status == "kicked" {
            m["until_date"] = json!(0);
        }
        m
    };
    json!({
        "chat": private_chat(user),
        "from": user.to_json(),
        "date": now(),
        "old_chat_member": member(old_status),
        "new_chat_member": member(new_status),
    })
}

/// A `my_chat_member` update for the bot in a group: `from` changed the bot's membership to `new_member`.
pub(crate) fn my_chat_member_in_group(
    group: &FakeGroup,
    from: &FakeUser,
    old_member: Value,
    new_member: Value,
) -> Value {
    json!({
        "chat": group_chat(group),
        "from": from.to_json(),
        "date": now(),
        "old_chat_member": old_member,
        "new_chat_member": new_member,
    })
}

/// The key naming an update's kind (`message`, `callback_query`, ...).
pub(crate) fn update_kind(update: &Value) -> Option<&str> {
    update
        .as_object()?
        .keys()
        .map(String::as_str)
        .find(|k| *k != "update_id")
}

/// `ChatMember` for the bot itself: an administrator that may invite users.
pub(crate) fn bot_admin_member() -> Value {
    json!({
        "user": bot_user(),
        "status": "administrator",
        "can_be_edited": false,
        "is_anonymous": false,
        "can_manage_chat": true,
        "can_change_info": false,
        "can_delete_messages": true,
        "can_manage_video_chats": false,
        "can_invite_users": true,
        "can_restrict_members": true,
        "can_pin_messages": true,
        "can_manage_topics": false,
        "can_promote_members": false,
        "can_post_stories": false,
        "can_edit_stories": false,
        "can_delete_stories": false,
    })
}
