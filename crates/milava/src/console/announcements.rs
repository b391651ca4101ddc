//! `/announcements`: compose an announcement (text), choose its audience (the chat's `/broadcast` audiences),
//! preview it with the recipient count, send it now or at a local time, follow its progress and cancel it. The
//! same broadcasts as the chat: `services::broadcast::announce` queues through the chat's `queue`, and
//! `cancel_queued` is the chat's cancel.
use super::Console;
use super::auth::{CsrfForm, Signed, redirect};
use super::page::{Page, html, message};
use crate::db::broadcasts::{self as store, AudienceCount, Broadcast};
use crate::db::{self, DbError, outbox};
use crate::domain::broadcast::{Audience, BroadcastStatus};
use crate::domain::time::{local_to_utc, parse_local_datetime, utc_to_local};
use crate::services::broadcast::{announce, audience_name, audiences, cancel_queued};
use crate::services::labels::cut_at_word;
use crate::services::present::local_time as format_local;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The most of an announcement's first line the list shows.
const EXCERPT_CHARS: usize = 60;

/// The longest text Telegram sends as one message.
const MAX_CHARS: usize = 4096;
/// How many announcements the list shows.
const LISTED: i64 = 20;

/// The form as typed: the text, the audience's code, "now" or "later", and the local time when later.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Draft {
    #[serde(default)]
    text: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    when: String,
    #[serde(default)]
    at: String,
    /// Present when "Edit" was pressed on the preview.
    #[serde(default)]
    edit: Option<String>,
}

impl Draft {
    fn later(&self) -> bool {
        self.when == "later"
    }
}

/// An audience to choose: code, label.
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// One announcement's line and progress.
pub struct Row {
    pub id: i64,
    pub status: String,
    /// `sending`, `scheduled`, … (the page refreshes itself while one is sending or scheduled).
    pub status_code: &'static str,
    pub audience: String,
    /// What it says (`None`: a picture or file copied from the chat).
    pub text: Option<String>,
    /// Its first line, cut to fit the list.
    pub excerpt: String,
    pub when: String,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
    pub blocked: i64,
    pub waiting: i64,
    pub cancellable: bool,
}

#[derive(Template)]
#[template(path = "announcements.html")]
struct ListPage {
    page: Page,
    draft: Draft,
    choices: Vec<Choice>,
    problems: Vec<String>,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "announcement_preview.html")]
struct PreviewPage {
    page: Page,
    draft: Draft,
    audience: String,
    count: AudienceCount,
    when: String,
}

#[derive(Template)]
#[template(path = "announcement.html")]
struct ProgressPage {
    page: Page,
    row: Row,
    /// Seconds until the page reloads itself (while scheduled or sending).
    refresh: Option<u32>,
}

/// A valid draft: what goes to whom and when (`None`: now).
struct Valid {
    audience: Audience,
    text: String,
    at: Option<DateTime<Utc>>,
}

/// Checks the form; the problems are already in the page's language.
fn validate(console: &Console, page: &Page, draft: &Draft) -> Result<Valid, Vec<String>> {
    let ctx = &console.ctx;
    let mut problems = Vec::new();
    let text = draft.text.trim().replace("\r\n", "\n");
    if text.is_empty() {
        problems.push(page.t("console.announcements.no_text").to_string());
    } else if text.chars().count() > MAX_CHARS {
        problems.push(page.fill(
            "console.announcements.too_long",
            &[
                ("max", &MAX_CHARS.to_string()),
                ("count", &text.chars().count().to_string()),
            ],
        ));
    }
    let audience =
        Audience::parse(&draft.audience).filter(|a| audiences(page.content()).contains(a));
    if audience.is_none() {
        problems.push(page.t("console.announcements.no_audience").to_string());
    }
    let mut at = None;
    if draft.later() {
        let raw = draft.at.trim();
        let now = ctx.clock.now();
        let today = utc_to_local(ctx.config.timezone, now).date();
        // A browser's date-time field sends 2026-12-07T09:30; people type 7.12. klo 9.30.
        match parse_local_datetime(&raw.replacen('T', " ", 1), today) {
            None => problems.push(page.fill("console.announcements.bad_time", &[("text", raw)])),
            Some(local) => {
                let utc = local_to_utc(ctx.config.timezone, local);
                if utc <= now {
                    problems.push(page.fill(
                        "console.announcements.past_time",
                        &[("time", &format_local(ctx.config.timezone, page.lang, utc))],
                    ));
                } else {
                    at = Some(utc);
                }
            }
        }
    }
    match audience {
        Some(audience) if problems.is_empty() => Ok(Valid { audience, text, at }),
        _ => Err(problems),
    }
}

fn choices(page: &Page) -> Vec<Choice> {
    audiences(page.content())
        .iter()
        .map(|a| Choice {
            code: a.code(),
            label: audience_name(page.content(), page.lang, a),
        })
        .collect()
}

async fn row(console: &Console, page: &Page, b: &Broadcast) -> Result<Row, DbError> {
    let progress =
        outbox::batch_progress(&console.ctx.pool, &format!("broadcast:{}", b.id)).await?;
    Ok(Row {
        id: b.id,
        status: page
            .t(&format!(
                "console.announcements.status.{}",
                b.status.as_str()
            ))
            .to_string(),
        status_code: b.status.as_str(),
        audience: b
            .audience
            .as_ref()
            .map(|a| audience_name(page.content(), page.lang, a))
            .unwrap_or_default(),
        text: b.text.clone(),
        excerpt: match &b.text {
            Some(text) => cut_at_word(text.lines().next().unwrap_or_default(), EXCERPT_CHARS),
            None => page.t("console.announcements.copied").to_string(),
        },
        when: b
            .send_at
            .map(|t| format_local(console.ctx.config.timezone, page.lang, t))
            .unwrap_or_default(),
        total: b.recipients,
        sent: progress.sent,
        failed: progress.failed,
        blocked: progress.blocked,
        waiting: progress.remaining,
        cancellable: matches!(
            b.status,
            BroadcastStatus::Scheduled | BroadcastStatus::Sending
        ),
    })
}

async fn list_page(console: &Console, page: Page, draft: Draft, problems: Vec<String>) -> Response {
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let read = async {
        let mut tx = db::begin_read(&console.ctx.pool).await?;
        let recent = store::recent(&mut tx, LISTED).await?;
        tx.commit().await?;
        let mut rows = Vec::new();
        // A draft never confirmed in chat was never an announcement.
        for b in recent.iter().filter(|b| b.send_at.is_some()) {
            rows.push(row(console, &page, b).await?);
        }
        Ok::<_, DbError>(rows)
    };
    let rows = match read.await {
        Ok(rows) => rows,
        Err(e) => return storage_failed(&e, page),
    };
    let choices = choices(&page);
    html(
        status,
        &ListPage {
            page,
            draft,
            choices,
            problems,
            rows,
        },
    )
}

fn storage_failed(e: &DbError, page: Page) -> Response {
    log::error!("console: announcements: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        page,
        "console.storage_failed",
    )
}

pub async fn show(State(console): State<Console>, signed: Signed) -> Response {
    let page = signed.page.titled("console.announcements.title");
    let draft = Draft {
        when: "now".into(),
        ..Draft::default()
    };
    list_page(&console, page, draft, Vec::new()).await
}

/// The preview: the text as recipients see it, the audience with its count, the time; or the form again with
/// what to fix (or to edit).
pub async fn preview(State(console): State<Console>, form: CsrfForm<Draft>) -> Response {
    let page = form.signed.page.titled("console.announcements.title");
    let draft = form.form;
    if draft.edit.is_some() {
        return list_page(&console, page, draft, Vec::new()).await;
    }
    let valid = match validate(&console, &page, &draft) {
        Ok(valid) => valid,
        Err(problems) => return list_page(&console, page, draft, problems).await,
    };
    let count = async {
        let mut tx = db::begin_read(&console.ctx.pool).await?;
        let count = store::count_audience(&mut tx, &valid.audience).await?;
        tx.commit().await?;
        Ok::<_, DbError>(count)
    };
    let count = match count.await {
        Ok(count) => count,
        Err(e) => return storage_failed(&e, page),
    };
    let audience = audience_name(page.content(), page.lang, &valid.audience);
    if count.recipients == 0 {
        let problem = page.fill(
            "console.announcements.no_recipients",
            &[("audience", &audience)],
        );
        return list_page(&console, page, draft, vec![problem]).await;
    }
    let page = page.titled("console.announcements.preview_title");
    let when = match valid.at {
        Some(at) => page.fill(
            "console.announcements.at",
            &[(
                "time",
                &format_local(console.ctx.config.timezone, page.lang, at),
            )],
        ),
        None => page.t("console.announcements.now").to_string(),
    };
    html(
        StatusCode::OK,
        &PreviewPage {
            page,
            draft: Draft {
                text: valid.text,
                ..draft
            },
            audience,
            count,
            when,
        },
    )
}

/// Sends or schedules the previewed announcement, then shows its progress.
pub async fn send(State(console): State<Console>, form: CsrfForm<Draft>) -> Response {
    let page = form.signed.page.titled("console.announcements.title");
    let coordinator = form.signed.session.coordinator_id;
    let draft = form.form;
    let valid = match validate(&console, &page, &draft) {
        Ok(valid) => valid,
        Err(problems) => return list_page(&console, page, draft, problems).await,
    };
    match announce(
        &console.ctx,
        coordinator,
        &valid.audience,
        &valid.text,
        valid.at,
    )
    .await
    {
        Ok((id, _)) => redirect(&console, &format!("announcements/{id}")),
        Err(e) => storage_failed(&e, page),
    }
}

/// One announcement's progress: sent / blocked / failed / waiting; reloads itself while it is going out.
pub async fn progress(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<i64>,
) -> Response {
    let page = signed.page;
    let found = async {
        let mut tx = db::begin_read(&console.ctx.pool).await?;
        let b = store::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok::<_, DbError>(b.filter(|b| b.send_at.is_some()))
    };
    let b = match found.await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return message(StatusCode::NOT_FOUND, page, "console.announcements.unknown");
        }
        Err(e) => return storage_failed(&e, page),
    };
    let mut page = page;
    page.title = page.fill(
        "console.announcements.one_title",
        &[("id", &id.to_string())],
    );
    let row = match row(&console, &page, &b).await {
        Ok(row) => row,
        Err(e) => return storage_failed(&e, page),
    };
    let refresh = match b.status {
        BroadcastStatus::Sending => Some(2),
        BroadcastStatus::Scheduled => Some(30),
        _ => None,
    };
    html(StatusCode::OK, &ProgressPage { page, row, refresh })
}

/// Cancels a scheduled or running announcement (its unsent messages), as `/cancel_broadcast` does.
pub async fn cancel(
    State(console): State<Console>,
    Path(id): Path<i64>,
    form: CsrfForm<super::auth::Empty>,
) -> Response {
    let page = form.signed.page;
    let coordinator = form.signed.session.coordinator_id;
    let cancelled = async {
        let mut tx = db::begin_write(&console.ctx.pool).await?;
        let unsent = cancel_queued(&mut tx, id, coordinator, console.ctx.clock.now()).await?;
        tx.commit().await?;
        Ok::<_, DbError>(unsent)
    };
    match cancelled.await {
        Ok(Some(_)) => {
            console.ctx.scheduler.wake();
            redirect(&console, &format!("announcements/{id}"))
        }
        Ok(None) => message(
            StatusCode::CONFLICT,
            page,
            "console.announcements.not_cancellable",
        ),
        Err(e) => storage_failed(&e, page),
    }
}
