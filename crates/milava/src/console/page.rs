//! What every console page shares: the language, the texts, the links (relative to the console's base path)
//! and the layout's header; rendering a template into a response; the friendly message page.
use super::Console;
use crate::content::Content;
use crate::domain::Lang;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The header's navigation: (link relative to the base, text key). A new page adds its line here.
pub const NAV: &[(&str, &str)] = &[
    ("./", "console.nav.overview"),
    ("programme", "console.nav.programme"),
    ("audit", "console.nav.audit"),
    ("people", "console.nav.people"),
    ("attendance", "console.nav.attendance"),
    ("announcements", "console.nav.announcements"),
    ("groups", "console.nav.groups"),
    ("surveys", "console.nav.surveys"),
];

/// The layout's data for one page.
pub struct Page {
    pub lang: Lang,
    content: Arc<Content>,
    /// The console's path as browsers see it (`/`, or `/console/` behind a proxy that strips that prefix):
    /// the layout's `<base href>`, so every link and form action in templates is relative.
    pub base: String,
    /// The session's CSRF token (`None` when signed out): every POST form carries it.
    pub csrf: Option<String>,
    /// This page's address relative to the base (where the language switch comes back to).
    pub here: String,
    /// The page's heading and title, already in the page's language.
    pub title: String,
}

/// One link of the header's navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

impl Page {
    pub fn new(console: &Console, lang: Lang, csrf: Option<String>, uri: &Uri) -> Page {
        let here = uri
            .path_and_query()
            .map(|p| p.as_str().trim_start_matches('/').to_string())
            .unwrap_or_default();
        Page {
            lang,
            content: console.ctx.content.get(),
            base: base_path(console),
            csrf,
            here,
            title: String::new(),
        }
    }

    /// Sets the title from a text key.
    pub fn titled(mut self, key: &str) -> Page {
        self.title = self.t(key).to_string();
        self
    }

    /// A text in the page's language.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.content.text(self.lang, key)
    }

    /// A text with `{placeholders}` filled in.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        self.content.fill(self.lang, key, values)
    }

    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The same page for someone no longer signed in (after signing out).
    pub fn signed_out(self) -> Page {
        Page { csrf: None, ..self }
    }

    pub fn signed_in(&self) -> bool {
        self.csrf.is_some()
    }

    pub fn csrf_token(&self) -> &str {
        self.csrf.as_deref().unwrap_or_default()
    }

    /// The language the switch offers.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Fi => "en",
            Lang::En => "fi",
        }
    }

    /// This page in the other language, for someone not signed in (`?lang=`).
    pub fn switch_href(&self) -> String {
        let path = self.here.split('?').next().unwrap_or_default();
        format!("{path}?lang={}", self.other_lang())
    }

    /// The header's links; the one of this page's section is current (`aria-current="page"`), also on its
    /// sub-pages (`people/12/erase` is in People).
    pub fn nav(&self) -> Vec<NavItem> {
        let path = self.here.split('?').next().unwrap_or_default();
        NAV.iter()
            .map(|&(href, key)| NavItem {
                href,
                label: self.t(key).to_string(),
                current: in_section(path, href.trim_start_matches("./")),
            })
            .collect()
    }
}

/// Whether `path` (relative, without a query) is the section `section` or one of its sub-pages; the overview
/// (`""`) has none.
fn in_section(path: &str, section: &str) -> bool {
    match path.strip_prefix(section) {
        Some(rest) => rest.is_empty() || (!section.is_empty() && rest.starts_with('/')),
        None => false,
    }
}

/// The base path of the console's links: `ADMIN_PUBLIC_URL`'s path, or `/`.
pub fn base_path(console: &Console) -> String {
    console
        .ctx
        .config
        .admin_public_url
        .as_ref()
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| "/".into())
}

/// A rendered template as a response with `status`.
pub fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            log::error!("console: a page could not be rendered: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page with a heading, a paragraph and maybe a link: refusals, errors, "signed out".
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    pub page: Page,
    pub text: String,
    /// (href relative to the base, label)
    pub link: Option<(String, String)>,
}

/// The message page with the texts `<key>.title` and `<key>.text`, and a link to the overview when signed in
/// or to the sign-in page when not.
pub fn message(status: StatusCode, page: Page, key: &str) -> Response {
    let page = page.titled(&format!("{key}.title"));
    let text = page.t(&format!("{key}.text")).to_string();
    let link = if page.signed_in() {
        Some(("./".to_string(), page.t("console.nav.overview").to_string()))
    } else {
        Some((
            "login".to_string(),
            page.t("console.signin.how").to_string(),
        ))
    };
    html(status, &Message { page, text, link })
}

/// The language of a page for someone not signed in: `?lang=` if given, else the browser's first choice of
/// Finnish or English, else the bot's default.
pub fn guest_lang(console: &Console, uri: &Uri, headers: &HeaderMap) -> Lang {
    let asked = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.strip_prefix("lang="))
            .find_map(Lang::parse)
    });
    asked
        .or_else(|| {
            let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
            accept.split(',').find_map(|tag| {
                let tag = tag.split(';').next()?.trim().to_ascii_lowercase();
                match tag.get(..2)? {
                    "fi" => Some(Lang::Fi),
                    "en" => Some(Lang::En),
                    _ => None,
                }
            })
        })
        .unwrap_or(console.ctx.config.default_language)
}

/// Any address the console does not have: for a signed-in coordinator in their language with the header's
/// links, for anyone else as a guest.
pub async fn not_found(
    State(console): State<Console>,
    signed: Result<super::auth::Signed, Response>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let page = match signed {
        Ok(signed) => signed.page,
        Err(_) => Page::new(&console, guest_lang(&console, &uri, &headers), None, &uri),
    };
    message(StatusCode::NOT_FOUND, page, "console.not_found")
}

#[cfg(test)]
mod tests {
    use super::in_section;

    #[test]
    fn a_section_is_current_on_its_sub_pages() {
        assert!(in_section("", ""));
        assert!(!in_section("people", ""));
        assert!(in_section("people", "people"));
        assert!(in_section("people/12/erase", "people"));
        assert!(in_section("programme/series/k-2027", "programme"));
        assert!(!in_section("peoples", "people"));
        assert!(!in_section("audit", "people"));
    }
}
