//! `/programme`: the workshop series (past ones marked) and the programme's end; `/programme/new` adds a
//! series with its sessions; `/programme/series/<id>` shows a series with its sessions, and edits the series,
//! adds a session, moves or edits one, and cancels one. Every save is one call of `services::season::apply`
//! (the same checks as `milava-bot check`, change notices and re-planning as after `/reload`); a refused form
//! comes back as typed with each problem next to its field, in the coordinator's language.
use super::Console;
use super::auth::{CsrfForm, Signed};
use super::page::{Page, html, message};
use super::programme_form::{self as form, Fields, Problems, value};
use super::programme_view::{FieldView, SeriesForm, SessionForm, series_form, session_form};
use crate::domain::programme::{Registration, Series, Session};
use crate::domain::season::{ProgrammeChange, SeriesFields};
use crate::services::season::{self, Applied, SeasonError};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Session rows of the new-series form.
const NEW_ROWS: usize = 3;

/// A saved change, shown once after the redirect.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Saved {
    saved: Option<String>,
    notices: Option<usize>,
}

/// One series in the list.
pub struct SeriesRow {
    pub id: String,
    pub name: String,
    pub area: String,
    pub dates: String,
    pub sessions: usize,
    pub status: String,
    pub past: bool,
}

#[derive(Template)]
#[template(path = "programme_list.html")]
struct ListPage {
    page: Page,
    rows: Vec<SeriesRow>,
    ends_now: String,
    ends: FieldView,
    general: Vec<String>,
    done: Option<String>,
}

/// One session row of the new-series form.
pub struct NewRow {
    pub title: String,
    pub form: SessionForm,
}

#[derive(Template)]
#[template(path = "programme_new.html")]
struct NewPage {
    page: Page,
    series: SeriesForm,
    sessions: Vec<NewRow>,
    general: Vec<String>,
    /// The form came back with problems: its top says so (on a phone the fields are far below).
    refused: bool,
    place_label: String,
    online_label: String,
}

pub(super) fn texts(page: &Page, problems: &Problems, field: &str) -> Vec<String> {
    problems
        .of(field)
        .iter()
        .map(|k| page.t(k).to_string())
        .collect()
}

pub(super) fn mode_labels(page: &Page) -> (String, String) {
    (
        page.t("console.programme.mode_place").to_string(),
        page.t("console.programme.mode_online").to_string(),
    )
}

pub(super) fn when(page: &Page, session: &Session) -> String {
    crate::services::programme::when(page.content(), page.lang, session)
}

pub(super) fn done_text(page: &Page, saved: &Saved) -> Option<String> {
    let kind = saved.saved.as_deref()?;
    let key = match kind {
        "series" | "session" | "cancelled" | "added" | "ends" | "deleted" => {
            format!("console.programme.saved.{kind}")
        }
        _ => return None,
    };
    let notices = saved.notices.unwrap_or(0).to_string();
    Some(page.fill(&key, &[("notices", &notices)]))
}

pub(super) fn redirect(page: &Page, to: &str, kind: &str, applied: &Applied) -> Response {
    Redirect::to(&format!(
        "{}{to}?saved={kind}&notices={}",
        page.base, applied.notices
    ))
    .into_response()
}

/// Puts a refusal of `season::apply` next to the fields (`sessions`: session ids and their field prefixes);
/// a storage failure is the console's polite page instead.
pub(super) fn refused(
    error: SeasonError,
    sessions: &[(String, String)],
    problems: &mut Problems,
) -> Result<(), SeasonError> {
    match error {
        SeasonError::Invalid(found) => {
            found
                .iter()
                .for_each(|p| form::place_problem(p, sessions, problems));
            Ok(())
        }
        SeasonError::Change(e) => {
            form::change_problem(&e, problems);
            Ok(())
        }
        // Only deleting a series (its own page, `programme_delete.rs`) is refused for registrations.
        e @ (SeasonError::Db(_) | SeasonError::Registered { .. }) => Err(e),
    }
}

pub(super) fn storage_failed(page: Page, e: SeasonError) -> Response {
    log::error!("console: programme not saved: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        page,
        "console.storage_failed",
    )
}

pub async fn list(State(console): State<Console>, signed: Signed, saved: Query<Saved>) -> Response {
    let page = signed.page.titled("console.programme.title");
    let done = done_text(&page, &saved);
    list_page(&console, page, done, Problems::default(), None)
}

fn list_page(
    console: &Console,
    page: Page,
    done: Option<String>,
    problems: Problems,
    typed: Option<String>,
) -> Response {
    let content = page.content().clone();
    let tz = console.ctx.config.timezone;
    let now = crate::domain::time::utc_to_local(tz, console.ctx.clock.now());
    let retention = console.ctx.config.personal_data_retention_days;
    let rows = content
        .series
        .iter()
        .map(|s| series_row(&page, s, now, retention))
        .collect();
    let status = match problems.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut values = Fields::new();
    let shown = typed.unwrap_or_else(|| content.programme_ends.format("%Y-%m-%d").to_string());
    values.insert("ends".into(), shown);
    let list = ListPage {
        rows,
        ends_now: page.fill(
            "console.programme.ends_now",
            &[("date", &content.programme_ends_text(page.lang))],
        ),
        ends: FieldView {
            id: "ends".into(),
            name: "ends".into(),
            label: page.t("console.programme.ends_label").to_string(),
            value: value(&values, "ends").to_string(),
            kind: "date",
            errors: texts(&page, &problems, "ends"),
        },
        general: texts(&page, &problems, ""),
        done,
        page,
    };
    html(status, &list)
}

fn series_row(
    page: &Page,
    series: &Series,
    now: chrono::NaiveDateTime,
    retention: u32,
) -> SeriesRow {
    let day = |t: Option<chrono::NaiveDateTime>| {
        t.map(|t| t.format("%-d.%-m.%Y").to_string())
            .unwrap_or_default()
    };
    let past = series.last_end().is_some_and(|end| end < now);
    let status = match (past, series.registration(now, retention)) {
        (true, _) => page.t("console.programme.status.past").to_string(),
        (false, Registration::Open) => page.t("console.programme.status.open").to_string(),
        (false, Registration::NotYet(opens)) => page.fill(
            "console.programme.status.not_yet",
            &[("date", &opens.format("%-d.%-m.%Y %H.%M").to_string())],
        ),
        (false, Registration::Closed) => page.t("console.programme.status.closed").to_string(),
    };
    SeriesRow {
        id: series.id.clone(),
        name: series.name.get(page.lang).to_string(),
        area: page
            .t(&format!("console.programme.area.{}", series.area))
            .to_string(),
        dates: format!("{} – {}", day(series.first_start()), day(series.last_end())),
        sessions: series.sessions.len(),
        status,
        past,
    }
}

#[derive(Deserialize)]
pub struct EndsForm {
    #[serde(default)]
    ends: String,
}

pub async fn set_ends(State(console): State<Console>, posted: CsrfForm<EndsForm>) -> Response {
    let CsrfForm {
        signed,
        form: typed,
    } = posted;
    let page = signed.page.titled("console.programme.title");
    let mut problems = Problems::default();
    let Some(ends) = form::parse_date(typed.ends.trim()) else {
        problems.add("ends", "console.programme.error.bad_date");
        return list_page(&console, page, None, problems, Some(typed.ends));
    };
    let by = signed.session.coordinator_id;
    match season::apply(&console.ctx, by, ProgrammeChange::SetProgrammeEnds(ends)).await {
        Ok(applied) => redirect(&page, "programme", "ends", &applied),
        Err(e) => match refused(e, &[], &mut problems) {
            Ok(()) => list_page(&console, page, None, problems, Some(typed.ends)),
            Err(e) => storage_failed(page, e),
        },
    }
}

pub async fn new_form(signed: Signed) -> Response {
    let page = signed.page.titled("console.programme.new_title");
    let mut values = Fields::new();
    for row in 1..=NEW_ROWS {
        values.insert(format!("s{row}_mode"), "place".into());
    }
    new_page(page, values, Problems::default())
}

fn new_page(page: Page, values: Fields, problems: Problems) -> Response {
    let status = match problems.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let sessions = (1..=NEW_ROWS)
        .map(|n| NewRow {
            title: page.fill("console.programme.session_n", &[("n", &n.to_string())]),
            form: session_form(
                &page,
                &values,
                &problems,
                &format!("s{n}-"),
                &format!("s{n}_"),
            ),
        })
        .collect();
    let (place_label, online_label) = mode_labels(&page);
    let new = NewPage {
        series: series_form(&page, &values, &problems, true),
        sessions,
        general: texts(&page, &problems, ""),
        refused: !problems.is_empty(),
        place_label,
        online_label,
        page,
    };
    html(status, &new)
}

pub async fn add_series(State(console): State<Console>, posted: CsrfForm<Fields>) -> Response {
    let CsrfForm {
        signed,
        form: typed,
    } = posted;
    let page = signed.page.titled("console.programme.new_title");
    let mut problems = Problems::default();
    let id = value(&typed, "id").to_string();
    if id.is_empty() {
        problems.add("id", "console.programme.error.required");
    }
    let fields = form::series_fields(&typed, &mut problems);
    let mut sessions = Vec::new();
    let mut prefixes = Vec::new();
    for row in 1..=NEW_ROWS {
        let prefix = format!("s{row}_");
        if form::row_is_empty(&typed, &prefix) {
            continue;
        }
        let session_id = format!("{id}-{}", prefixes.len() + 1);
        prefixes.push((session_id.clone(), prefix.clone()));
        if let Some(session) = form::session(&typed, &prefix, session_id, &mut problems) {
            sessions.push(session);
        }
    }
    if prefixes.is_empty() {
        problems.add("s1_title_fi", "console.programme.error.no_sessions");
    }
    if !problems.is_empty() {
        return new_page(page, typed, problems);
    }
    let mut series = Series {
        id: id.clone(),
        code: String::new(),
        name: Default::default(),
        area: String::new(),
        capacity: None,
        waitlist: false,
        certificate_min_sessions: None,
        registration_opens: None,
        registration_closes: None,
        place: None,
        sessions,
    };
    apply_fields(&mut series, fields);
    let by = signed.session.coordinator_id;
    match season::apply(&console.ctx, by, ProgrammeChange::AddSeries(series)).await {
        Ok(applied) => redirect(&page, &format!("programme/series/{id}"), "added", &applied),
        Err(e) => match refused(e, &prefixes, &mut problems) {
            Ok(()) => new_page(page, typed, problems),
            Err(e) => storage_failed(page, e),
        },
    }
}

fn apply_fields(series: &mut Series, fields: SeriesFields) {
    series.code = fields.code;
    series.name = fields.name;
    series.area = fields.area;
    series.capacity = fields.capacity;
    series.waitlist = fields.waitlist;
    series.certificate_min_sessions = fields.certificate_min_sessions;
    series.registration_opens = fields.registration_opens;
    series.registration_closes = fields.registration_closes;
    series.place = fields.place;
}
