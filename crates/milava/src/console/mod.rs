//! The coordinators' web console: an adapter beside `telegram/`, served by the same process on `ADMIN_ADDR`
//! (off when unset), behind the reverse proxy that terminates TLS. Server-rendered HTML (askama templates in
//! `templates/`, texts from `dialogues/texts/*/console.toml`), no JavaScript. Pages call services and db like
//! the chat does; nothing lower imports this module.
//!
//! Sign-in: `/admin` in chat sends a one-time link (`services::console`); `GET /login/<token>` shows a button
//! whose POST uses the link (so link previews and scanners cannot use it up) and sets the session cookie.
//! Every page needs a session (`auth::Signed`); every form carries the session's CSRF token
//! (`auth::CsrfForm`). How to add a page: docs/console.md.
mod announcements;
mod attendance_page;
mod audit_page;
mod auth;
mod downloads;
mod limit;
mod overview;
mod page;
mod peer_groups;
mod people;
mod programme;
mod programme_delete;
mod programme_form;
mod programme_series;
mod programme_view;
mod survey_rounds;
mod survey_texts;
mod surveys_page;

pub use auth::COOKIE;

use crate::services::Ctx;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// What every console request can reach.
#[derive(Clone)]
pub struct Console {
    pub ctx: Ctx,
    /// Failed sign-in links, per client address and in all (429 beyond them).
    limits: Arc<Mutex<limit::Limits>>,
}

impl Console {
    pub fn new(ctx: Ctx) -> Console {
        Console {
            ctx,
            limits: Default::default(),
        }
    }
}

/// The console's routes. A new page adds its route here (docs/console.md).
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(overview::show))
        .route("/audit", get(audit_page::show))
        .route("/programme", get(programme::list))
        .route("/programme/ends", post(programme::set_ends))
        .route(
            "/programme/new",
            get(programme::new_form).post(programme::add_series),
        )
        .route(
            "/programme/series/{id}",
            get(programme_series::show).post(programme_series::edit_series),
        )
        .route(
            "/programme/series/{id}/delete",
            get(programme_delete::confirm).post(programme_delete::delete),
        )
        .route(
            "/programme/series/{id}/session",
            post(programme_series::add_session),
        )
        .route(
            "/programme/series/{id}/session/{session}",
            post(programme_series::edit_session),
        )
        .route(
            "/programme/series/{id}/session/{session}/cancel",
            post(programme_series::cancel_session),
        )
        .route("/people", get(people::list))
        .route("/people/{id}", get(people::show))
        .route(
            "/people/{id}/erase",
            get(people::confirm_erase).post(people::erase),
        )
        .route("/downloads/participants.xlsx", get(downloads::participants))
        .route("/downloads/attendance.xlsx", get(downloads::attendance))
        .route("/attendance", get(attendance_page::choose))
        .route("/attendance/{series}", get(attendance_page::show))
        .route("/attendance/{series}/mark", post(attendance_page::mark))
        .route(
            "/attendance/{series}/certificate",
            post(attendance_page::certificate),
        )
        .route("/announcements", get(announcements::show))
        .route("/announcements/preview", post(announcements::preview))
        .route("/announcements/send", post(announcements::send))
        .route("/announcements/{id}", get(announcements::progress))
        .route("/announcements/{id}/cancel", post(announcements::cancel))
        .route("/groups", get(peer_groups::show))
        .route("/groups/{id}/facilitators", post(peer_groups::add))
        .route(
            "/groups/{id}/facilitators/{person}/remove",
            post(peer_groups::remove),
        )
        .route("/groups/{id}/pause", post(peer_groups::pause_group))
        .route("/groups/{id}/resume", post(peer_groups::resume_group))
        .route("/surveys", get(surveys_page::show))
        .route(
            "/surveys/send",
            get(survey_rounds::form).post(survey_rounds::send),
        )
        .route("/surveys/send/preview", post(survey_rounds::preview))
        .route("/surveys/rounds/{id}", get(survey_rounds::show))
        .route("/surveys/{id}/chart.png", get(surveys_page::chart))
        .route("/surveys/{id}/texts.xlsx", get(survey_texts::download))
        .route("/surveys/{id}/export.csv", get(surveys_page::export_csv))
        .route(
            "/surveys/{id}/codebook.csv",
            get(surveys_page::codebook_csv),
        )
        .route("/login", get(auth::signin_page))
        .route("/login/{token}", get(auth::link_page).post(auth::use_link))
        .route("/logout", post(auth::sign_out))
        .route("/language", post(auth::language))
        .route("/console.css", get(stylesheet))
        .fallback(page::not_found)
        // A form's address opened as a page (the language switch coming back to "logout"): the overview.
        .method_not_allowed_fallback(|State(console): State<Console>| async move {
            auth::redirect(&console, "")
        })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(console)
}

/// Serves the console on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    ctx: Ctx,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let app = router(Console::new(ctx)).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        log::error!("console stopped: {e}");
    }
}

const STYLESHEET: &str = include_str!("console.css");

async fn stylesheet() -> Response {
    let mut response = Response::new(STYLESHEET.into());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600"),
    );
    response
}

/// No scripts, frames, foreign forms or referrers (a sign-in link's token never leaves in a Referer), and
/// nothing personal kept in caches.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
