//! `/downloads/participants.xlsx?series=` (everyone, or one series) and `/downloads/attendance.xlsx?series=`:
//! spreadsheets Finnish Excel opens as they are, headers in the coordinator's language, each download an
//! audit line.
use super::Console;
use super::auth::Signed;
use super::page::message;
use crate::db::{self, audit};
use crate::services::{people, roster};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    series: String,
}

/// An `.xlsx` download named `name` (letters, digits, `-_.` are kept).
pub fn xlsx_file(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    // The series id is from the content (letters, digits, dashes): safe in a quoted file name.
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `GET /downloads/participants.xlsx`.
pub async fn participants(
    State(console): State<Console>,
    signed: Signed,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Signed { session, page } = signed;
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let series = Some(params.series.trim()).filter(|s| !s.is_empty());
    if series.is_some_and(|s| console.ctx.content.get().series(s).is_none()) {
        return message(
            StatusCode::NOT_FOUND,
            page,
            "console.attendance.unknown_series",
        );
    }
    match people::participants_xlsx(&console.ctx, page.lang, series, session.coordinator_id).await {
        Ok((bytes, _)) => {
            let date = console
                .ctx
                .clock
                .now()
                .with_timezone(&console.ctx.config.timezone)
                .format("%Y-%m-%d");
            let scope = series.unwrap_or("all");
            xlsx_file(bytes, &format!("milava-participants-{scope}-{date}.xlsx"))
        }
        Err(e) => {
            log::error!("console: participants download not made: {e}");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            )
        }
    }
}

/// `GET /downloads/attendance.xlsx?series=`.
pub async fn attendance(
    State(console): State<Console>,
    signed: Signed,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Signed { session, page } = signed;
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let series = params.series.trim();
    let (roster, page) =
        match super::attendance_page::roster_or_answer(&console, page, series).await {
            Ok(found) => found,
            Err(answer) => return answer,
        };
    let bytes = match roster::roster_xlsx(page.content(), page.lang, &roster) {
        Ok(bytes) => bytes,
        Err(e) => {
            log::error!("console: attendance download not made: {e}");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            );
        }
    };
    let now = console.ctx.clock.now();
    let audited = async {
        let mut tx = db::begin_write(&console.ctx.pool).await?;
        audit::record(
            &mut tx,
            session.coordinator_id,
            "attendance_export",
            series,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<(), crate::db::DbError>(())
    };
    if let Err(e) = audited.await {
        log::error!("console: attendance download not audited: {e}");
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            page,
            "console.storage_failed",
        );
    }
    xlsx_file(bytes, &format!("milava-attendance-{series}.xlsx"))
}
