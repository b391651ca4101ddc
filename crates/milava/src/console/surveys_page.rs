//! `/surveys`: each survey with its results per scope (everyone, each series) under the same anonymity rule as
//! the chat's `/results` (`services::surveys::anonymity`, counts from `results::stats`), and the research
//! export with its codebook as two downloads (`services::survey_export::export`, the code `milava-bot export`
//! runs), each download an audit line.
use super::Console;
use super::auth::Signed;
use super::page::{Page, html, message};
use crate::db::surveys as store;
use crate::documents::chart::{ChartSection, bar_chart};
use crate::domain::survey::QuestionKind;
use crate::services::survey_export::{self, Format, Requester};
use crate::services::surveys::{anonymity, results};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub struct QuestionView {
    pub text: String,
    pub answered: usize,
    pub mean: String,
    pub counts: Vec<(String, usize)>,
}

pub struct ScopeView {
    pub id: String,
    pub name: String,
    pub responses: usize,
    pub shown: bool,
    pub questions: Vec<QuestionView>,
}

pub struct SurveyView {
    pub id: String,
    pub title: String,
    pub scopes: Vec<ScopeView>,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    page: Page,
    min: usize,
    surveys: Vec<SurveyView>,
}

fn storage_failed(e: &dyn std::fmt::Display, page: Page) -> Response {
    log::error!("console: surveys: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        page,
        "console.storage_failed",
    )
}

/// `GET /surveys`.
pub async fn show(State(console): State<Console>, signed: Signed) -> Response {
    let page = signed.page.titled("console.surveys.title");
    let ctx = &console.ctx;
    let content = ctx.content.get();
    let min = ctx.config.survey_min_responses as usize;
    let lang = page.lang;
    let mut conn = match ctx.pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return storage_failed(&e, page),
    };
    let mut surveys = Vec::new();
    for survey in &content.surveys {
        let every = match store::responses(&mut conn, &survey.id, None, None).await {
            Ok(every) => every,
            Err(e) => return storage_failed(&e, page),
        };
        let shown = anonymity::shown_scopes(
            every
                .iter()
                .map(|r| (r.series_id.as_deref(), r.session_id.as_deref())),
            min,
        );
        let mut scopes: Vec<(String, String)> = vec![(
            anonymity::ALL.to_string(),
            page.t("survey.scope_all").to_string(),
        )];
        scopes.extend(
            content
                .series
                .iter()
                .map(|s| (s.id.clone(), s.name.get(lang).to_string())),
        );
        let scopes = scopes
            .into_iter()
            .map(|(id, name)| {
                let inside: Vec<_> = every
                    .iter()
                    .filter(|r| id == anonymity::ALL || r.series_id.as_deref() == Some(id.as_str()))
                    .cloned()
                    .collect();
                let is_shown = shown.contains(id.as_str());
                let questions = if is_shown {
                    survey
                        .questions
                        .iter()
                        .map(|q| {
                            let s = results::stats(q, &inside, lang);
                            QuestionView {
                                text: q.text.get(lang).to_string(),
                                answered: s.answered,
                                mean: s.mean.map(|m| format!("{m:.1}")).unwrap_or_default(),
                                counts: s.counts,
                            }
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                ScopeView {
                    id,
                    name,
                    responses: inside.len(),
                    shown: is_shown,
                    questions,
                }
            })
            .collect();
        surveys.push(SurveyView {
            id: survey.id.clone(),
            title: survey.title.get(lang).to_string(),
            scopes,
        });
    }
    html(StatusCode::OK, &SurveysPage { page, min, surveys })
}

fn csv_file(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn download(console: Console, signed: Signed, id: String, codebook: bool) -> Response {
    let Signed { session, page } = signed;
    let ctx = &console.ctx;
    let content = ctx.content.get();
    if content.survey(&id).is_none() {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    }
    let who = Requester {
        actor: session.coordinator_id,
        via: if codebook {
            "console, codebook"
        } else {
            "console"
        },
    };
    let now = ctx.clock.now();
    match survey_export::export(
        &ctx.pool,
        &content,
        ctx.config.timezone,
        &id,
        None,
        Format::Csv,
        now,
        who,
    )
    .await
    {
        Ok(files) if codebook => csv_file(files.codebook, &format!("{id}.codebook.csv")),
        Ok(files) => csv_file(files.data, &format!("{id}.csv")),
        Err(e) => storage_failed(&e, page),
    }
}

/// `GET /surveys/{id}/export.csv`: the research export (as `milava-bot export --format csv`).
pub async fn export_csv(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    download(console, signed, id, false).await
}

/// `GET /surveys/{id}/codebook.csv`: the export's codebook.
pub async fn codebook_csv(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    download(console, signed, id, true).await
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ChartParams {
    #[serde(default)]
    scope: String,
}

/// `GET /surveys/{id}/chart.png?scope=`: the results chart of a shown scope (everyone or a series), the same
/// chart the chat's `/results` sends; 404 for a withheld scope.
pub async fn chart(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    query: Result<Query<ChartParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page = signed.page;
    let ctx = &console.ctx;
    let content = ctx.content.get();
    let lang = page.lang;
    let scope = query.map(|Query(p)| p.scope).unwrap_or_default();
    let scope = if scope.is_empty() {
        anonymity::ALL.to_string()
    } else {
        scope
    };
    let Some(survey) = content.survey(&id) else {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    };
    let mut conn = match ctx.pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return storage_failed(&e, page),
    };
    let every = match store::responses(&mut conn, &survey.id, None, None).await {
        Ok(every) => every,
        Err(e) => return storage_failed(&e, page),
    };
    let min = ctx.config.survey_min_responses as usize;
    let shown = anonymity::shown_scopes(
        every
            .iter()
            .map(|r| (r.series_id.as_deref(), r.session_id.as_deref())),
        min,
    );
    let scope_name = if scope == anonymity::ALL {
        page.t("survey.scope_all").to_string()
    } else if let Some(series) = content.series(&scope) {
        series.name.get(lang).to_string()
    } else {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    };
    if !shown.contains(scope.as_str()) {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    }
    let inside: Vec<_> = every
        .into_iter()
        .filter(|r| scope == anonymity::ALL || r.series_id.as_deref() == Some(scope.as_str()))
        .collect();
    let sections: Vec<ChartSection> = survey
        .questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.kind != QuestionKind::Text)
        .map(|(i, q)| {
            let s = results::stats(q, &inside, lang);
            ChartSection {
                heading: format!("{}. {}", i + 1, q.text.get(lang)),
                note: page.fill(
                    "console.surveys.answered",
                    &[("n", &s.answered.to_string())],
                ),
                bars: s.counts,
            }
        })
        .collect();
    let title = format!("{} – {scope_name}", survey.title.get(lang));
    match bar_chart(&title, &sections) {
        Ok(png) => {
            let mut response = png.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            response
        }
        Err(e) => storage_failed(&e, page),
    }
}
