//! `/programme/series/<id>/delete`: deleting a series that is a draft or a typo. Opening the page changes
//! nothing: it asks to confirm, or says kindly why this series cannot be deleted (someone has registered for
//! it, or it has started) and what to do instead (cancel its sessions, which tells participants). The POST is
//! one `services::season::apply` of `ProgrammeChange::DeleteSeries`, which checks the same again, removes
//! the series for good (the shipped programme.toml never brings its id back) and writes `series_deleted`.
use super::Console;
use super::auth::{CsrfForm, Signed};
use super::page::{Page, html, message};
use super::programme::storage_failed;
use crate::domain::season::{ChangeError, ProgrammeChange};
use crate::services::season::{self, SeasonError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "programme_delete.html")]
struct DeletePage {
    page: Page,
    id: String,
    name: String,
    /// Why it cannot be deleted (`None`: it can, and the page asks to confirm).
    refusal: Option<String>,
}

/// The coordinator's words for why a series cannot be deleted; `Err` for a storage failure.
fn refusal(page: &Page, error: SeasonError) -> Result<String, SeasonError> {
    match error {
        SeasonError::Registered { people } => Ok(page.fill(
            "console.programme.delete.registered",
            &[("count", &people.to_string())],
        )),
        SeasonError::Change(ChangeError::SeriesStarted(_)) => {
            Ok(page.t("console.programme.delete.started").to_string())
        }
        // The content check refused the programme without it (something else names the series).
        SeasonError::Invalid(_) => Ok(page.t("console.programme.delete.in_use").to_string()),
        SeasonError::Change(_) => Ok(page.t("console.programme.error.unknown_series").to_string()),
        e @ SeasonError::Db(_) => Err(e),
    }
}

fn delete_page(page: Page, id: &str, refused: Option<SeasonError>) -> Response {
    let Some(series) = page.content().series(id) else {
        return message(StatusCode::NOT_FOUND, page, "console.not_found");
    };
    let name = series.name.get(page.lang).to_string();
    let page = page.titled("console.programme.delete.title");
    let (status, refusal) = match refused.map(|e| refusal(&page, e)) {
        None => (StatusCode::OK, None),
        Some(Ok(text)) => (StatusCode::CONFLICT, Some(text)),
        Some(Err(e)) => return storage_failed(page, e),
    };
    let view = DeletePage {
        id: id.to_string(),
        name,
        refusal,
        page,
    };
    html(status, &view)
}

/// `GET`: the confirmation, or why not (409).
pub async fn confirm(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    match season::deletable(&console.ctx, &id).await {
        Ok(None) => message(StatusCode::NOT_FOUND, signed.page, "console.not_found"),
        Ok(Some(allowed)) => delete_page(signed.page, &id, allowed.err()),
        Err(e) => storage_failed(signed.page, e),
    }
}

#[derive(Deserialize)]
pub struct Confirmed {}

/// `POST`: deletes it and goes back to the programme, or shows why not.
pub async fn delete(
    State(console): State<Console>,
    Path(id): Path<String>,
    posted: CsrfForm<Confirmed>,
) -> Response {
    let page = posted.signed.page;
    let by = posted.signed.session.coordinator_id;
    let change = ProgrammeChange::DeleteSeries { id: id.clone() };
    match season::apply(&console.ctx, by, change).await {
        Ok(_) => Redirect::to(&format!("{}programme?saved=deleted", page.base)).into_response(),
        Err(SeasonError::Change(ChangeError::UnknownSeries(_))) => {
            message(StatusCode::NOT_FOUND, page, "console.not_found")
        }
        Err(e) => delete_page(page, &id, Some(e)),
    }
}
