//! `/programme/series/<id>`: a series with its sessions (cancelled ones listed), and its forms: edit or move
//! a session, cancel one (confirmed), add one, edit the series. Each save is one `services::season::apply`;
//! a refused form comes back open, as typed, with its problems next to its fields.
use super::Console;
use super::auth::{CsrfForm, Signed};
use super::page::{Page, html, message};
use super::programme::{
    Saved, done_text, mode_labels, redirect, refused, storage_failed, texts, when,
};
use super::programme_form::{self as form, Fields, Problems, value};
use super::programme_view::{SeriesForm, SessionForm, series_form, session_form};
use crate::domain::season::{ProgrammeChange, SeriesFields};
use crate::services::season;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

/// One session on a series' page: what it is, and its edit and cancel forms.
pub struct SessionBlock {
    pub id: String,
    pub summary: String,
    pub form: SessionForm,
    pub general: Vec<String>,
    pub confirm_errors: Vec<String>,
    /// Its forms are shown open (they came back with problems).
    pub open: bool,
}

#[derive(Template)]
#[template(path = "programme_series.html")]
struct SeriesPage {
    page: Page,
    id: String,
    sessions: Vec<SessionBlock>,
    cancelled: Vec<String>,
    add: SessionForm,
    add_general: Vec<String>,
    series: SeriesForm,
    series_general: Vec<String>,
    done: Option<String>,
    place_label: String,
    online_label: String,
    /// Nobody registered and not started: the page offers to delete it (`programme_delete.rs`).
    deletable: bool,
}

pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    saved: Query<Saved>,
) -> Response {
    let page = signed.page;
    let done = done_text(&page, &saved);
    let deletable = deletable(&console, &id).await;
    series_page(page, &id, done, None, deletable)
}

/// Whether the series may be deleted now (a storage failure: not offered).
async fn deletable(console: &Console, id: &str) -> bool {
    matches!(season::deletable(&console.ctx, id).await, Ok(Some(Ok(()))))
}

/// What a refused form on the series page brings back: which form, what was typed, the problems.
struct Typed {
    of: String,
    values: Fields,
    problems: Problems,
}

fn series_page(
    page: Page,
    id: &str,
    done: Option<String>,
    typed: Option<Typed>,
    deletable: bool,
) -> Response {
    let content = page.content().clone();
    let Some(series) = content.series(id) else {
        return message(StatusCode::NOT_FOUND, page, "console.not_found");
    };
    let mut page = page;
    page.title = series.name.get(page.lang).to_string();
    let none = Problems::default();
    // The form that came back keeps what was typed and shows its problems; the others show what is stored.
    let state = |of: &str| match typed.as_ref().filter(|t| t.of == of) {
        Some(t) => (Some(t.values.clone()), &t.problems),
        None => (None, &none),
    };
    let sessions = series
        .sessions_in_order()
        .into_iter()
        .map(|s| {
            let (values, problems) = state(&s.id);
            let open = values.is_some();
            let values = values.unwrap_or_else(|| form::session_values(s, ""));
            SessionBlock {
                id: s.id.clone(),
                summary: format!("{} · {}", s.title.get(page.lang), when(&page, s)),
                form: session_form(&page, &values, problems, &format!("{}-", s.id), ""),
                general: texts(&page, problems, ""),
                confirm_errors: texts(&page, problems, "confirm"),
                open,
            }
        })
        .collect();
    let cancelled = content
        .season_extra
        .cancelled
        .iter()
        .filter(|(series_id, _)| series_id == id)
        .map(|(_, s)| format!("{} · {}", s.title.get(page.lang), when(&page, s)))
        .collect();
    let (add_values, add_problems) = state("add");
    let add_values =
        add_values.unwrap_or_else(|| [("mode".to_string(), "place".to_string())].into());
    let (series_values, series_problems) = state("series");
    let series_values =
        series_values.unwrap_or_else(|| form::series_values(id, &SeriesFields::of(series)));
    let status = match typed.is_some() {
        true => StatusCode::UNPROCESSABLE_ENTITY,
        false => StatusCode::OK,
    };
    let (place_label, online_label) = mode_labels(&page);
    let view = SeriesPage {
        id: id.to_string(),
        sessions,
        cancelled,
        add: session_form(&page, &add_values, add_problems, "add-", ""),
        add_general: texts(&page, add_problems, ""),
        series: series_form(&page, &series_values, series_problems, false),
        series_general: texts(&page, series_problems, ""),
        done,
        place_label,
        online_label,
        deletable,
        page,
    };
    html(status, &view)
}

/// Which form on a series' page was posted.
enum FormOf {
    Series,
    /// Adding a session, which will have this id.
    Add(String),
    Session(String),
}

impl FormOf {
    /// The name `Typed::of` gives the form.
    fn name(&self) -> String {
        match self {
            FormOf::Series => "series".into(),
            FormOf::Add(_) => "add".into(),
            FormOf::Session(id) => id.clone(),
        }
    }

    /// The session the form is about: the content check's problems about it go next to its fields.
    fn sessions(&self) -> Vec<(String, String)> {
        match self {
            FormOf::Series => Vec::new(),
            FormOf::Add(id) | FormOf::Session(id) => vec![(id.clone(), String::new())],
        }
    }
}

/// A posted form: as typed, the problems found reading it, and the change it asks for (if it could be read).
struct Posted {
    values: Fields,
    problems: Problems,
    change: Option<ProgrammeChange>,
}

/// Saves the change of a form on series `id`'s page (`kind` names it in the confirmation), or shows the page
/// again with that form open, as typed, and its problems.
async fn save(
    console: &Console,
    signed: Signed,
    id: &str,
    of: FormOf,
    posted: Posted,
    kind: &str,
) -> Response {
    let page = signed.page;
    let Posted {
        values,
        mut problems,
        change,
    } = posted;
    let deletable = deletable(console, id).await;
    let again = |page, values, problems| {
        series_page(
            page,
            id,
            None,
            Some(Typed {
                of: of.name(),
                values,
                problems,
            }),
            deletable,
        )
    };
    let change = match change {
        Some(change) if problems.is_empty() => change,
        _ => return again(page, values, problems),
    };
    let by = signed.session.coordinator_id;
    match season::apply(&console.ctx, by, change).await {
        Ok(applied) => redirect(&page, &format!("programme/series/{id}"), kind, &applied),
        Err(e) => match refused(e, &of.sessions(), &mut problems) {
            Ok(()) => again(page, values, problems),
            Err(e) => storage_failed(page, e),
        },
    }
}

pub async fn edit_series(
    State(console): State<Console>,
    Path(id): Path<String>,
    posted: CsrfForm<Fields>,
) -> Response {
    let CsrfForm {
        signed,
        form: values,
    } = posted;
    let mut problems = Problems::default();
    let fields = form::series_fields(&values, &mut problems);
    let change = Some(ProgrammeChange::EditSeries {
        id: id.clone(),
        fields,
    });
    let posted = Posted {
        values,
        problems,
        change,
    };
    save(&console, signed, &id, FormOf::Series, posted, "series").await
}

pub async fn add_session(
    State(console): State<Console>,
    Path(id): Path<String>,
    posted: CsrfForm<Fields>,
) -> Response {
    let CsrfForm {
        signed,
        form: values,
    } = posted;
    let mut problems = Problems::default();
    let session_id = signed.page.content().season().next_session_id(&id);
    let session = form::session(&values, "", session_id.clone(), &mut problems);
    let change = session.map(|session| ProgrammeChange::AddSession {
        series_id: id.clone(),
        session,
    });
    let posted = Posted {
        values,
        problems,
        change,
    };
    save(
        &console,
        signed,
        &id,
        FormOf::Add(session_id),
        posted,
        "session",
    )
    .await
}

pub async fn edit_session(
    State(console): State<Console>,
    Path((id, session_id)): Path<(String, String)>,
    posted: CsrfForm<Fields>,
) -> Response {
    let CsrfForm {
        signed,
        form: values,
    } = posted;
    let mut problems = Problems::default();
    let change = form::session(&values, "", session_id.clone(), &mut problems)
        .map(ProgrammeChange::EditSession);
    let posted = Posted {
        values,
        problems,
        change,
    };
    save(
        &console,
        signed,
        &id,
        FormOf::Session(session_id),
        posted,
        "session",
    )
    .await
}

pub async fn cancel_session(
    State(console): State<Console>,
    Path((id, session_id)): Path<(String, String)>,
    posted: CsrfForm<Fields>,
) -> Response {
    let CsrfForm {
        signed,
        form: values,
    } = posted;
    let mut problems = Problems::default();
    if value(&values, "confirm").is_empty() {
        problems.add("confirm", "console.programme.error.confirm_cancel");
    }
    let change = Some(ProgrammeChange::CancelSession {
        session_id: session_id.clone(),
    });
    let posted = Posted {
        values,
        problems,
        change,
    };
    save(
        &console,
        signed,
        &id,
        FormOf::Session(session_id),
        posted,
        "cancelled",
    )
    .await
}
