//! `/groups`: the fathers' peer groups. For each: the Telegram chat it is linked to (`/linkgroup`), whether
//! prompts are paused (pause and resume here are the chat's `/pause` and `/resume`), its prompt plan (the
//! chat's `/upcoming`), and its facilitators, added by choosing a registered person and removed with a button
//! (`services::groups::facilitators`; the bot's facilitator checks read the same list).
use super::Console;
use super::auth::{CsrfForm, Empty, Signed, redirect};
use super::page::{Page, html, message};
use crate::db::participants::Named;
use crate::db::{DbError, groups as store, participants};
use crate::domain::groups::PeerGroup;
use crate::services::groups::facilitators::{pause, plan_lines, set_facilitator};
use crate::services::groups::prompts::next_slot_text;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;

/// How many people the facilitator choice lists at most (narrow it with the name search).
const CHOICES: usize = 200;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    find: String,
}

/// A person to list or choose: Telegram id and how they read ("Name (professional)").
pub struct Person {
    pub id: i64,
    pub label: String,
}

pub struct GroupView {
    pub id: String,
    pub name: String,
    pub code: String,
    /// The linked chat's id, if linked.
    pub chat: Option<i64>,
    pub active: bool,
    pub paused: bool,
    pub next: String,
    pub plan: Vec<String>,
    /// The plan's language (the group's).
    pub lang: &'static str,
    pub facilitators: Vec<Person>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    page: Page,
    params: Params,
    groups: Vec<GroupView>,
    people: Vec<Person>,
    /// More people matched than are listed.
    cut: bool,
}

fn label(page: &Page, p: &Named) -> String {
    let key = format!("registration.role.{}", p.role.as_str());
    let role = page.t(&key);
    format!("{} ({role}, {})", p.name, p.telegram_user_id)
}

fn storage_failed(e: &DbError, page: Page) -> Response {
    log::error!("console: peer groups: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        page,
        "console.storage_failed",
    )
}

pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page = signed.page.titled("console.groups.title");
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let ctx = &console.ctx;
    let content = ctx.content.get();
    let find = params.find.trim().to_lowercase();
    let read = async {
        let links = store::links(&ctx.pool).await?;
        let facilitators = store::facilitators(&ctx.pool).await?;
        let ids: Vec<i64> = facilitators.iter().map(|(_, id)| *id).collect();
        let mut read = crate::db::begin_read(&ctx.pool).await?;
        let named = participants::named_of(&mut read, &ids).await?;
        // Without a search only the first choices by name are shown: the database sorts and cuts them.
        let people = if find.is_empty() {
            participants::first_by_name(&mut read, CHOICES + 1).await?
        } else {
            participants::named(&mut read).await?
        };
        read.commit().await.map_err(DbError::from)?;
        let mut plans = Vec::new();
        for group in &content.groups {
            plans.push(plan_lines(ctx, group).await?);
        }
        Ok::<_, DbError>((people, named, links, facilitators, plans))
    };
    let (people, named, links, facilitators, plans) = match read.await {
        Ok(read) => read,
        Err(e) => return storage_failed(&e, page),
    };
    let by_id: HashMap<i64, &Named> = named.iter().map(|p| (p.telegram_user_id, p)).collect();
    let now = ctx.clock.now();
    let groups = content
        .groups
        .iter()
        .zip(plans)
        .map(|(group, plan)| {
            let link = links.iter().find(|l| l.group_id == group.id);
            GroupView {
                id: group.id.clone(),
                name: group.name.get(page.lang).to_string(),
                code: group.code.clone(),
                chat: link.map(|l| l.chat_id),
                active: link.is_some_and(|l| l.active),
                paused: link.is_some_and(|l| l.paused),
                next: next_slot_text(ctx, &content, group, now),
                plan,
                lang: group.language.code(),
                facilitators: facilitators
                    .iter()
                    .filter(|(g, _)| *g == group.id)
                    .map(|(_, id)| Person {
                        id: *id,
                        label: by_id.get(id).map(|p| label(&page, p)).unwrap_or_else(|| {
                            page.fill("console.groups.not_registered", &[("id", &id.to_string())])
                        }),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut matching: Vec<&Named> = people
        .iter()
        .filter(|p| find.is_empty() || p.name.to_lowercase().contains(&find))
        .collect();
    matching.sort_by(|a, b| a.name.cmp(&b.name));
    let cut = matching.len() > CHOICES;
    let people = matching
        .into_iter()
        .take(CHOICES)
        .map(|p| Person {
            id: p.telegram_user_id,
            label: label(&page, p),
        })
        .collect();
    html(
        StatusCode::OK,
        &GroupsPage {
            page,
            params,
            groups,
            people,
            cut,
        },
    )
}

fn group(console: &Console, id: &str) -> Option<PeerGroup> {
    console.ctx.content.get().group(id).cloned()
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    person: String,
}

/// Adds the chosen registered person as the group's facilitator.
pub async fn add(
    State(console): State<Console>,
    Path(id): Path<String>,
    form: CsrfForm<AddForm>,
) -> Response {
    let page = form.signed.page.titled("console.groups.title");
    let coordinator = form.signed.session.coordinator_id;
    if group(&console, &id).is_none() {
        return message(StatusCode::NOT_FOUND, page, "console.groups.unknown");
    }
    let Ok(person) = form.form.person.trim().parse::<i64>() else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            page,
            "console.groups.no_person",
        );
    };
    let registered = async {
        let mut tx = crate::db::begin_read(&console.ctx.pool).await?;
        participants::get(&mut tx, person).await
    };
    match registered.await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                page,
                "console.groups.no_person",
            );
        }
        Err(e) => return storage_failed(&e, page),
    }
    match set_facilitator(&console.ctx, coordinator, &id, person, true).await {
        Ok(_) => redirect(&console, &format!("groups#{id}")),
        Err(e) => storage_failed(&e, page),
    }
}

/// Removes a facilitator from the group.
pub async fn remove(
    State(console): State<Console>,
    Path((id, person)): Path<(String, i64)>,
    form: CsrfForm<Empty>,
) -> Response {
    let page = form.signed.page.titled("console.groups.title");
    let coordinator = form.signed.session.coordinator_id;
    if group(&console, &id).is_none() {
        return message(StatusCode::NOT_FOUND, page, "console.groups.unknown");
    }
    match set_facilitator(&console.ctx, coordinator, &id, person, false).await {
        Ok(_) => redirect(&console, &format!("groups#{id}")),
        Err(e) => storage_failed(&e, page),
    }
}

async fn set_paused(console: Console, id: String, form: CsrfForm<Empty>, paused: bool) -> Response {
    let page = form.signed.page.titled("console.groups.title");
    let coordinator = form.signed.session.coordinator_id;
    let Some(group) = group(&console, &id) else {
        return message(StatusCode::NOT_FOUND, page, "console.groups.unknown");
    };
    match pause(&console.ctx, coordinator, &group, paused).await {
        Ok(true) => redirect(&console, &format!("groups#{id}")),
        Ok(false) => message(StatusCode::CONFLICT, page, "console.groups.not_linked"),
        Err(e) => storage_failed(&e, page),
    }
}

/// The chat's `/pause`: no prompts until resumed.
pub async fn pause_group(
    State(console): State<Console>,
    Path(id): Path<String>,
    form: CsrfForm<Empty>,
) -> Response {
    set_paused(console, id, form, true).await
}

/// The chat's `/resume`: prompts continue from the next slot.
pub async fn resume_group(
    State(console): State<Console>,
    Path(id): Path<String>,
    form: CsrfForm<Empty>,
) -> Response {
    set_paused(console, id, form, false).await
}
