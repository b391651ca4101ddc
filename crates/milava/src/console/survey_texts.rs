//! `GET /surveys/{id}/texts.xlsx`: a survey's free-text answers as a spreadsheet Finnish Excel opens as it is
//! (`documents::table`), headers in the coordinator's language, no names or Telegram ids, only what the
//! anonymity rule shows (`services::surveys::texts`); each download an audit line `survey_texts_export`.
use super::Console;
use super::auth::Signed;
use super::downloads::xlsx_file;
use super::page::message;
use crate::db::{self, DbError, audit, surveys as store};
use crate::services::surveys::texts;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

pub async fn download(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    let Signed { session, page } = signed;
    let ctx = &console.ctx;
    let content = ctx.content.get();
    let Some(survey) = content.survey(&id) else {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    };
    let failed = |e: &dyn std::fmt::Display, page| {
        log::error!("console: survey texts: {e}");
        message(
            StatusCode::SERVICE_UNAVAILABLE,
            page,
            "console.storage_failed",
        )
    };
    let every = async {
        let mut conn = ctx.pool.acquire().await.map_err(DbError::from)?;
        store::responses(&mut conn, &survey.id, None, None).await
    };
    let every = match every.await {
        Ok(every) => every,
        Err(e) => return failed(&e, page),
    };
    let shown = super::surveys_page::shown_of(&every, ctx.config.survey_min_responses as usize);
    let headers = ["question", "answer", "series", "session"]
        .map(|h| page.t(&format!("console.surveys.texts.{h}")).to_string());
    let Some(table) = texts::table(&content, page.lang, survey, &every, &shown, headers) else {
        return message(
            StatusCode::NOT_FOUND,
            page,
            "console.surveys.texts_withheld",
        );
    };
    let answers = table.rows.len();
    let bytes = match crate::documents::table::xlsx(page.t("console.surveys.texts.sheet"), table) {
        Ok(bytes) => bytes,
        Err(e) => return failed(&e, page),
    };
    let audited = async {
        let mut tx = db::begin_write(&ctx.pool).await?;
        audit::record(
            &mut tx,
            session.coordinator_id,
            "survey_texts_export",
            &format!("{}: {answers} answers (xlsx)", survey.id),
            ctx.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok::<(), DbError>(())
    };
    if let Err(e) = audited.await {
        return failed(&e, page);
    }
    xlsx_file(bytes, &format!("{}-texts.xlsx", survey.id))
}
