//! Peer groups in a story: the Oulu fathers' group, its coordinator, messages in the group, linking it, and
//! what arrived there when.
use crate::bot::{Arrival, SimulatedBot, joined};
use chrono::{DateTime, TimeZone, Utc};
use fake_telegram::{FakeGroup, FakeUser, SentMessage};
use serde_json::json;

pub const COORDINATOR: i64 = 900;

pub fn coordinator() -> FakeUser {
    FakeUser::new(COORDINATOR, "Koordinaattori", Some("fi"))
}

pub fn oulu_group() -> FakeGroup {
    FakeGroup::new(-100_777, "Oulun isät")
}

pub async fn start() -> SimulatedBot {
    SimulatedBot::start_with(&[("COORDINATOR_IDS", "900")]).await
}

/// A message in a group chat; returns what the bot sent to the group meanwhile.
pub async fn in_group(
    bot: &SimulatedBot,
    group: &FakeGroup,
    user: &FakeUser,
    text: &str,
) -> Vec<SentMessage> {
    bot.exchange(group.id, |f| {
        f.send_group_text(group, user, text);
    })
    .await
}

/// The coordinator links the Oulu group; returns the invite link the bot created.
pub async fn link_oulu(bot: &SimulatedBot) -> String {
    set_chat_role(bot, oulu_group().id, COORDINATOR, true);
    let replies = in_group(bot, &oulu_group(), &coordinator(), "/linkgroup isat-oulu").await;
    assert!(
        joined(&replies).contains("Valmista! Tämä ryhmä on nyt Oulun isien vertaisryhmä"),
        "{}",
        joined(&replies)
    );
    let created = bot.fake.requests_to("createChatInviteLink");
    let last = created.last().expect("an invite link was created");
    assert_eq!(
        last.params["creates_join_request"],
        json!(true),
        "{:?}",
        last.params
    );
    assert!(last.params.get("member_limit").is_none());
    sqlx::query_scalar("SELECT invite_link FROM group_links WHERE group_id = 'oulu-isat-fi'")
        .fetch_one(&bot.db)
        .await
        .unwrap()
}

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// The messages that arrived in one chat, with when they arrived and their text.
pub fn arrivals_in(arrivals: &[Arrival], chat: i64) -> Vec<(DateTime<Utc>, String)> {
    arrivals
        .iter()
        .filter(|a| a.message.chat_id == chat)
        .map(|a| (a.at, a.message.text.clone().unwrap_or_default()))
        .collect()
}

/// When each of them arrived.
pub fn times(arrivals: &[(DateTime<Utc>, String)]) -> Vec<DateTime<Utc>> {
    arrivals.iter().map(|(at, _)| *at).collect()
}

/// How many prompts the Oulu group has had (posted or skipped).
pub async fn prompts_recorded(bot: &SimulatedBot) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM group_prompts WHERE group_id = 'oulu-isat-fi'")
        .fetch_one(&bot.db)
        .await
        .unwrap()
}

pub async fn set_bot(bot: &SimulatedBot, group: &FakeGroup, member: serde_json::Value) {
    bot.exchange(group.id, |f| {
        f.set_bot_membership(group, &coordinator(), member)
    })
    .await;
}

pub fn admin(can_invite_users: bool) -> serde_json::Value {
    json!({
        "status": "administrator", "can_be_edited": false, "is_anonymous": false, "can_manage_chat": true,
        "can_change_info": false, "can_delete_messages": true, "can_manage_video_chats": false,
        "can_invite_users": can_invite_users, "can_restrict_members": false, "can_pin_messages": true,
        "can_manage_topics": false, "can_promote_members": false, "can_post_stories": false,
        "can_edit_stories": false, "can_delete_stories": false
    })
}

/// `user` is the chat's creator (`admin = true`: an administrator) or a plain member, as `getChatMember` says.
pub fn set_chat_role(bot: &SimulatedBot, chat: i64, user: i64, admin: bool) {
    let member = if admin {
        serde_json::json!({"status": "creator", "is_anonymous": false})
    } else {
        serde_json::json!({"status": "member"})
    };
    bot.fake.set_chat_member(chat, user, member);
}
