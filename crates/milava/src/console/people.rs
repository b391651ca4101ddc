//! `/people`: everyone who has written to the bot, searched by name or Telegram id and filtered by role,
//! series, area, peer group and status, 50 a page; `/people/<id>`: one person's record (what `/mydata`
//! shows them) with erase-on-request (a confirmation page, then the same erasure as `/forget`).
use super::Console;
use super::auth::{CsrfForm, Empty, Signed, redirect};
use super::page::{Page, html, message};
use crate::db::people::{self, Filter, Person, Status};
use crate::domain::{Field, Role};
use crate::services::people as service;
use crate::services::render::answer_label;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

const PER_PAGE: i64 = 50;

/// The filter as given in the form (empty = any).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    series: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
    /// Back from erasing someone: says so.
    #[serde(default)]
    erased: String,
}

/// A filter's field: its name, label key and (value, label) choices.
pub struct Choice {
    pub name: &'static str,
    pub label: String,
    pub any: String,
    pub selected: String,
    pub options: Vec<(String, String)>,
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub series: String,
    pub area: String,
    pub group: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    page: Page,
    q: String,
    choices: Vec<Choice>,
    rows: Vec<Row>,
    shown: String,
    previous: Option<String>,
    next: Option<String>,
    /// The series the downloads offer: (id, name).
    series: Vec<(String, String)>,
    erased: bool,
}

fn some(raw: &str) -> Option<String> {
    Some(raw.trim().to_string()).filter(|v| !v.is_empty())
}

/// The answer options a registration step offers for `field`.
fn options(page: &Page, field: Field) -> Vec<(String, String)> {
    let content = page.content();
    let values: Vec<String> = match field {
        Field::Series => content.series.iter().map(|s| s.id.clone()).collect(),
        Field::Group => content.groups.iter().map(|g| g.id.clone()).collect(),
        Field::Role => Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        _ => content
            .registration
            .steps
            .iter()
            .filter(|s| s.field() == Some(field))
            .flat_map(|s| s.options.iter().map(|o| o.value.clone()))
            .collect(),
    };
    values
        .into_iter()
        .map(|v| {
            let label = answer_label(content, page.lang, field, &v);
            (v, label)
        })
        .collect()
}

fn status_label(page: &Page, person: &Person) -> String {
    let mut parts = Vec::new();
    if person.name.is_some() {
        parts.push(page.t("console.people.state.registered"));
    } else if person.in_progress {
        parts.push(page.t("console.people.state.in_progress"));
    } else {
        parts.push(page.t("console.people.state.contact"));
    }
    if person.unreachable {
        parts.push(page.t("console.people.state.unreachable"));
    }
    parts.join(", ")
}

pub async fn list(
    State(console): State<Console>,
    signed: Signed,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page = signed.page.titled("console.people.title");
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let filter = Filter {
        search: some(&params.q),
        role: some(&params.role),
        series: some(&params.series),
        area: some(&params.area),
        group: some(&params.group),
        status: Status::parse(params.status.trim()),
    };
    let number = params
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, i64::MAX / PER_PAGE);
    let offset = (number - 1) * PER_PAGE;
    let (people, total) = match people::page(&console.ctx.pool, &filter, offset, PER_PAGE).await {
        Ok(read) => read,
        Err(e) => {
            log::error!("console: people not read: {e}");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            );
        }
    };
    let content = page.content();
    let label = |field: Field, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| answer_label(content, page.lang, field, v))
            .unwrap_or_default()
    };
    let rows: Vec<Row> = people
        .iter()
        .map(|p| Row {
            id: p.telegram_user_id,
            name: p
                .name
                .clone()
                .unwrap_or_else(|| page.t("console.people.no_name").to_string()),
            role: label(Field::Role, &p.role),
            series: label(Field::Series, &p.series_id),
            area: label(Field::Area, &p.area),
            group: label(Field::Group, &p.group_id),
            status: status_label(&page, p),
        })
        .collect();
    let shown = if total == 0 {
        page.t("console.people.none").to_string()
    } else {
        page.fill(
            "console.people.shown",
            &[
                ("first", &(offset + 1).min(total).to_string()),
                ("last", &(offset + rows.len() as i64).to_string()),
                ("total", &total.to_string()),
            ],
        )
    };
    let link_to = |n: i64| {
        let query = serde_urlencoded::to_string([
            ("q", params.q.as_str()),
            ("role", params.role.as_str()),
            ("series", params.series.as_str()),
            ("area", params.area.as_str()),
            ("group", params.group.as_str()),
            ("status", params.status.as_str()),
            ("page", &n.to_string()),
        ])
        .unwrap_or_default();
        format!("people?{query}")
    };
    let previous = (number > 1).then(|| link_to(number - 1));
    let next = (offset + PER_PAGE < total).then(|| link_to(number + 1));
    let choice = |name: &'static str, field: Option<Field>, selected: &str| Choice {
        name,
        label: page.t(&format!("console.people.{name}")).to_string(),
        any: page.t("console.people.any").to_string(),
        selected: selected.trim().to_string(),
        options: match field {
            Some(field) => options(&page, field),
            None => Status::ALL
                .iter()
                .map(|s| {
                    let code = s.code();
                    (
                        code.to_string(),
                        page.t(&format!("console.people.state.{code}")).to_string(),
                    )
                })
                .collect(),
        },
    };
    let choices = vec![
        choice("role", Some(Field::Role), &params.role),
        choice("series", Some(Field::Series), &params.series),
        choice("area", Some(Field::Area), &params.area),
        choice("group", Some(Field::Group), &params.group),
        choice("status", None, &params.status),
    ];
    let series = options(&page, Field::Series);
    let view = PeoplePage {
        q: params.q.clone(),
        choices,
        rows,
        shown,
        previous,
        next,
        series,
        erased: !params.erased.is_empty(),
        page,
    };
    html(StatusCode::OK, &view)
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    page: Page,
    id: i64,
    record: String,
    /// The confirmation step of erasing (`/people/<id>/erase`).
    confirm: bool,
}

async fn person(console: &Console, signed: Signed, id: i64, confirm: bool) -> Response {
    let page = signed.page;
    match service::record(&console.ctx, id, page.lang).await {
        Ok(Some(record)) => {
            let key = if confirm {
                "console.people.erase_title"
            } else {
                "console.people.record_title"
            };
            let title = page.fill(key, &[("id", &id.to_string())]);
            let mut page = page;
            page.title = title;
            html(
                StatusCode::OK,
                &PersonPage {
                    page,
                    id,
                    record,
                    confirm,
                },
            )
        }
        Ok(None) => message(StatusCode::NOT_FOUND, page, "console.people.unknown"),
        Err(e) => {
            log::error!("console: a record not read: {e}");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            )
        }
    }
}

/// `GET /people/<id>`.
pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match id.parse::<i64>() {
        Ok(id) => person(&console, signed, id, false).await,
        Err(_) => message(StatusCode::NOT_FOUND, signed.page, "console.people.unknown"),
    }
}

/// `GET /people/<id>/erase`: the confirmation.
pub async fn confirm_erase(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match id.parse::<i64>() {
        Ok(id) => person(&console, signed, id, true).await,
        Err(_) => message(StatusCode::NOT_FOUND, signed.page, "console.people.unknown"),
    }
}

/// `POST /people/<id>/erase`.
pub async fn erase(
    State(console): State<Console>,
    Path(id): Path<String>,
    form: CsrfForm<Empty>,
) -> Response {
    let Signed { session, page } = form.signed;
    let Ok(id) = id.parse::<i64>() else {
        return message(StatusCode::NOT_FOUND, page, "console.people.unknown");
    };
    match service::erase(&console.ctx, id, session.coordinator_id).await {
        Ok(true) => redirect(&console, "people?erased=1"),
        Ok(false) => message(StatusCode::NOT_FOUND, page, "console.people.unknown"),
        Err(e) => {
            log::error!("console: a person not erased: {e}");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            )
        }
    }
}
