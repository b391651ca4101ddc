//! Coordinators' broadcasts: `/broadcast` → audience (buttons) → the message in any form → preview with the
//! recipient count → send now or at a local time. The bot copies the coordinator's message (copyMessage keeps
//! formatting and media) to each recipient through the outbox, in batch `broadcast:{id}`.
use super::conversation::BroadcastStep;
use super::{Effects, Turn};
use crate::config::Config;
use crate::content::Content;
use crate::db::broadcasts::{self as store, Broadcast};
use crate::db::outbox::{self, NewDelivery};
use crate::db::{DbError, Tx, audit};
use crate::domain::broadcast::{Audience, BroadcastStatus};
use crate::domain::callback::BroadcastAction;
use crate::domain::outbox::{OutboxKey, Payload, broadcast_batch};
use crate::domain::participant::Role;
use crate::domain::time::{local_to_utc, parse_local_datetime, utc_to_local};
use crate::domain::{Button, CallbackData, Field, Lang, Reply};
use crate::scheduler::progress;
use chrono::{DateTime, Utc};

fn button(turn: &Turn<'_>, key: &str, action: BroadcastAction) -> Vec<Button> {
    vec![Button::callback(
        turn.text(key),
        CallbackData::Broadcast(action).encode(),
    )]
}

fn audience_menu(turn: &Turn<'_>) -> Vec<Vec<Button>> {
    let code = |a: Audience| BroadcastAction::Audience(a.code());
    vec![
        button(turn, "button.broadcast.everyone", code(Audience::Everyone)),
        button(
            turn,
            "button.broadcast.fathers",
            code(Audience::Role(Role::Father)),
        ),
        button(
            turn,
            "button.broadcast.professionals",
            code(Audience::Role(Role::Professional)),
        ),
        button(
            turn,
            "button.broadcast.others",
            code(Audience::Role(Role::Other)),
        ),
        button(
            turn,
            "button.broadcast.series",
            BroadcastAction::Menu("series".into()),
        ),
        button(
            turn,
            "button.broadcast.area",
            BroadcastAction::Menu("area".into()),
        ),
        button(
            turn,
            "button.broadcast.group",
            BroadcastAction::Menu("group".into()),
        ),
        button(turn, "button.broadcast.research", code(Audience::Research)),
    ]
}

/// How an audience reads to the coordinator.
pub fn audience_label(turn: &Turn<'_>, audience: &Audience) -> String {
    audience_name(&turn.content, turn.lang(), audience)
}

/// `audience_label` for any content and language (the console's pages).
pub fn audience_name(content: &Content, lang: Lang, audience: &Audience) -> String {
    match audience {
        Audience::Everyone => content.text(lang, "broadcast.audience_all").to_string(),
        Audience::Role(role) => content
            .text(lang, &format!("broadcast.audience_role_{}", role.as_str()))
            .to_string(),
        Audience::Series(id) => {
            let name = content
                .series(id)
                .map(|s| s.name.get(lang).to_string())
                .unwrap_or_else(|| id.clone());
            content.fill(lang, "broadcast.audience_series", &[("name", &name)])
        }
        Audience::Area(area) => content.fill(
            lang,
            "broadcast.audience_area",
            &[(
                "name",
                &super::render::answer_label(content, lang, Field::Area, area),
            )],
        ),
        Audience::Research => content
            .text(lang, "broadcast.audience_research")
            .to_string(),
        Audience::Group(id) => {
            let name = content
                .group(id)
                .map(|g| g.name.get(lang).to_string())
                .unwrap_or_else(|| id.clone());
            content.fill(lang, "broadcast.audience_group", &[("name", &name)])
        }
    }
}

/// The areas an audience can be (the registration's choices).
const AREAS: [&str; 4] = ["oulu", "kajaani", "rovaniemi", "elsewhere"];

/// Every audience a coordinator can choose, in the chat's order: everyone, each role, each series, each area,
/// each peer group, the research participants.
pub fn audiences(content: &Content) -> Vec<Audience> {
    let mut all = vec![
        Audience::Everyone,
        Audience::Role(Role::Father),
        Audience::Role(Role::Professional),
        Audience::Role(Role::Other),
    ];
    all.extend(
        content
            .series
            .iter()
            .map(|s| Audience::Series(s.id.clone())),
    );
    all.extend(AREAS.iter().map(|a| Audience::Area(a.to_string())));
    all.extend(content.groups.iter().map(|g| Audience::Group(g.id.clone())));
    all.push(Audience::Research);
    all
}

pub async fn start(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let now = turn.now;
    let id = store::create(tx, turn.user.telegram_user_id, now).await?;
    audit::record(
        tx,
        turn.user.telegram_user_id,
        "broadcast_created",
        &format!("#{id}"),
        now,
    )
    .await?;
    out.push(Reply::with_buttons(
        turn.text("broadcast.audience_question"),
        audience_menu(turn),
    ));
    Ok(out)
}

/// The coordinator's draft, if a button refers to it and it belongs to them.
async fn own_draft(tx: &mut Tx, turn: &Turn<'_>) -> Result<Option<Broadcast>, DbError> {
    store::draft_of(tx, turn.user.telegram_user_id).await
}

pub async fn on_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    action: BroadcastAction,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    match action {
        BroadcastAction::Menu(menu) => {
            let lang = turn.lang();
            let (question, rows): (&str, Vec<Vec<Button>>) = match menu.as_str() {
                "series" => (
                    "broadcast.choose_series",
                    turn.content
                        .series
                        .iter()
                        .map(|s| {
                            vec![Button::callback(
                                s.name.get(lang),
                                CallbackData::Broadcast(BroadcastAction::Audience(
                                    Audience::Series(s.id.clone()).code(),
                                ))
                                .encode(),
                            )]
                        })
                        .collect(),
                ),
                "area" => (
                    "broadcast.choose_area",
                    ["oulu", "kajaani", "rovaniemi", "elsewhere"]
                        .iter()
                        .map(|a| {
                            let label = super::render::value_label(turn, Field::Area, a);
                            vec![Button::callback(
                                label,
                                CallbackData::Broadcast(BroadcastAction::Audience(
                                    Audience::Area(a.to_string()).code(),
                                ))
                                .encode(),
                            )]
                        })
                        .collect(),
                ),
                "group" => (
                    "broadcast.choose_group",
                    turn.content
                        .groups
                        .iter()
                        .map(|g| {
                            vec![Button::callback(
                                g.name.get(lang),
                                CallbackData::Broadcast(BroadcastAction::Audience(
                                    Audience::Group(g.id.clone()).code(),
                                ))
                                .encode(),
                            )]
                        })
                        .collect(),
                ),
                _ => ("broadcast.audience_question", audience_menu(turn)),
            };
            let mut rows = rows;
            if menu != "top" {
                rows.push(button(
                    turn,
                    "button.broadcast.back",
                    BroadcastAction::Menu("top".into()),
                ));
            }
            out.replace_pressed = Some(Reply::with_buttons(turn.text(question), rows));
            Ok(out)
        }
        BroadcastAction::Audience(code) => {
            let (Some(draft), Some(audience)) =
                (own_draft(tx, turn).await?, Audience::parse(&code))
            else {
                out.toast = Some(turn.text("problem.button_expired"));
                return Ok(out);
            };
            let label = audience_label(turn, &audience);
            if store::count_audience(tx, &audience).await?.recipients == 0 {
                out.toast = Some(turn.fill("broadcast.no_recipients", &[("audience", &label)]));
                return Ok(out);
            }
            store::set_audience(tx, draft.id, &audience).await?;
            out.mark_pressed = Some(format!("✅ {label}"));
            out.push(Reply::text(
                turn.fill("broadcast.send_message", &[("audience", &label)]),
            ));
            Ok(out)
        }
        BroadcastAction::SendNow(id) => Ok(out.and(confirm(tx, turn, id, None).await?)),
        BroadcastAction::Schedule(id) => {
            let Some(draft) = own_draft(tx, turn)
                .await?
                .filter(|d| d.id == id && d.step == "confirm")
            else {
                out.toast = Some(turn.text("problem.button_expired"));
                return Ok(out);
            };
            store::set_step(tx, draft.id, "time").await?;
            out.push(Reply::text(turn.text("broadcast.ask_time")));
            Ok(out)
        }
        BroadcastAction::Cancel(id) => Ok(out.and(cancel(tx, turn, id).await?)),
    }
}

/// The coordinator's next message while a draft waits for the message or the time
/// (`Conversation::ComposingBroadcast`).
pub async fn on_message(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    (draft, step): (Broadcast, BroadcastStep),
    chat_id: i64,
    message_id: Option<i64>,
    text: Option<&str>,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    match (step, message_id) {
        (BroadcastStep::Message, Some(message_id)) => {
            store::set_message(tx, draft.id, chat_id, message_id, text).await?;
            let audience = draft.audience.clone().unwrap_or(Audience::Everyone);
            let count = store::count_audience(tx, &audience).await?;
            let text = turn.fill(
                "broadcast.preview",
                &[
                    ("count", &count.recipients.to_string()),
                    ("audience", &audience_label(turn, &audience)),
                    ("unreachable", &count.unreachable.to_string()),
                    ("opted_out", &count.opted_out.to_string()),
                ],
            );
            let rows = vec![
                button(
                    turn,
                    "button.broadcast.send_now",
                    BroadcastAction::SendNow(draft.id),
                ),
                button(
                    turn,
                    "button.broadcast.schedule",
                    BroadcastAction::Schedule(draft.id),
                ),
                button(
                    turn,
                    "button.broadcast.cancel",
                    BroadcastAction::Cancel(draft.id),
                ),
            ];
            out.push(Reply::Copy {
                from_chat_id: chat_id,
                message_id,
            });
            out.push(Reply::with_buttons(text, rows));
            Ok(out)
        }
        (BroadcastStep::Time, _) => {
            let raw = text.unwrap_or("").trim();
            let today = utc_to_local(turn.tz(), turn.now).date();
            let Some(local) = parse_local_datetime(raw, today) else {
                out.push(Reply::text(
                    turn.fill("broadcast.bad_time", &[("text", raw)]),
                ));
                return Ok(out);
            };
            let at = local_to_utc(turn.tz(), local);
            if at <= turn.now {
                out.push(Reply::text(
                    turn.fill("broadcast.past_time", &[("time", &turn.local_time(at))]),
                ));
                return Ok(out);
            }
            confirm(tx, turn, draft.id, Some(at)).await
        }
        // The conversation is only loaded as composing a message when the input is one.
        (BroadcastStep::Message, None) => Ok(out),
    }
}

/// A confirmed broadcast: what goes to each recipient of the audience, and when.
pub struct Queue<'a> {
    pub id: i64,
    pub coordinator: i64,
    pub audience: &'a Audience,
    /// A copy of the coordinator's chat message, or the text written in the console.
    pub payload: Payload,
    /// `None`: now.
    pub at: Option<DateTime<Utc>>,
    /// The coordinator's chat and language for the status message edited as the messages go out (the
    /// chat); `None` where the progress is shown elsewhere (the console's page).
    pub status_chat: Option<(i64, Lang)>,
}

/// Queues the payload for every recipient — now, or at `at` — and marks the broadcast confirmed, with its
/// audit line, in the caller's transaction: the one implementation behind the chat's and the console's
/// broadcasts. Returns the number of recipients. The caller rings the outbox and scheduler after commit.
pub async fn queue(
    tx: &mut Tx,
    config: &Config,
    content: &Content,
    now: DateTime<Utc>,
    broadcast: Queue<'_>,
) -> Result<usize, DbError> {
    let Queue {
        id,
        coordinator,
        audience,
        payload,
        at,
        status_chat,
    } = broadcast;
    let recipients = store::recipients(tx, audience).await?;
    let send_at = at.unwrap_or(now);
    let batch = broadcast_batch(id);
    // The status message goes first (queued before the copies, due at the same time); the scheduler edits
    // it as the copies go out. It is not in the batch, so it does not count as a recipient.
    if let Some((chat, lang)) = status_chat {
        let waiting = outbox::BatchProgress {
            remaining: recipients.len() as i64,
            ..Default::default()
        };
        let status_text = progress::status_text(config, content, lang, id, &waiting, send_at);
        let status_message = NewDelivery::new(
            OutboxKey::BroadcastStatus(id),
            chat,
            Payload::text(status_text),
            now,
        )
        .for_user(coordinator)
        .due_at(send_at);
        outbox::enqueue(tx, &status_message).await?;
    }
    for (user, user_chat) in &recipients {
        let delivery = NewDelivery::new(
            OutboxKey::Broadcast { id, user: *user },
            *user_chat,
            payload.clone(),
            now,
        )
        .for_user(*user)
        .due_at(send_at)
        .in_batch(batch.clone());
        outbox::enqueue(tx, &delivery).await?;
    }
    let status = if at.is_some() {
        BroadcastStatus::Scheduled
    } else {
        BroadcastStatus::Sending
    };
    store::confirm(tx, id, status, send_at, recipients.len() as i64, now).await?;
    audit::record(
        tx,
        coordinator,
        "broadcast_confirmed",
        &format!(
            "#{id} {} to {} at {send_at}",
            audience.code(),
            recipients.len()
        ),
        now,
    )
    .await?;
    Ok(recipients.len())
}

/// The console's announcement: `text` to `audience`, now or at `at`, written and queued in one transaction
/// by `queue` (the chat's implementation). Returns its id and the number of recipients.
pub async fn announce(
    ctx: &super::Ctx,
    coordinator: i64,
    audience: &Audience,
    text: &str,
    at: Option<DateTime<Utc>>,
) -> Result<(i64, usize), DbError> {
    let now = ctx.clock.now();
    let content = ctx.content.get();
    let mut tx = crate::db::begin_write(&ctx.pool).await?;
    let id = store::create_with_audience(&mut tx, coordinator, audience, text, now).await?;
    audit::record(
        &mut tx,
        coordinator,
        "broadcast_created",
        &format!("#{id}"),
        now,
    )
    .await?;
    let count = queue(
        &mut tx,
        &ctx.config,
        &content,
        now,
        Queue {
            id,
            coordinator,
            audience,
            payload: Payload::text(text),
            at,
            status_chat: None,
        },
    )
    .await?;
    tx.commit().await?;
    ctx.outbox.wake();
    ctx.scheduler.wake();
    Ok((id, count))
}

/// Cancels a scheduled or running broadcast: its unsent messages (and a scheduled one's status message) are
/// not sent, with an audit line. Returns how many were unsent, or `None` when it was not scheduled or
/// running (already done, cancelled, or a draft).
pub async fn cancel_queued(
    tx: &mut Tx,
    id: i64,
    actor: i64,
    now: DateTime<Utc>,
) -> Result<Option<u64>, DbError> {
    let Some(broadcast) = store::get(tx, id).await? else {
        return Ok(None);
    };
    if !matches!(
        broadcast.status,
        BroadcastStatus::Scheduled | BroadcastStatus::Sending
    ) {
        return Ok(None);
    }
    let unsent = outbox::cancel_batch(tx, &broadcast_batch(id)).await?;
    // A scheduled one's status message has not gone yet either.
    let status_key = OutboxKey::BroadcastStatus(id);
    if let Some(row) = outbox::pending_by_key(tx, &status_key).await? {
        outbox::cancel(tx, row, "broadcast cancelled").await?;
    }
    store::finish(tx, id, BroadcastStatus::Cancelled, now).await?;
    audit::record(
        tx,
        actor,
        "broadcast_cancelled",
        &format!("#{id}, {unsent} unsent"),
        now,
    )
    .await?;
    Ok(Some(unsent))
}

/// Queues a copy for every recipient — now, or at `at` — in one transaction with the decision.
async fn confirm(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    id: i64,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let expected_step = if at.is_some() { "time" } else { "confirm" };
    let draft = own_draft(tx, turn)
        .await?
        .filter(|d| d.id == id && d.step == expected_step);
    let Some((draft, Some(chat), Some(message))) =
        draft.map(|d| (d.clone(), d.source_chat, d.source_message))
    else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let audience = draft.audience.clone().unwrap_or(Audience::Everyone);
    let count = queue(
        tx,
        turn.config,
        &turn.content,
        turn.now,
        Queue {
            id,
            coordinator: turn.user.telegram_user_id,
            audience: &audience,
            payload: Payload::copy(chat, message),
            at,
            status_chat: Some((turn.user.chat_id, turn.lang())),
        },
    )
    .await?;
    let count = count.to_string();
    let reply = match at {
        Some(at) => turn.fill(
            "broadcast.scheduled",
            &[
                ("id", &id.to_string()),
                ("time", &turn.local_time(at)),
                ("count", &count),
            ],
        ),
        None => turn.fill(
            "broadcast.started",
            &[("id", &id.to_string()), ("count", &count)],
        ),
    };
    out.mark_pressed = Some("✅".into());
    out.push(Reply::text(reply));
    turn.wake_after_commit();
    Ok(out)
}

async fn cancel(tx: &mut Tx, turn: &mut Turn<'_>, id: i64) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let now = turn.now;
    let Some(broadcast) = store::get(tx, id).await? else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    match broadcast.status {
        BroadcastStatus::Draft if broadcast.coordinator == turn.user.telegram_user_id => {
            store::finish(tx, id, BroadcastStatus::Cancelled, now).await?;
            out.mark_pressed = Some("✅".into());
            out.push(Reply::text(turn.text("broadcast.draft_cancelled")));
        }
        BroadcastStatus::Scheduled | BroadcastStatus::Sending => {
            let actor = turn.user.telegram_user_id;
            let Some(unsent) = cancel_queued(tx, id, actor, now).await? else {
                out.toast = Some(turn.text("problem.button_expired"));
                return Ok(out);
            };
            out.mark_pressed = Some("✅".into());
            out.push(Reply::text(turn.fill(
                "broadcast.cancelled",
                &[("id", &id.to_string()), ("count", &unsent.to_string())],
            )));
        }
        _ => out.toast = Some(turn.text("problem.button_expired")),
    }
    Ok(out)
}

/// `/broadcasts`: the latest ones with their progress.
pub async fn list(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    // A draft that was never confirmed (abandoned or cancelled while being written) was never a broadcast.
    let recent: Vec<Broadcast> = store::recent(tx, 10)
        .await?
        .into_iter()
        .filter(|b| b.send_at.is_some())
        .collect();
    if recent.is_empty() {
        out.push(Reply::text(turn.text("broadcast.nothing")));
        return Ok(out.ask_again());
    }
    let mut lines = vec![turn.text("broadcast.list_title")];
    for b in &recent {
        let progress = outbox::batch_progress_on(tx, &broadcast_batch(b.id)).await?;
        let audience = b
            .audience
            .as_ref()
            .map(|a| audience_label(turn, a))
            .unwrap_or_default();
        lines.push(turn.fill(
            "broadcast.list_line",
            &[
                ("id", &b.id.to_string()),
                (
                    "status",
                    &turn.text(&format!("broadcast.status_{}", b.status.as_str())),
                ),
                (
                    "when",
                    &b.send_at.map(|t| turn.local_time(t)).unwrap_or_default(),
                ),
                ("audience", &audience),
                ("sent", &progress.sent.to_string()),
                ("total", &b.recipients.to_string()),
            ],
        ));
    }
    out.push(Reply::text(lines.join("\n")));
    Ok(out.ask_again())
}

/// `/cancel_broadcast`: a button for each scheduled or running one.
pub async fn cancel_menu(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let active: Vec<Broadcast> = store::recent(tx, 50)
        .await?
        .into_iter()
        .filter(|b| {
            matches!(
                b.status,
                BroadcastStatus::Scheduled | BroadcastStatus::Sending
            )
        })
        .collect();
    if active.is_empty() {
        out.push(Reply::text(turn.text("broadcast.none_to_cancel")));
        return Ok(out.ask_again());
    }
    // The question lists each one in full; the buttons stay short (a label is cut off on phones after ≈ 30
    // characters, and an audience's name is often longer).
    let mut lines = vec![turn.text("broadcast.cancel_question")];
    let mut rows = Vec::new();
    for b in &active {
        let audience = b
            .audience
            .as_ref()
            .map(|a| audience_label(turn, a))
            .unwrap_or_default();
        let when = b.send_at.map(|t| turn.local_time(t)).unwrap_or_default();
        lines.push(turn.fill(
            "broadcast.cancel_line",
            &[
                ("id", &b.id.to_string()),
                ("when", &when),
                ("audience", &audience),
            ],
        ));
        rows.push(vec![Button::callback(
            turn.fill("button.broadcast.cancel_one", &[("id", &b.id.to_string())]),
            CallbackData::Broadcast(BroadcastAction::Cancel(b.id)).encode(),
        )]);
    }
    out.push(Reply::with_buttons(lines.join("\n"), rows));
    Ok(out)
}

/// `/announcements`: shows the setting with a button to change it.
pub async fn announcements(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    change: Option<bool>,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    if let Some(on) = change {
        store::set_announcements(tx, user, on).await?;
        out.toast = Some(turn.text("announcements.changed"));
    }
    let on = store::announcements(tx, user).await?;
    let (text, key, next) = if on {
        (
            "announcements.on",
            "button.broadcast.announcements_off",
            false,
        )
    } else {
        (
            "announcements.off",
            "button.broadcast.announcements_on",
            true,
        )
    };
    let reply = Reply::with_buttons(
        turn.text(text),
        vec![vec![Button::callback(
            turn.text(key),
            CallbackData::Announcements(next).encode(),
        )]],
    );
    if change.is_some() {
        out.replace_pressed = Some(reply);
    } else {
        out.push(reply);
    }
    Ok(out)
}
