//! Fathers' peer groups: a father's own group (`/group`, `/rules` in private chat, the "Join your group"
//! button after registration), commands inside the linked Telegram group (`chat`), join requests and the
//! bot's own membership (`members`), and discussion prompts (`prompts`).
mod chat;
pub mod facilitators;
mod members;
pub(crate) mod prompts;

pub use chat::{GroupInput, on_group_command};
pub use facilitators::seed_facilitators;
pub use members::{JoinRequest, on_bot_rights, on_join_request};

use super::{Effects, Turn};
use crate::content::Content;
use crate::db::{DbError, Tx, groups as store, participants};
use crate::domain::groups::{BotRights, PeerGroup, assign_group};
use crate::domain::{Button, Lang, Participant, Reply, Role};
use chrono::{DateTime, Utc};

/// What the services need from Telegram to run a group: the bot's rights, whether a person administers the
/// chat, an invite link with join requests, and deciding a join request. The telegram adapter implements it; the fake Bot API answers in
/// tests. Called outside database transactions.
#[async_trait::async_trait]
pub trait GroupAdmin: Send + Sync {
    async fn bot_rights(&self, chat: i64) -> Result<BotRights, String>;
    /// Whether `user` administers the chat (its creator or an administrator), by `getChatMember`.
    async fn is_chat_admin(&self, chat: i64, user: i64) -> Result<bool, String>;
    async fn create_join_link(&self, chat: i64, name: &str) -> Result<String, String>;
    async fn decide_join(&self, chat: i64, user: i64, approve: bool) -> Result<(), String>;
}

/// A father who chose peer support (peer_group or both).
fn wants_peer_group(p: &Participant) -> bool {
    p.role == Role::Father && matches!(p.wants.as_deref(), Some("peer_group" | "both"))
}

/// The father's group, assigning one (his area's group in his language, else the fallback group) if he has
/// none yet.
async fn group_of<'c>(
    tx: &mut Tx,
    content: &'c Content,
    p: &Participant,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<Option<&'c PeerGroup>, DbError> {
    if let Some(group) = p.group_id.as_deref().and_then(|id| content.group(id)) {
        return Ok(Some(group));
    }
    let Some(group) = assign_group(&content.groups, p.area.as_deref(), lang) else {
        return Ok(None);
    };
    participants::set_group(tx, p.telegram_user_id, Some(&group.id), now).await?;
    log::info!(
        "user {}: assigned to peer group {}",
        p.telegram_user_id,
        group.id
    );
    Ok(Some(group))
}

/// `/group`: the "Join your group" button (an invite link that asks to join), or why there is none yet.
pub(crate) async fn my_group(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    match participants::get(tx, turn.user.telegram_user_id).await? {
        None => out.push(Reply::text(turn.text("problem.not_registered"))),
        Some(p) if !wants_peer_group(&p) => out.push(Reply::text(turn.text("groups.not_peer"))),
        Some(p) => out.extend(join_button(tx, turn, &p).await?),
    }
    Ok(out.ask_again())
}

/// After registration: a father who chose peer support gets his group's join button.
pub(crate) async fn after_registration(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    p: &Participant,
) -> Result<Effects, DbError> {
    if !wants_peer_group(p) {
        return Ok(Effects::default());
    }
    join_button(tx, turn, p).await
}

/// After `/profile` changed his area or interest: a father not yet let into a group is assigned again by his
/// new area, and one who now wants peer support gets his group's join button.
pub(crate) async fn after_profile_change(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    area_changed: bool,
) -> Result<Effects, DbError> {
    let user = turn.user.telegram_user_id;
    let Some(mut p) = participants::get(tx, user).await? else {
        return Ok(Effects::default());
    };
    if area_changed && store::memberships(tx, user).await?.is_empty() {
        participants::set_group(tx, user, None, turn.now).await?;
        p.group_id = None;
    }
    after_registration(tx, turn, &p).await
}

async fn join_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    p: &Participant,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let content = turn.content.clone();
    let now = turn.now;
    let Some(group) = group_of(tx, &content, p, turn.lang(), now).await? else {
        out.push(Reply::text(turn.text("groups.none_available")));
        return Ok(out);
    };
    let name = group.name.get(turn.lang());
    let link = store::link_of_group(tx, &group.id).await?;
    match link.filter(|l| l.active).and_then(|l| l.invite_link) {
        Some(url) => out.push(Reply::with_buttons(
            turn.fill("groups.join", &[("group", name)]),
            vec![vec![Button::url(turn.text("button.groups.join"), url)]],
        )),
        None => out.push(Reply::text(
            turn.fill("groups.not_linked_yet", &[("group", name)]),
        )),
    }
    Ok(out)
}

/// `/rules` in private chat: the rules of the father's group.
pub(crate) async fn my_rules(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let participant = participants::get(tx, turn.user.telegram_user_id).await?;
    let group = participant
        .and_then(|p| p.group_id)
        .and_then(|id| turn.content.group(&id).cloned());
    match group {
        Some(group) => out.push(Reply::text(rules_text(&turn.content, &group, turn.lang()))),
        None => out.push(Reply::text(turn.text("groups.no_group"))),
    }
    Ok(out.ask_again())
}

pub(crate) fn rules_text(content: &Content, group: &PeerGroup, lang: Lang) -> String {
    content.fill(
        lang,
        "groups.rules",
        &[
            ("group", group.name.get(lang)),
            ("rules", group.rules(lang)),
        ],
    )
}

/// /mydata lines: the peer groups the bot let the person into.
pub(crate) async fn my_data_lines(tx: &mut Tx, turn: &Turn<'_>) -> Result<Vec<String>, DbError> {
    let mut lines = Vec::new();
    for (group_id, at) in store::memberships(tx, turn.user.telegram_user_id).await? {
        let name = turn
            .content
            .group(&group_id)
            .map(|g| g.name.get(turn.lang()).to_string())
            .unwrap_or(group_id);
        lines.push(turn.fill(
            "groups.mydata_member",
            &[("group", &name), ("date", &turn.local_time(at))],
        ));
    }
    Ok(lines)
}
