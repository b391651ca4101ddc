//! Chat administration and bot settings: commands, getChat, getChatMember, invite links and
//! join requests.

use super::methods::Outcome;
use super::params::{ApiErr, chat_id, opt_bool, opt_json, opt_str, req_i64};
use super::state::State;
use super::updates;
use serde_json::{Value, json};

fn commands_key(p: &Value) -> (Value, String) {
    let scope = opt_json(p, "scope").unwrap_or_else(|| json!({"type": "default"}));
    (
        scope,
        opt_str(p, "language_code").unwrap_or_default().to_owned(),
    )
}

pub(super) fn set_my_commands(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let commands = opt_json(p, "commands")
        .filter(Value::is_array)
        .ok_or_else(|| ApiErr::bad_request("parameter \"commands\" is required"))?;
    for command in commands.as_array().into_iter().flatten() {
        let name = command
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let valid_name = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(ApiErr::bad_request("BOT_COMMAND_INVALID"));
        }
        let description = command
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if description.trim().is_empty() || description.chars().count() > 256 {
            return Err(ApiErr::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
    }
    st.commands_set.push(p.clone());
    let key = commands_key(p);
    st.commands.retain(|(s, l, _)| (s, l) != (&key.0, &key.1));
    st.commands.push((key.0, key.1, commands));
    Ok(Outcome::plain(json!(true)))
}

pub(super) fn get_or_delete_commands(
    st: &mut State,
    method_lc: &str,
    p: &Value,
) -> Result<Outcome, ApiErr> {
    let key = commands_key(p);
    let found = st
        .commands
        .iter()
        .position(|(s, l, _)| (s, l) == (&key.0, &key.1));
    if method_lc == "deletemycommands" {
        if let Some(i) = found {
            st.commands.remove(i);
        }
        return Ok(Outcome::plain(json!(true)));
    }
    let commands = found
        .map(|i| st.commands[i].2.clone())
        .unwrap_or_else(|| json!([]));
    Ok(Outcome::plain(commands))
}

pub(super) fn join_decision(st: &mut State, method_lc: &str, p: &Value) -> Result<Outcome, ApiErr> {
    let chat = chat_id(p)?;
    let user = req_i64(p, "user_id")?;
    if !st.join_requests.remove(&(chat, user)) {
        return Err(ApiErr::bad_request("HIDE_REQUESTER_MISSING"));
    }
    if method_lc == "approvechatjoinrequest" {
        let member = json!({"user": st.user(user).to_json(), "status": "member"});
        st.chat_members.insert((chat, user), member);
    }
    Ok(Outcome::plain(json!(true)))
}

pub(super) fn get_chat(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let mut chat = st.chat_json(chat_id(p)?);
    chat["accepted_gift_types"] = json!({
        "unlimited_gifts": false,
        "limited_gifts": false,
        "unique_gifts": false,
        "premium_subscription": false,
    });
    chat["max_reaction_count"] = json!(11);
    Ok(Outcome::plain(chat))
}

pub(super) fn get_chat_member(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let chat = chat_id(p)?;
    let user = req_i64(p, "user_id")?;
    let member = match st.chat_members.get(&(chat, user)) {
        Some(configured) => {
            let mut member = configured.clone();
            if member.get("user").is_none() && member.is_object() {
                member["user"] = if user == super::FAKE_BOT_ID {
                    updates::bot_user()
                } else {
                    st.user(user).to_json()
                };
            }
            member
        }
        None if user == super::FAKE_BOT_ID => updates::bot_admin_member(),
        None => json!({"user": st.user(user).to_json(), "status": "member"}),
    };
    Ok(Outcome::plain(member))
}

pub(super) fn create_invite_link(st: &mut State, p: &Value) -> Result<Outcome, ApiErr> {
    let chat = chat_id(p)?;
    let bot = st.bot_member(chat);
    let may_invite = match bot.get("status").and_then(Value::as_str) {
        Some("creator") => true,
        Some("administrator") => bot.get("can_invite_users").and_then(Value::as_bool) == Some(true),
        _ => false,
    };
    if !may_invite {
        return Err(ApiErr::bad_request(
            "not enough rights to manage chat invite link",
        ));
    }
    st.next_invite += 1;
    let mut link = json!({
        "invite_link": format!("https://t.me/+FAKE{}x{}", chat.unsigned_abs(), st.next_invite),
        "creator": updates::bot_user(),
        "creates_join_request": opt_bool(p, "creates_join_request"),
        "is_primary": false,
        "is_revoked": false,
    });
    for key in ["name", "expire_date", "member_limit"] {
        if let Some(value) = p.get(key).filter(|v| !v.is_null()) {
            link[key] = value.clone();
        }
    }
    Ok(Outcome::plain(link))
}
