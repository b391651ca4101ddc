//! The Bot API methods (all but `getUpdates`, which long-polls and lives in `server.rs`).

use super::chat_admin::{
    create_invite_link, get_chat, get_chat_member, get_or_delete_commands, join_decision,
    set_my_commands,
};
use super::params::{ApiErr, chat_id, opt_bool, opt_i64, opt_json, opt_str, req_i64};
use super::state::State;
use super::types::{FakeEvent, RecordedRequest, SentKind, SentMessage};
use super::updates;
use super::validate::{check_reply_markup, check_text};
use serde_json::{Value, json};

/// A successful answer and what it changed.
pub(crate) struct Outcome {
    pub result: Value,
    pub events: Vec<FakeEvent>,
}

impl Outcome {
    pub(super) fn plain(result: Value) -> Self {
        Outcome {
            result,
            events: Vec::new(),
        }
    }
}

/// Methods that create a message and count against flood limits.
pub(crate) fn is_send(method_lc: &str) -> bool {
    (method_lc.starts_with("send") && method_lc != "sendchataction")
        || method_lc == "copymessage"
        || method_lc == "forwardmessage"
}

/// Methods a per-chat failure (`set_chat_failure`) applies to.
pub(crate) fn is_chat_scoped(method_lc: &str) -> bool {
    method_lc.starts_with("send") || method_lc.starts_with("edit") || method_lc == "copymessage"
}

pub(crate) fn call(
    st: &mut State,
    method_lc: &str,
    req: &RecordedRequest,
) -> Result<Outcome, ApiErr> {
    let p = &req.params;
    match method_lc {
        "getme" => Ok(Outcome::plain(updates::me())),
        "close" | "logout" | "sendchataction" => {
            if method_lc == "sendchataction" {
                chat_id(p)?;
                opt_str(p, "action").ok_or_else(|| ApiErr::bad_request("action is empty"))?;
            }
            Ok(Outcome::plain(json!(true)))
        }
        "deletewebhook" => {
            st.webhook_url.clear();
            if opt_bool(p, "drop_pending_updates") {
                st.queue.clear();
            }
            Ok(Outcome::plain(json!(true)))
        }
        "setwebhook" => {
            st.webhook_url = opt_str(p, "url").unwrap_or_default().to_owned();
            Ok(Outcome::plain(json!(true)))
        }
        "getwebhookinfo" => Ok(Outcome::plain(json!({
            "url": st.webhook_url,
            "has_custom_certificate": false,
            "pending_update_count": st.queue.len(),
        }))),
        "setmycommands" => set_my_commands(st, p),
        "getmycommands" | "deletemycommands" => get_or_delete_commands(st, method_lc, p),
        "sendmessage" => send_message(st, p),
        "senddocument" => send_file(st, req, SentKind::Document, "document"),
        "sendphoto" => send_file(st, req, SentKind::Photo, "photo"),
        "copymessage" => copy_message(st, p),
        "editmessagetext" | "editmessagecaption" | "editmessagereplymarkup" => {
            edit(st, method_lc, p)
        }
        "deletemessage" => delete_message(st, p),
        "answercallbackquery" => answer_callback(st, p),
        "getchat" => get_chat(st, p),
        "getchatmember" => get_chat_member(st, p),
        "createchatinvitelink" => create_invite_link(st, p),
        "approvechatjoinrequest" | "declinechatjoinrequest" => join_decision(st, method_lc, p),
        _ => Err(ApiErr::not_found()),
    }
}

fn reply_markup(p: &Value) -> Result<Option<Value>, ApiErr> {
    let markup = opt_json(p, "reply_markup");
    if let Some(markup) = &markup {
        check_reply_markup(markup)?;
    }
    Ok(markup)
}

/// Stores a new bot message and answers with its `Message` object.
fn created(st: &mut State, message: SentMessage) -> Outcome {
    let result = st.message_json(&message);
    if st.keeps(message.chat_id) {
        st.sent.push(message.clone());
    }
    Outcome {
        result,
        events: vec![FakeEvent::MessageSent(message)],
    }
}

fn send_message(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let chat = chat_id(p)?;
    let text = opt_str(p, "text").ok_or_else(|| ApiErr::bad_request("message text is empty"))?;
    let parse_mode = opt_str(p, "parse_mode");
    check_text(text, parse_mode, false)?;
    let reply_markup = reply_markup(p)?;
    let message = SentMessage {
        message_id: st.alloc_message_id(chat),
        chat_id: chat,
        text: Some(text.to_owned()),
        parse_mode: parse_mode.map(str::to_owned),
        reply_markup,
        document: None,
        file_id: None,
        kind: SentKind::Text,
        edited: false,
        deleted: false,
        date: updates::now(),
        received_at: std::time::Instant::now(),
    };
    Ok(created(st, message))
}

fn send_file(
    st: &mut State,
    req: &RecordedRequest,
    kind: SentKind,
    field: &str,
) -> Result<Outcome, ApiErr> {
    let p = &req.params;
    let chat = chat_id(p)?;
    let uploaded = req.files.iter().find(|f| f.field == field).cloned();
    let (document, file_id) = match (uploaded, opt_str(p, field)) {
        (Some(file), _) => {
            if file.bytes.is_empty() {
                return Err(ApiErr::bad_request("file must be non-empty"));
            }
            let id = st.store_file(file.clone());
            (Some(file), id)
        }
        (None, Some(reference)) if !reference.starts_with("attach://") => {
            (st.files.get(reference).cloned(), reference.to_owned())
        }
        _ => {
            return Err(ApiErr::bad_request(format!(
                "there is no {field} in the request"
            )));
        }
    };
    let caption = opt_str(p, "caption");
    let parse_mode = opt_str(p, "parse_mode");
    if let Some(caption) = caption {
        check_text(caption, parse_mode, true)?;
    }
    let reply_markup = reply_markup(p)?;
    let message = SentMessage {
        message_id: st.alloc_message_id(chat),
        chat_id: chat,
        text: caption.map(str::to_owned),
        parse_mode: parse_mode.map(str::to_owned),
        reply_markup,
        document,
        file_id: Some(file_id),
        kind,
        edited: false,
        deleted: false,
        date: updates::now(),
        received_at: std::time::Instant::now(),
    };
    Ok(created(st, message))
}

fn copy_message(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let chat = chat_id(p)?;
    let from_chat_id =
        opt_i64(p, "from_chat_id").ok_or_else(|| ApiErr::bad_request("from_chat_id is empty"))?;
    let message_id = req_i64(p, "message_id")?;
    let (text, document, file_id) =
        if let Some(user_msg) = st.user_messages.get(&(from_chat_id, message_id)) {
            let text = user_msg.get("text").or_else(|| user_msg.get("caption"));
            (text.and_then(Value::as_str).map(str::to_owned), None, None)
        } else if let Some(i) = st.sent_index(from_chat_id, message_id) {
            let original = &st.sent[i];
            (
                original.text.clone(),
                original.document.clone(),
                original.file_id.clone(),
            )
        } else {
            return Err(ApiErr::bad_request("message to copy not found"));
        };
    let caption = opt_str(p, "caption");
    let parse_mode = opt_str(p, "parse_mode");
    if let Some(caption) = caption {
        check_text(caption, parse_mode, true)?;
    }
    let message = SentMessage {
        message_id: st.alloc_message_id(chat),
        chat_id: chat,
        text: caption.map(str::to_owned).or(text),
        parse_mode: parse_mode.map(str::to_owned),
        reply_markup: reply_markup(p)?,
        document,
        file_id,
        kind: SentKind::Copy {
            from_chat_id,
            message_id,
        },
        edited: false,
        deleted: false,
        date: updates::now(),
        received_at: std::time::Instant::now(),
    };
    let new_id = message.message_id;
    let mut outcome = created(st, message);
    outcome.result = json!({"message_id": new_id});
    Ok(outcome)
}

/// An empty inline keyboard is the same as none.
fn normalized_markup(markup: Option<&Value>) -> Option<&Value> {
    markup.filter(|m| {
        m.get("inline_keyboard")
            .and_then(Value::as_array)
            .is_none_or(|rows| !rows.is_empty())
    })
}

fn edit(st: &mut State, method_lc: &str, p: &Value) -> Result<Outcome, ApiErr> {
    if opt_str(p, "inline_message_id").is_some() {
        return Ok(Outcome::plain(json!(true)));
    }
    let chat = chat_id(p)?;
    let message_id = req_i64(p, "message_id")?;
    let Some(index) = st.sent_index(chat, message_id) else {
        if st.user_messages.contains_key(&(chat, message_id)) {
            return Err(ApiErr::bad_request("message can't be edited"));
        }
        return Err(ApiErr::bad_request("message to edit not found"));
    };
    let new_markup = reply_markup(p)?;
    if new_markup
        .as_ref()
        .is_some_and(|m| m.get("inline_keyboard").is_none())
    {
        return Err(ApiErr::bad_request("inline keyboard expected"));
    }
    let old = st.sent[index].clone();
    let has_media = old.file_id.is_some();
    let mut new = old.clone();
    match method_lc {
        "editmessagetext" => {
            if has_media {
                return Err(ApiErr::bad_request(
                    "there is no text in the message to edit",
                ));
            }
            let text =
                opt_str(p, "text").ok_or_else(|| ApiErr::bad_request("message text is empty"))?;
            let parse_mode = opt_str(p, "parse_mode");
            check_text(text, parse_mode, false)?;
            new.text = Some(text.to_owned());
            new.parse_mode = parse_mode.map(str::to_owned);
        }
        "editmessagecaption" => {
            if !has_media {
                return Err(ApiErr::bad_request(
                    "there is no caption in the message to edit",
                ));
            }
            let caption = opt_str(p, "caption");
            let parse_mode = opt_str(p, "parse_mode");
            if let Some(caption) = caption {
                check_text(caption, parse_mode, true)?;
            }
            new.text = caption.map(str::to_owned);
            new.parse_mode = parse_mode.map(str::to_owned);
        }
        _ => {}
    }
    new.reply_markup = new_markup;
    let unchanged = new.text == old.text
        && new.parse_mode == old.parse_mode
        && normalized_markup(new.reply_markup.as_ref())
            == normalized_markup(old.reply_markup.as_ref());
    if unchanged {
        return Err(ApiErr::bad_request(
            "message is not modified: specified new message content and reply markup are exactly \
             the same as a current content and reply markup of the message",
        ));
    }
    new.edited = true;
    st.sent[index] = new.clone();
    let result = st.message_json(&new);
    Ok(Outcome {
        result,
        events: vec![FakeEvent::MessageEdited(new)],
    })
}

fn delete_message(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let chat = chat_id(p)?;
    let message_id = req_i64(p, "message_id")?;
    if let Some(index) = st.sent_index(chat, message_id) {
        st.sent[index].deleted = true;
    } else if st.user_messages.remove(&(chat, message_id)).is_none() {
        return Err(ApiErr::bad_request("message to delete not found"));
    }
    Ok(Outcome {
        result: json!(true),
        events: vec![FakeEvent::MessageDeleted {
            chat_id: chat,
            message_id,
        }],
    })
}

fn answer_callback(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let id = opt_str(p, "callback_query_id")
        .unwrap_or_default()
        .to_owned();
    let text = opt_str(p, "text").map(str::to_owned);
    let show_alert = opt_bool(p, "show_alert");
    match st.callbacks.get_mut(&id) {
        Some(answer @ None) => *answer = Some((text.clone(), show_alert)),
        _ => {
            return Err(ApiErr::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            ));
        }
    }
    Ok(Outcome {
        result: json!(true),
        events: vec![FakeEvent::CallbackAnswered {
            id,
            text,
            show_alert,
        }],
    })
}
