//! Sessions, sign-in by link, sign-out, the language switch, and the two extractors every page uses:
//! `Signed` (a valid session, else the sign-in page or a 403) and `CsrfForm<T>` (a POST form of that session
//! carrying its CSRF token, else a 403).
use super::Console;
use super::page::{Page, base_path, guest_lang, html, message};
use crate::domain::Lang;
use crate::services::console::{self as signin, Check, Session, SignIn};
use askama::Template;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// The session cookie's name.
pub const COOKIE: &str = "milava_console";
/// The largest form body read.
const FORM_LIMIT: usize = 64 * 1024;

/// A request of a signed-in coordinator.
pub struct Signed {
    pub session: Session,
    /// The layout's data for this request (language, CSRF token, where it is).
    pub page: Page,
}

impl<S: Send + Sync> FromRequestParts<S> for Signed
where
    Console: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let console = Console::from_ref(state);
        let guest = || {
            let lang = guest_lang(&console, &parts.uri, &parts.headers);
            Page::new(&console, lang, None, &parts.uri)
        };
        let Some(id) = cookie(&parts.headers) else {
            return Err(signin_response(StatusCode::UNAUTHORIZED, guest(), None));
        };
        match signin::check(&console.ctx, &id).await {
            Ok(Check::Valid(session)) => {
                let page = Page::new(
                    &console,
                    session.lang,
                    Some(session.csrf.clone()),
                    &parts.uri,
                );
                Ok(Signed { session, page })
            }
            Ok(Check::None) => Err(signin_response(
                StatusCode::UNAUTHORIZED,
                guest(),
                Some("console.signin.ended"),
            )),
            Ok(Check::NotCoordinator) => Err(with_cookie_cleared(message(
                StatusCode::FORBIDDEN,
                guest(),
                "console.forbidden",
            ))),
            Err(e) => Err(storage_failed(&e, guest())),
        }
    }
}

/// A POST form of a signed-in coordinator whose `csrf` field is the session's token; `T` is read from the
/// same form (it may ignore the `csrf` field).
pub struct CsrfForm<T> {
    pub signed: Signed,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T>
where
    Console: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let console = Console::from_ref(state);
        let refuse = |signed: Signed, why: &'static str| async move {
            log::warn!(
                "console: refused a form of coordinator {}: {why}",
                signed.session.coordinator_id
            );
            if let Err(e) =
                signin::record_refusal(&console.ctx, signed.session.coordinator_id, why).await
            {
                log::error!("console: audit line not written: {e}");
            }
            message(StatusCode::FORBIDDEN, signed.page, "console.csrf")
        };
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return Err(message(
                StatusCode::PAYLOAD_TOO_LARGE,
                signed.page,
                "console.bad_form",
            ));
        };
        let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
            .ok()
            .and_then(|f| f.csrf);
        match token {
            None => return Err(refuse(signed, "form without CSRF token").await),
            Some(token) if !signin::same_secret(&token, &signed.session.csrf) => {
                return Err(refuse(signed, "form with a wrong CSRF token").await);
            }
            Some(_) => {}
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(CsrfForm { signed, form }),
            Err(_) => Err(message(
                StatusCode::BAD_REQUEST,
                signed.page,
                "console.bad_form",
            )),
        }
    }
}

/// The session id in the request's cookie, if any.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The cookie that carries a new session: HttpOnly, SameSite=Strict, Path=/, Secure under https; no expiry
/// (the session ends on the server after 8 hours idle).
fn session_cookie(console: &Console, id: &str) -> HeaderValue {
    let secure = console
        .ctx
        .config
        .admin_public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https");
    let value = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn with_cookie_cleared(mut response: Response) -> Response {
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("milava_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

fn storage_failed(e: &crate::db::DbError, page: Page) -> Response {
    log::error!("console: storage failed: {e}");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        page,
        "console.storage_failed",
    )
}

/// The sign-in page: how to get a link.
#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    page: Page,
    /// A note above the explanation (a session that ended, signed out), already in the page's language.
    note: Option<String>,
}

fn signin_response(status: StatusCode, page: Page, note: Option<&str>) -> Response {
    let page = page.titled("console.signin.title");
    let note = note.map(|key| page.t(key).to_string());
    html(status, &SigninPage { page, note })
}

/// `GET /login`.
pub async fn signin_page(State(console): State<Console>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = guest_lang(&console, &uri, &headers);
    signin_response(StatusCode::OK, Page::new(&console, lang, None, &uri), None)
}

/// The page a sign-in link opens: one button that uses the link.
#[derive(Template)]
#[template(path = "login_link.html")]
struct LinkPage {
    page: Page,
}

/// `GET /login/<token>`: changes nothing (link previews and scanners open links too).
pub async fn link_page(State(console): State<Console>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = guest_lang(&console, &uri, &headers);
    let page = Page::new(&console, lang, None, &uri).titled("console.link.title");
    html(StatusCode::OK, &LinkPage { page })
}

#[derive(Deserialize)]
pub struct LinkForm {
    lang: Option<String>,
}

/// `POST /login/<token>`: uses the link; a good one starts a session and goes to the overview.
pub async fn use_link(
    State(console): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<axum::Form<LinkForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = form
        .ok()
        .and_then(|axum::Form(f)| f.lang)
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(|| guest_lang(&console, &uri, &headers));
    let page = Page::new(&console, lang, None, &uri);
    let now = console.ctx.clock.now();
    let client = client_address(peer, &headers);
    let allowed = console
        .limits
        .lock()
        .map(|mut l| l.allows(client, now))
        .unwrap_or(false);
    if !allowed {
        console.ctx.metrics.console_rate_limited();
        log::warn!("console: sign-in attempts from {client} held back (too many bad links)");
        return message(StatusCode::TOO_MANY_REQUESTS, page, "console.too_many");
    }
    match signin::sign_in(&console.ctx, &token, lang).await {
        Ok(SignIn::Started { session_id, .. }) => {
            let mut response = redirect(&console, "");
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&console, &session_id));
            response
        }
        Ok(SignIn::BadLink) => {
            console.ctx.metrics.console_link_refused();
            if let Ok(mut limits) = console.limits.lock() {
                limits.failed(client, now);
            }
            message(StatusCode::FORBIDDEN, page, "console.link_refused")
        }
        Ok(SignIn::NotCoordinator) => message(StatusCode::FORBIDDEN, page, "console.forbidden"),
        Err(e) => storage_failed(&e, page),
    }
}

/// The client's address: the peer, or behind a reverse proxy on this machine the address it puts last in
/// `X-Forwarded-For` (the one it saw; earlier entries are the client's own claims).
fn client_address(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if !peer.ip().is_loopback() {
        return peer.ip();
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer.ip())
}

/// A 303 to `path` (relative to the console's base).
pub fn redirect(console: &Console, path: &str) -> Response {
    let location = format!("{}{}", base_path(console), path.trim_start_matches('/'));
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /logout`.
pub async fn sign_out(State(console): State<Console>, signed: CsrfForm<Empty>) -> Response {
    let Signed { session, page } = signed.signed;
    let guest = page.signed_out();
    if let Err(e) = signin::sign_out(&console.ctx, &session).await {
        return storage_failed(&e, guest);
    }
    with_cookie_cleared(signin_response(
        StatusCode::OK,
        guest,
        Some("console.signin.signed_out"),
    ))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    /// The page to come back to (relative to the base).
    back: Option<String>,
}

/// `POST /language`: the session's language.
pub async fn language(State(console): State<Console>, form: CsrfForm<LanguageForm>) -> Response {
    let CsrfForm { signed, form } = form;
    let Some(lang) = Lang::parse(&form.lang) else {
        return message(StatusCode::BAD_REQUEST, signed.page, "console.bad_form");
    };
    if let Err(e) = signin::set_language(&console.ctx, &signed.session, lang).await {
        return storage_failed(&e, signed.page);
    }
    let back = form.back.filter(|b| is_relative(b)).unwrap_or_default();
    redirect(&console, &back)
}

/// A path inside the console (no scheme, no host, no way up).
fn is_relative(path: &str) -> bool {
    !path.contains("//")
        && !path.contains('\\')
        && !path.contains("..")
        && !path.contains(':')
        && !path.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_console_are_followed_back() {
        for good in ["", "audit", "audit?action=x&page=2", "people/12"] {
            assert!(is_relative(good), "{good}");
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/x",
            "../x",
            "\\\\x",
        ] {
            assert!(!is_relative(bad), "{bad}");
        }
    }

    #[test]
    fn the_session_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; milava_console=abc ; b=2"),
        );
        assert_eq!(cookie(&headers).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("milava_console="));
        assert_eq!(cookie(&headers), None);
    }

    #[test]
    fn behind_a_local_proxy_the_address_it_saw_counts() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("10.9.9.9, 198.51.100.4"),
        );
        assert_eq!(
            client_address(local, &headers),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(remote, &headers), remote.ip());
        assert_eq!(client_address(local, &HeaderMap::new()), local.ip());
    }
}
