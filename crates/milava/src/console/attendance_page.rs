//! `/attendance`: the series; `/attendance/<series>`: its matrix (people × sessions) where each cell ticks or
//! unticks with a plain form (the same attendance service as the chat's buttons), who qualifies for the
//! certificate, and a button that issues it (or issues it again) through the outbox.
use super::Console;
use super::auth::{CsrfForm, Signed, redirect};
use super::page::{Page, html, message};
use crate::services::roster::{self, Issued};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "attendance_series.html")]
struct SeriesPage {
    page: Page,
    /// (id, name, "5 sessions")
    series: Vec<(String, String, String)>,
}

/// `GET /attendance`.
pub async fn choose(State(console): State<Console>, signed: Signed) -> Response {
    let page = signed.page.titled("console.attendance.title");
    let lang = page.lang;
    let series = console
        .ctx
        .content
        .get()
        .series
        .iter()
        .filter(|s| !s.sessions.is_empty())
        .map(|s| {
            let count = page.fill(
                "console.attendance.sessions_count",
                &[("count", &s.sessions.len().to_string())],
            );
            (s.id.clone(), s.name.get(lang).to_string(), count)
        })
        .collect();
    html(StatusCode::OK, &SeriesPage { page, series })
}

pub struct Cell {
    pub session: String,
    pub present: bool,
    /// "Name, 13.3. Session": what the button is about, for screen readers.
    pub label: String,
}

pub struct Line {
    pub id: i64,
    pub name: String,
    pub cells: Vec<Cell>,
    pub attended: String,
    pub qualifies: bool,
    pub issued: bool,
}

#[derive(Template)]
#[template(path = "attendance.html")]
struct MatrixPage {
    page: Page,
    series: String,
    /// Column headings: the sessions' dates and titles.
    sessions: Vec<(String, String)>,
    lines: Vec<Line>,
    rule: String,
    /// What the last action did, already in the page's language.
    done: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    done: String,
}

/// `GET /attendance/<series>`.
/// A series' attendance roster with the page to show it on, or the page's answer without one: 404 for a
/// series nobody knows, 503 when it cannot be read. The matrix and its `.xlsx` both start here.
pub(super) async fn roster_or_answer(
    console: &Console,
    page: Page,
    series_id: &str,
) -> Result<(roster::Roster, Page), Response> {
    match roster::roster(&console.ctx, series_id).await {
        Ok(Some(roster)) => Ok((roster, page)),
        Ok(None) => Err(message(
            StatusCode::NOT_FOUND,
            page,
            "console.attendance.unknown_series",
        )),
        Err(e) => {
            log::error!("console: attendance not read: {e}");
            Err(message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            ))
        }
    }
}

pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(series_id): Path<String>,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page = signed.page;
    let (roster, page) = match roster_or_answer(&console, page, &series_id).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let lang = page.lang;
    let mut page = page;
    page.title = page.fill(
        "console.attendance.series_title",
        &[("series", roster.series.name.get(lang))],
    );
    let sessions: Vec<(String, String)> = roster
        .sessions
        .iter()
        .map(|s| {
            let date = s.start.format("%-d.%-m.").to_string();
            (date, s.title.get(lang).to_string())
        })
        .collect();
    let total = roster.sessions.len().to_string();
    let lines = roster
        .rows
        .iter()
        .map(|r| Line {
            id: r.telegram_user_id,
            name: r.name.clone(),
            cells: roster
                .sessions
                .iter()
                .zip(&r.present)
                .zip(&sessions)
                .map(|((s, present), (date, title))| Cell {
                    session: s.id.clone(),
                    present: *present,
                    label: format!("{}, {date} {title}", r.name),
                })
                .collect(),
            attended: page.fill(
                "console.attendance.attended_of",
                &[("attended", &r.attended.to_string()), ("total", &total)],
            ),
            qualifies: r.qualifies,
            issued: r.issued,
        })
        .collect();
    let rule = page.fill(
        "console.attendance.rule",
        &[
            ("required", &roster.required.to_string()),
            ("total", &total),
        ],
    );
    let done = query
        .ok()
        .map(|Query(p)| p.done)
        .filter(|d| ["issued", "reissued", "not_qualified", "not_listed"].contains(&d.as_str()))
        .map(|d| page.t(&format!("console.attendance.done.{d}")).to_string());
    let view = MatrixPage {
        series: roster.series.id.clone(),
        sessions,
        lines,
        rule,
        done,
        page,
    };
    html(StatusCode::OK, &view)
}

#[derive(Deserialize)]
pub struct MarkForm {
    session: String,
    user: String,
    present: String,
}

/// `POST /attendance/<series>/mark`: one cell ticked (`present=1`) or unticked (`present=0`).
pub async fn mark(
    State(console): State<Console>,
    Path(series_id): Path<String>,
    form: CsrfForm<MarkForm>,
) -> Response {
    let Signed { session, page } = form.signed;
    let Ok(user) = form.form.user.trim().parse::<i64>() else {
        return message(StatusCode::BAD_REQUEST, page, "console.bad_form");
    };
    let present = form.form.present.trim() == "1";
    match roster::set_attendance(
        &console.ctx,
        &series_id,
        form.form.session.trim(),
        user,
        present,
        session.coordinator_id,
    )
    .await
    {
        Ok(Some(_)) => redirect(&console, &format!("attendance/{series_id}#p{user}")),
        Ok(None) => redirect(&console, &format!("attendance/{series_id}?done=not_listed")),
        Err(e) => {
            log::error!("console: attendance not changed: {e}");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CertificateForm {
    user: String,
}

/// `POST /attendance/<series>/certificate`: issue (or issue again) one person's certificate.
pub async fn certificate(
    State(console): State<Console>,
    Path(series_id): Path<String>,
    form: CsrfForm<CertificateForm>,
) -> Response {
    let Signed { session, page } = form.signed;
    let Ok(user) = form.form.user.trim().parse::<i64>() else {
        return message(StatusCode::BAD_REQUEST, page, "console.bad_form");
    };
    let done = match roster::issue(&console.ctx, &series_id, user, session.coordinator_id).await {
        Ok(Some(Issued::Issued)) => "issued",
        Ok(Some(Issued::Reissued)) => "reissued",
        Ok(Some(Issued::NotQualified)) => "not_qualified",
        Ok(None) => {
            return message(
                StatusCode::NOT_FOUND,
                page,
                "console.attendance.unknown_series",
            );
        }
        Err(e) => {
            log::error!("console: certificate not issued: {e}");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            );
        }
    };
    redirect(
        &console,
        &format!("attendance/{series_id}?done={done}#p{user}"),
    )
}
