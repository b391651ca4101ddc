//! `/surveys`: each survey with its results per scope (everyone, each series) under the same anonymity rule as
//! the chat's `/results` (`services::surveys::anonymity`, counts from `results::stats`), and the research
//! export with its codebook as two downloads (`services::survey_export::export`, the code `milava-bot export`
//! runs), each download an audit line.
use super::Console;
use super::auth::Signed;
use super::page::{Page, html, message};
use super::survey_rounds::{self, RoundView};
use crate::db::surveys as store;
use crate::db::surveys::{Place, StoredResponse};
use crate::documents::chart::{ChartSection, bar_chart};
use crate::domain::Lang;
use crate::domain::programme::{Series, Session};
use crate::domain::survey::{QuestionKind, Survey, Tally};
use crate::services::present;
use crate::services::survey_export::{self, Format, Requester};
use crate::services::surveys::{anonymity, results, round};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, BTreeSet};

pub struct QuestionView {
    pub text: String,
    pub answered: usize,
    pub mean: String,
    pub counts: Vec<(String, usize)>,
}

pub struct ScopeView {
    pub id: String,
    pub name: String,
    /// A session's scope (shown inside its series).
    pub session: bool,
    pub responses: usize,
    pub shown: bool,
    pub questions: Vec<QuestionView>,
}

pub struct SurveyView {
    pub id: String,
    pub title: String,
    /// A free-text answers file can be downloaded (the survey asks for text and "all" is shown).
    pub texts: bool,
    pub scopes: Vec<ScopeView>,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    page: Page,
    min: usize,
    /// Some survey has a manual trigger (a round can be sent).
    can_send: bool,
    rounds: Vec<RoundView>,
    surveys: Vec<SurveyView>,
}

/// A scope of results: its id (`all`, a series id or a session id), its name, and which responses it holds.
struct Scope {
    id: String,
    name: String,
    series: Option<String>,
    session: Option<String>,
}

impl Scope {
    fn holds(&self, (series, session): &Place) -> bool {
        self.series
            .as_deref()
            .is_none_or(|s| series.as_deref() == Some(s))
            && self
                .session
                .as_deref()
                .is_none_or(|s| session.as_deref() == Some(s))
    }

    /// The results of this scope: the tallies of the places it holds, added up.
    fn tally(&self, tallies: &BTreeMap<Place, Tally>) -> Tally {
        let mut sum = Tally::default();
        for (_, tally) in tallies.iter().filter(|(place, _)| self.holds(place)) {
            sum.merge(tally);
        }
        sum
    }
}

fn session_name(series: &Series, session: &Session, lang: Lang) -> String {
    format!(
        "{} – {} {}",
        series.name.get(lang),
        present::date(session.start.date()),
        session.title.get(lang)
    )
}

/// The scopes shown for a survey: everyone, then each series followed by its sessions that have results of
/// their own (those the survey follows, and any other with responses).
fn scopes(page: &Page, survey: &Survey, tallies: &BTreeMap<Place, Tally>) -> Vec<Scope> {
    let content = page.content();
    let lang = page.lang;
    let mut scopes = vec![Scope {
        id: anonymity::ALL.to_string(),
        name: page.t("survey.scope_all").to_string(),
        series: None,
        session: None,
    }];
    for series in &content.series {
        scopes.push(Scope {
            id: series.id.clone(),
            name: series.name.get(lang).to_string(),
            series: Some(series.id.clone()),
            session: None,
        });
        let followed = results::followed_sessions(content, survey, series);
        for session in series.sessions_in_order() {
            let answered = tallies
                .keys()
                .any(|(_, s)| s.as_deref() == Some(session.id.as_str()));
            if answered || followed.iter().any(|f| f.id == session.id) {
                scopes.push(Scope {
                    id: session.id.clone(),
                    name: session_name(series, session, lang),
                    series: Some(series.id.clone()),
                    session: Some(session.id.clone()),
                });
            }
        }
    }
    scopes
}

/// One scope by id (`all`, a series, a session).
fn scope(page: &Page, id: &str) -> Option<Scope> {
    let content = page.content();
    if id == anonymity::ALL {
        return Some(Scope {
            id: id.to_string(),
            name: page.t("survey.scope_all").to_string(),
            series: None,
            session: None,
        });
    }
    if let Some(series) = content.series(id) {
        return Some(Scope {
            id: id.to_string(),
            name: series.name.get(page.lang).to_string(),
            series: Some(id.to_string()),
            session: None,
        });
    }
    let (series, session) = content.session(id)?;
    Some(Scope {
        id: id.to_string(),
        name: session_name(series, session, page.lang),
        series: Some(series.id.clone()),
        session: Some(id.to_string()),
    })
}

/// `shown_of` for counted responses.
fn shown_of_tallies(tallies: &BTreeMap<Place, Tally>, min: usize) -> BTreeSet<String> {
    anonymity::shown_scopes(
        tallies.iter().flat_map(|((series, session), tally)| {
            std::iter::repeat_n((series.as_deref(), session.as_deref()), tally.responses)
        }),
        min,
    )
}

pub(super) fn shown_of(every: &[StoredResponse], min: usize) -> BTreeSet<String> {
    anonymity::shown_scopes(
        every
            .iter()
            .map(|r| (r.series_id.as_deref(), r.session_id.as_deref())),
        min,
    )
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
        let tallies = match store::tallies(&mut conn, &survey.id).await {
            Ok(tallies) => tallies,
            Err(e) => return storage_failed(&e, page),
        };
        let shown = shown_of_tallies(&tallies, min);
        let scopes = scopes(&page, survey, &tallies)
            .into_iter()
            .map(|scope| {
                let inside = scope.tally(&tallies);
                let is_shown = shown.contains(scope.id.as_str());
                let questions = if is_shown {
                    survey
                        .questions
                        .iter()
                        .map(|q| {
                            let s = results::tally_stats(q, &inside, lang);
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
                    session: scope.session.is_some(),
                    id: scope.id,
                    name: scope.name,
                    responses: inside.responses,
                    shown: is_shown,
                    questions,
                }
            })
            .collect();
        surveys.push(SurveyView {
            id: survey.id.clone(),
            title: survey.title.get(lang).to_string(),
            texts: shown.contains(anonymity::ALL)
                && survey
                    .questions
                    .iter()
                    .any(|q| q.kind == QuestionKind::Text),
            scopes,
        });
    }
    drop(conn);
    let recent = async {
        let mut tx = crate::db::begin_read(&ctx.pool).await?;
        let recent = round::recent(&mut tx, survey_rounds::LISTED).await?;
        tx.commit().await?;
        Ok::<_, crate::db::DbError>(recent)
    };
    let rounds = match recent.await {
        Ok(recent) => recent
            .iter()
            .map(|p| survey_rounds::view(&console, &page, p))
            .collect(),
        Err(e) => return storage_failed(&e, page),
    };
    let can_send = content.surveys.iter().any(|s| s.has_manual_trigger());
    html(
        StatusCode::OK,
        &SurveysPage {
            page,
            min,
            can_send,
            rounds,
            surveys,
        },
    )
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
    let tallies = match store::tallies(&mut conn, &survey.id).await {
        Ok(tallies) => tallies,
        Err(e) => return storage_failed(&e, page),
    };
    drop(conn);
    let min = ctx.config.survey_min_responses as usize;
    let shown = shown_of_tallies(&tallies, min);
    let Some(scope) = self::scope(&page, &scope) else {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    };
    if !shown.contains(scope.id.as_str()) {
        return message(StatusCode::NOT_FOUND, page, "console.surveys.unknown");
    }
    let inside = scope.tally(&tallies);
    let sections: Vec<ChartSection> = survey
        .questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.kind != QuestionKind::Text)
        .map(|(i, q)| {
            let s = results::tally_stats(q, &inside, lang);
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
    let title = format!("{} – {}", survey.title.get(lang), scope.name);
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
