//! `/audit`: the audit log, newest first, filtered by who, by action and by dates (local days), 50 lines a
//! page.
use super::Console;
use super::auth::Signed;
use super::page::{Page, html, message};
use crate::db::audit::{self, Filter};
use crate::services::profile::format_local;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

const PER_PAGE: i64 = 50;

/// The filter as typed in the form (everything optional, empty = any).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

pub struct Row {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    params: Params,
    /// What in the filter was not understood, already in the page's language.
    problems: Vec<String>,
    actions: Vec<(String, String)>,
    actors: Vec<String>,
    rows: Vec<Row>,
    /// "Lines 1–50 of 120".
    shown: String,
    /// Links to the previous and next page, relative.
    previous: Option<String>,
    next: Option<String>,
}

/// An action's name as people read it: `console.audit.action.<action>` when the texts have one.
fn action_label(page: &Page, action: &str) -> String {
    let key = format!("console.audit.action.{action}");
    if page.content().texts.has(page.lang, &key) {
        page.t(&key).to_string()
    } else {
        action.to_string()
    }
}

pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    query: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page = signed.page.titled("console.audit.title");
    let params = query.map(|Query(p)| p).unwrap_or_default();
    let tz = console.ctx.config.timezone;
    let mut problems = Vec::new();
    let day = |raw: &str, problems: &mut Vec<String>, key: &str| -> Option<NaiveDate> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(raw, "%d.%m.%Y"));
        if parsed.is_err() {
            problems.push(page.fill(key, &[("value", raw)]));
        }
        parsed.ok()
    };
    let start_of = |d: NaiveDate| -> Option<DateTime<Utc>> {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    let from = day(&params.from, &mut problems, "console.audit.bad_date");
    let to = day(&params.to, &mut problems, "console.audit.bad_date");
    let actor = match params.actor.trim() {
        "" => None,
        raw => match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push(page.fill("console.audit.bad_actor", &[("value", raw)]));
                None
            }
        },
    };
    let filter = Filter {
        actor,
        action: Some(params.action.trim().to_string()).filter(|a| !a.is_empty()),
        from: from.and_then(start_of),
        before: to.and_then(|d| d.succ_opt()).and_then(start_of),
    };
    let number = params
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, i64::MAX / PER_PAGE);
    let offset = (number - 1) * PER_PAGE;
    let read = tokio::try_join!(
        audit::page(&console.ctx.pool, &filter, offset, PER_PAGE),
        audit::choices(&console.ctx.pool),
    );
    let ((lines, total), (actions, actors)) = match read {
        Ok(read) => read,
        Err(e) => {
            log::error!("console: audit log not read: {e}");
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                page,
                "console.storage_failed",
            );
        }
    };
    let rows = lines
        .into_iter()
        .map(|line| Row {
            at: format_local(tz, page.lang, line.at),
            actor: line.actor.to_string(),
            action: action_label(&page, &line.action),
            detail: line.detail,
        })
        .collect::<Vec<_>>();
    let shown = if total == 0 {
        page.t("console.audit.none").to_string()
    } else {
        page.fill(
            "console.audit.shown",
            &[
                ("first", &(offset + 1).min(total).to_string()),
                ("last", &(offset + rows.len() as i64).to_string()),
                ("total", &total.to_string()),
            ],
        )
    };
    let link_to = |n: i64| {
        let query = serde_urlencoded::to_string([
            ("actor", params.actor.as_str()),
            ("action", params.action.as_str()),
            ("from", params.from.as_str()),
            ("to", params.to.as_str()),
            ("page", &n.to_string()),
        ])
        .unwrap_or_default();
        format!("audit?{query}")
    };
    let previous = (number > 1).then(|| link_to(number - 1));
    let next = (offset + PER_PAGE < total).then(|| link_to(number + 1));
    let actions = actions
        .into_iter()
        .map(|a| {
            let label = action_label(&page, &a);
            (a, label)
        })
        .collect();
    let audit = AuditPage {
        params,
        problems,
        actions,
        actors: actors.iter().map(i64::to_string).collect(),
        rows,
        shown,
        previous,
        next,
        page,
    };
    html(StatusCode::OK, &audit)
}
