//! `/`: the overview. Registrations (what `/stats` counts), registrations in progress, people unreachable,
//! the outbox's queue and health, and what is scheduled next (sessions, queued message waves, broadcasts).
use super::Console;
use super::auth::Signed;
use super::page::{Page, html, message};
use crate::db::{broadcasts, stats};
use crate::domain::Field;
use crate::domain::outbox::key_family;
use crate::services::present::local_time as format_local;
use crate::services::programme::when;
use crate::services::render::answer_label;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};

/// A titled list of (label, count) (`templates/counts_table.html`).
pub struct Table {
    pub title: String,
    /// The heading of the labels' column.
    pub column: String,
    pub rows: Vec<(String, i64)>,
}

/// A session to come.
pub struct NextSession {
    pub series: String,
    pub title: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    page: Page,
    total: i64,
    tables: Vec<Table>,
    in_progress: i64,
    unreachable: i64,
    outbox: Table,
    failed_last_day: i64,
    due: i64,
    oldest_due: Option<String>,
    waves: Vec<(String, String, i64)>,
    sessions: Vec<NextSession>,
    broadcasts: Vec<(i64, String)>,
}

/// How many upcoming sessions the overview lists.
const NEXT_SESSIONS: usize = 5;

pub async fn show(State(console): State<Console>, signed: Signed) -> Response {
    let page = signed.page.titled("console.overview.title");
    let ctx = &console.ctx;
    let now = ctx.clock.now();
    let tz = ctx.config.timezone;
    let (counts, outbox, scheduled) = match tokio::try_join!(
        stats::counts(&ctx.pool),
        stats::outbox_health(&ctx.pool, now),
        broadcasts::scheduled(&ctx.pool),
    ) {
        Ok(all) => all,
        Err(e) => {
            log::error!("console: overview not read: {e}");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            );
        }
    };
    let content = page.content();
    let lang = page.lang;
    let label = |field: Field, rows: &[(String, i64)]| -> Vec<(String, i64)> {
        rows.iter()
            .map(|(value, n)| (answer_label(content, lang, field, value), *n))
            .collect()
    };
    let tables = [
        ("console.overview.by_role", Field::Role, &counts.by_role),
        (
            "console.overview.by_series",
            Field::Series,
            &counts.by_series,
        ),
        ("console.overview.by_area", Field::Area, &counts.by_area),
        ("console.overview.by_group", Field::Group, &counts.by_group),
    ]
    .into_iter()
    .map(|(key, field, rows)| Table {
        title: page.t(key).to_string(),
        column: page.t("console.overview.name").to_string(),
        rows: label(field, rows),
    })
    .collect();
    let today = now.with_timezone(&tz).naive_local();
    let mut sessions: Vec<_> = content
        .series
        .iter()
        .flat_map(|series| series.sessions.iter().map(move |s| (series, s)))
        .filter(|(_, s)| s.start >= today)
        .collect();
    sessions.sort_by_key(|(_, s)| s.start);
    let sessions = sessions
        .into_iter()
        .take(NEXT_SESSIONS)
        .map(|(series, s)| NextSession {
            series: series.name.get(lang).to_string(),
            title: s.title.get(lang).to_string(),
            when: when(content, lang, s),
        })
        .collect();
    let local = |at| format_local(tz, lang, at);
    let status = |s: &str| {
        let key = format!("console.overview.status.{s}");
        match content.texts.has(lang, &key) {
            true => page.t(&key).to_string(),
            false => s.to_string(),
        }
    };
    let kind = |k: &str| {
        let key = format!("console.overview.kind.{k}");
        match content.texts.has(lang, &key) {
            true => page.t(&key).to_string(),
            false => k.to_string(),
        }
    };
    let overview = Overview {
        total: counts.total,
        tables,
        in_progress: counts.in_progress,
        unreachable: counts.unreachable,
        outbox: Table {
            title: page.t("console.overview.outbox").to_string(),
            column: page.t("console.overview.status_column").to_string(),
            rows: outbox
                .by_status
                .iter()
                .map(|(s, n)| (status(s), *n))
                .collect(),
        },
        failed_last_day: outbox.failed_last_day,
        due: outbox.due,
        oldest_due: outbox.oldest_due.map(local),
        waves: families(&outbox.waves)
            .into_iter()
            .map(|(k, at, n)| (kind(k), local(at), n))
            .collect(),
        sessions,
        broadcasts: scheduled
            .into_iter()
            .map(|(id, at, _)| (id, local(at)))
            .collect(),
        page,
    };
    html(StatusCode::OK, &overview)
}

/// The queued waves by the family of their kind (a survey's reminders with its invitations), each with its
/// earliest moment and its messages in all, soonest first. A kind this version does not write stays as it is.
fn families(waves: &[(String, DateTime<Utc>, i64)]) -> Vec<(&str, DateTime<Utc>, i64)> {
    let mut out: Vec<(&str, DateTime<Utc>, i64)> = Vec::new();
    for (kind, at, n) in waves {
        let family = key_family(kind).unwrap_or(kind);
        match out.iter_mut().find(|(f, _, _)| *f == family) {
            Some((_, first, count)) => {
                *first = (*first).min(*at);
                *count += n;
            }
            None => out.push((family, *at, *n)),
        }
    }
    out.sort_by_key(|(_, at, _)| *at);
    out
}
