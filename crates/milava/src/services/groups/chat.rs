//! Commands inside a Telegram group: `/linkgroup`, `/rules`, `/apua`, and the facilitators' prompt commands.
//! The bot reads nothing else in groups and stores no group message.
use super::facilitators::may_facilitate;
use super::{GroupAdmin, prompts, rules_text};
use crate::db::{self, DbError, audit, groups as store};
use crate::domain::commands::Command;
use crate::domain::groups::PeerGroup;
use crate::domain::{Lang, Reply};
use crate::services::{Ctx, Response, help_now};

/// A command someone gave in a group chat, parsed at the boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInput {
    pub chat_id: i64,
    pub user_id: i64,
    pub language_code: Option<String>,
    /// A command the bot answers in groups (`Command::access`).
    pub command: Command,
    pub args: String,
    /// The bot's @username, for links to its private chat.
    pub bot_username: String,
}

/// Answers a group command; anything the bot does not handle in groups gets no answer. Never fails: a storage
/// problem becomes a polite answer in the group.
pub async fn on_group_command(ctx: &Ctx, admin: &dyn GroupAdmin, input: &GroupInput) -> Response {
    if !input.command.access().answered_in.group() {
        return Response::default();
    }
    match handle(ctx, admin, input).await {
        Ok(response) => response,
        Err(e) => {
            log::error!(
                "group {}: /{} from user {} failed: {e}",
                input.chat_id,
                input.command.name(),
                input.user_id
            );
            let lang =
                Lang::from_telegram(input.language_code.as_deref(), ctx.config.default_language);
            reply(ctx.content.get().text(lang, "problem.save_failed"))
        }
    }
}

fn reply(text: impl Into<String>) -> Response {
    Response {
        replies: vec![Reply::text(text)],
        ..Response::default()
    }
}

async fn handle(
    ctx: &Ctx,
    admin: &dyn GroupAdmin,
    input: &GroupInput,
) -> Result<Response, DbError> {
    let content = ctx.content.get();
    let user_lang =
        Lang::from_telegram(input.language_code.as_deref(), ctx.config.default_language);
    if matches!(input.command, Command::Apua | Command::HelpNow) {
        return Ok(help_now::in_group(&content, user_lang, &input.bot_username));
    }
    if input.command == Command::LinkGroup {
        return link(ctx, admin, input, user_lang).await;
    }
    let mut tx = db::begin_write(&ctx.pool).await?;
    let linked = store::link_of_chat(&mut tx, input.chat_id).await?;
    let Some((link, group)) =
        linked.and_then(|l| content.group(&l.group_id).cloned().map(|g| (l, g)))
    else {
        return Ok(reply(content.text(user_lang, "groups.not_linked")));
    };
    let lang = group.language;
    if input.command == Command::Rules {
        return Ok(reply(rules_text(&content, &group, lang)));
    }
    if !may_facilitate(ctx, &mut tx, &group, input.user_id).await? {
        log::warn!(
            "refused facilitator command /{} from user {} in group {}",
            input.command.name(),
            input.user_id,
            group.id
        );
        return Ok(reply(content.text(lang, "groups.facilitators_only")));
    }
    if !link.active {
        return Ok(reply(content.text(lang, "groups.inactive")));
    }
    let response = prompts::command(ctx, &mut tx, &content, &group, &link, input.command).await?;
    tx.commit().await?;
    ctx.outbox.wake();
    ctx.scheduler.wake();
    Ok(response)
}

/// Why `/linkgroup` may not (re)link a chat that is already linked to another peer group: the person must
/// facilitate that group too (or be a coordinator). Returns the other group's name in `lang` when refused.
async fn takeover_refused(
    ctx: &Ctx,
    tx: &mut db::Tx,
    content: &crate::content::Content,
    current: Option<&store::GroupLink>,
    target: &PeerGroup,
    user: i64,
    lang: Lang,
) -> Result<Option<String>, DbError> {
    let Some(current) = current.filter(|l| l.group_id != target.id) else {
        return Ok(None);
    };
    Ok(match content.group(&current.group_id) {
        Some(other) if may_facilitate(ctx, tx, other, user).await? => None,
        Some(other) => Some(other.name.get(lang).to_string()),
        // A group no longer in the content: only a coordinator may reuse its chat.
        None if ctx.config.is_coordinator(user) => None,
        None => Some(current.group_id.clone()),
    })
}

/// `/linkgroup <code>`: a facilitator of that group (or a coordinator) who administers this Telegram chat links
/// it to the group. A chat already linked to another group stays with it unless the person facilitates that
/// group too (or is a coordinator). The bot checks its own rights next and names the one that is missing;
/// then it creates the invite link that asks to join (join requests are how fathers get in).
async fn link(
    ctx: &Ctx,
    admin: &dyn GroupAdmin,
    input: &GroupInput,
    lang: Lang,
) -> Result<Response, DbError> {
    let content = ctx.content.get();
    let code = input.args.trim();
    let Some(group) = content.group_by_code(code).cloned() else {
        return Ok(reply(content.text(lang, "groups.link_usage")));
    };
    let lang = group.language;
    let mut read = db::begin_read(&ctx.pool).await?;
    if !may_facilitate(ctx, &mut read, &group, input.user_id).await? {
        log::warn!(
            "refused /linkgroup {} from user {} in chat {}",
            group.id,
            input.user_id,
            input.chat_id
        );
        return Ok(reply(content.text(lang, "groups.facilitators_only")));
    }
    let current = store::link_of_chat(&mut read, input.chat_id).await?;
    let refused = takeover_refused(
        ctx,
        &mut read,
        &content,
        current.as_ref(),
        &group,
        input.user_id,
        lang,
    )
    .await?;
    drop(read);
    if let Some(other) = refused {
        log::warn!(
            "refused /linkgroup {} from user {} in chat {}: linked to another group",
            group.id,
            input.user_id,
            input.chat_id
        );
        return Ok(reply(content.fill(
            lang,
            "access.link_taken",
            &[("group", &other)],
        )));
    }
    match admin.is_chat_admin(input.chat_id, input.user_id).await {
        Ok(true) => {}
        Ok(false) => {
            log::warn!(
                "refused /linkgroup {} from user {} in chat {}: not a chat administrator",
                group.id,
                input.user_id,
                input.chat_id
            );
            return Ok(reply(content.text(lang, "access.link_not_admin")));
        }
        Err(e) => {
            log::warn!(
                "group {}: cannot read a member's status: {e}",
                input.chat_id
            );
            return Ok(reply(content.text(lang, "groups.link_failed")));
        }
    }
    let rights = match admin.bot_rights(input.chat_id).await {
        Ok(rights) => rights,
        Err(e) => {
            log::warn!("group {}: cannot read the bot's rights: {e}", input.chat_id);
            return Ok(reply(content.text(lang, "groups.link_failed")));
        }
    };
    if let Some(missing) = rights.missing() {
        log::info!(
            "group {}: /linkgroup {} refused, the bot lacks {missing:?}",
            input.chat_id,
            group.id
        );
        let right = content.text(lang, missing.text_key());
        return Ok(reply(content.fill(
            lang,
            "groups.link_missing_right",
            &[("right", right)],
        )));
    }
    let invite = match admin
        .create_join_link(input.chat_id, group.name.get(lang))
        .await
    {
        Ok(link) => link,
        Err(e) => {
            log::warn!(
                "group {}: cannot create the invite link: {e}",
                input.chat_id
            );
            return Ok(reply(content.text(lang, "groups.link_failed")));
        }
    };
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    // Linked meanwhile (while Telegram was asked) by someone else: the same rule again.
    let current = store::link_of_chat(&mut tx, input.chat_id).await?;
    if let Some(other) = takeover_refused(
        ctx,
        &mut tx,
        &content,
        current.as_ref(),
        &group,
        input.user_id,
        lang,
    )
    .await?
    {
        return Ok(reply(content.fill(
            lang,
            "access.link_taken",
            &[("group", &other)],
        )));
    }
    store::put_link(&mut tx, &group.id, input.chat_id, &invite, now).await?;
    audit::record(
        &mut tx,
        input.user_id,
        "linkgroup",
        &format!("{} -> chat {}", group.id, input.chat_id),
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.scheduler.wake();
    log::info!("group {} linked to chat {}", group.id, input.chat_id);
    let next = prompts::next_slot_text(ctx, &content, &group, now);
    Ok(reply(content.fill(
        lang,
        "groups.linked",
        &[("group", group.name.get(lang)), ("next", &next)],
    )))
}
