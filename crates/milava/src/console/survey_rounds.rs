//! Sending a survey round from the console: `/surveys/send` (choose a survey with a manual trigger and an
//! audience) → `POST surveys/send/preview` (who will be invited, who is left out) → `POST surveys/send` → the
//! round's progress (`/surveys/rounds/<id>`). The same use case as the chat's `/survey`:
//! `services::surveys::round::{count, send}`, so the two adapters never invite a person twice.
use super::Console;
use super::auth::{CsrfForm, Signed, redirect};
use super::page::{Page, html, message};
use crate::db::{self, DbError};
use crate::domain::broadcast::Audience;
use crate::domain::survey::Survey;
use crate::services::broadcast::audience_name;
use crate::services::present::local_time;
use crate::services::surveys::round::{self, Progress, RoundCount};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

/// How many rounds the Surveys page lists.
pub const LISTED: i64 = 10;

/// The form as sent: the survey's id and the audience's code.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Choice {
    #[serde(default)]
    survey: String,
    #[serde(default)]
    audience: String,
    /// Present when "Edit" was pressed on the preview.
    #[serde(default)]
    edit: Option<String>,
}

/// An option of a select: value, label.
pub struct Item {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "survey_send.html")]
struct SendPage {
    page: Page,
    choice: Choice,
    surveys: Vec<Item>,
    audiences: Vec<Item>,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "survey_send_preview.html")]
struct PreviewPage {
    page: Page,
    choice: Choice,
    title: String,
    audience: String,
    count: RoundCount,
    closes: String,
}

/// A round as a line or a page: where it went, when, and how far it has got.
pub struct RoundView {
    pub id: i64,
    pub survey: String,
    pub audience: String,
    pub sent: String,
    pub closes: String,
    pub open: bool,
    pub invited: i64,
    pub answering: i64,
    pub answered: i64,
}

#[derive(Template)]
#[template(path = "survey_round.html")]
struct RoundPage {
    page: Page,
    round: RoundView,
}

fn storage_failed(e: &DbError, page: Page) -> Response {
    log::error!("console: survey rounds: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        page,
        "console.storage_failed",
    )
}

fn manual_surveys(page: &Page) -> Vec<Survey> {
    page.content()
        .surveys
        .iter()
        .filter(|s| s.has_manual_trigger())
        .cloned()
        .collect()
}

fn send_page(page: Page, choice: Choice, problems: Vec<String>) -> Response {
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let surveys = manual_surveys(&page)
        .iter()
        .map(|s| Item {
            value: s.id.clone(),
            label: s.title.get(page.lang).to_string(),
        })
        .collect();
    let audiences = round::audiences(page.content())
        .iter()
        .map(|a| Item {
            value: a.code(),
            label: audience_name(page.content(), page.lang, a),
        })
        .collect();
    html(
        status,
        &SendPage {
            page,
            choice,
            surveys,
            audiences,
            problems,
        },
    )
}

/// The chosen survey and audience, or what to fix (in the page's language).
fn validate(page: &Page, choice: &Choice) -> Result<(Survey, Audience), Vec<String>> {
    let survey = manual_surveys(page)
        .into_iter()
        .find(|s| s.id == choice.survey);
    let audience =
        Audience::parse(&choice.audience).filter(|a| round::audiences(page.content()).contains(a));
    let mut problems = Vec::new();
    if survey.is_none() {
        problems.push(page.t("console.survey_send.no_survey").to_string());
    }
    if audience.is_none() {
        problems.push(page.t("console.survey_send.no_audience").to_string());
    }
    match (survey, audience) {
        (Some(survey), Some(audience)) => Ok((survey, audience)),
        _ => Err(problems),
    }
}

/// `GET /surveys/send`: the form.
pub async fn form(signed: Signed) -> Response {
    let page = signed.page.titled("console.survey_send.title");
    send_page(page, Choice::default(), Vec::new())
}

/// `POST /surveys/send/preview`: who the round would invite now and who it leaves out; or the form again.
pub async fn preview(State(console): State<Console>, form: CsrfForm<Choice>) -> Response {
    let page = form.signed.page.titled("console.survey_send.title");
    let choice = form.form;
    if choice.edit.is_some() {
        return send_page(page, choice, Vec::new());
    }
    let (survey, audience) = match validate(&page, &choice) {
        Ok(valid) => valid,
        Err(problems) => return send_page(page, choice, problems),
    };
    let ctx = &console.ctx;
    let now = ctx.clock.now();
    let count = async {
        let mut tx = db::begin_read(&ctx.pool).await?;
        let count = round::count(&mut tx, &survey, &audience, now).await?;
        tx.commit().await?;
        Ok::<_, DbError>(count)
    };
    let count = match count.await {
        Ok(count) => count,
        Err(e) => return storage_failed(&e, page),
    };
    let audience = audience_name(page.content(), page.lang, &audience);
    if count.invited == 0 {
        let problem = page.fill(
            "console.survey_send.nobody",
            &[
                ("audience", &audience),
                ("already", &count.already.to_string()),
            ],
        );
        return send_page(page, choice, vec![problem]);
    }
    let page = page.titled("console.survey_send.preview_title");
    let closes = local_time(ctx.config.timezone, page.lang, now + survey.closes_after());
    html(
        StatusCode::OK,
        &PreviewPage {
            title: survey.title.get(page.lang).to_string(),
            page,
            choice,
            audience,
            count,
            closes,
        },
    )
}

/// `POST /surveys/send`: checked again, sent (the chat's code), then the round's progress.
pub async fn send(State(console): State<Console>, form: CsrfForm<Choice>) -> Response {
    let page = form.signed.page.titled("console.survey_send.title");
    let coordinator = form.signed.session.coordinator_id;
    let choice = form.form;
    let (survey, audience) = match validate(&page, &choice) {
        Ok(valid) => valid,
        Err(problems) => return send_page(page, choice, problems),
    };
    let ctx = &console.ctx;
    let content = ctx.content.get();
    let now = ctx.clock.now();
    let sent = async {
        let mut tx = db::begin_write(&ctx.pool).await?;
        let count = round::count(&mut tx, &survey, &audience, now).await?;
        if count.invited == 0 {
            return Ok(None);
        }
        let sent = round::send(
            &mut tx,
            &content,
            ctx.config.timezone,
            &survey,
            &audience,
            coordinator,
            "console",
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, DbError>(Some(sent))
    };
    match sent.await {
        Ok(Some(sent)) => {
            ctx.outbox.wake();
            ctx.scheduler.wake();
            redirect(&console, &format!("surveys/rounds/{}", sent.round))
        }
        Ok(None) => {
            let audience = audience_name(page.content(), page.lang, &audience);
            let problem = page.fill(
                "console.survey_send.nobody",
                &[("audience", &audience), ("already", "0")],
            );
            send_page(page, choice, vec![problem])
        }
        Err(e) => storage_failed(&e, page),
    }
}

/// A round as the console shows it.
pub fn view(console: &Console, page: &Page, p: &Progress) -> RoundView {
    let content = page.content();
    let survey = content.survey(&p.round.survey_id);
    let tz = console.ctx.config.timezone;
    let closes_at =
        p.round.created_at + survey.map_or(chrono::Duration::days(14), Survey::closes_after);
    RoundView {
        id: p.round.id,
        survey: survey
            .map(|s| s.title.get(page.lang).to_string())
            .unwrap_or_else(|| p.round.survey_id.clone()),
        audience: Audience::parse(&p.round.audience)
            .map(|a| audience_name(content, page.lang, &a))
            .unwrap_or_else(|| p.round.audience.clone()),
        sent: local_time(tz, page.lang, p.round.created_at),
        closes: local_time(tz, page.lang, closes_at),
        open: console.ctx.clock.now() < closes_at,
        invited: p.invited,
        answering: p.answering,
        answered: p.answered,
    }
}

/// `GET /surveys/rounds/{id}`: a round's progress.
pub async fn show(State(console): State<Console>, signed: Signed, Path(id): Path<i64>) -> Response {
    let mut page = signed.page;
    let found = async {
        let mut tx = db::begin_read(&console.ctx.pool).await?;
        let p = round::progress(&mut tx, id).await?;
        tx.commit().await?;
        Ok::<_, DbError>(p)
    };
    let progress = match found.await {
        Ok(Some(p)) => p,
        Ok(None) => return message(StatusCode::NOT_FOUND, page, "console.survey_send.unknown"),
        Err(e) => return storage_failed(&e, page),
    };
    page.title = page.fill(
        "console.survey_send.round_title",
        &[("id", &id.to_string())],
    );
    let round = view(&console, &page, &progress);
    html(StatusCode::OK, &RoundPage { page, round })
}
