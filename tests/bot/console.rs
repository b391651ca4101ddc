//! The coordinators' web console over HTTP (the browser tests are in console_browser.rs): sign-in by the
//! link the bot sends, links that work once and for 10 minutes, made-up cookies, CSRF tokens, sessions that
//! end after 8 hours idle, rate limits on bad links, both languages, and the pages' content.
use crate::harness::{TestBot, console_settings, joined};
use chrono::Duration;
use fake_telegram::FakeUser;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use testkit::story::register_father;

pub const COORDINATOR: i64 = 900;

pub fn coordinator() -> FakeUser {
    FakeUser::new(COORDINATOR, "Kaisa", Some("fi"))
}

/// The link `/admin` gets `user`, at the console's real address.
pub async fn admin_link(bot: &TestBot, user: &FakeUser) -> String {
    let replies = bot.send(user, "/admin").await;
    bot.console_link(&joined(&replies)).await
}

/// An HTTP client that follows no redirects (the tests look at each answer).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Uses a sign-in link as the page's button does; the response.
async fn use_link(link: &str) -> reqwest::Response {
    client()
        .post(link)
        .form(&[("lang", "fi")])
        .send()
        .await
        .unwrap()
}

/// A signed-in browser session: its cookie.
pub struct Signed {
    pub base: String,
    pub cookie: String,
}

impl Signed {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = client()
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        client()
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token in the page's forms.
    pub async fn csrf(&self) -> String {
        let (_, page) = self.get("").await;
        let at = page
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        page[at..at + 64].to_string()
    }
}

pub async fn sign_in(bot: &TestBot) -> Signed {
    let link = admin_link(bot, &coordinator()).await;
    let response = use_link(&link).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    Signed {
        base: bot.console_url().await,
        cookie,
    }
}

pub async fn audit_count(bot: &TestBot, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = ?")
        .bind(action)
        .fetch_one(&bot.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_from_admin_signs_in_once_with_a_strict_http_only_cookie() {
    let bot = TestBot::start_with(&console_settings()).await;
    let link = admin_link(&bot, &coordinator()).await;
    assert!(link.contains("/login/"), "{link}");
    // Opening the link (or a link preview fetching it) changes nothing; the page's button uses it.
    let page = client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("id=\"sign-in\""));
    let response = use_link(&link).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    for part in ["milava_console=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "http here: {cookie}");
    let signed = Signed {
        base: bot.console_url().await,
        cookie: cookie.split(';').next().unwrap().to_string(),
    };
    let (status, overview) = signed.get("").await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("<h1>Yleiskuva</h1>"), "{overview}");
    // Used once: the second time it is refused, counted and audited.
    let again = use_link(&link).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(again.text().await.unwrap().contains("jo käytetty"));
    assert_eq!(bot.ctx().metrics.console_links_refused(), 1);
    assert_eq!(audit_count(&bot, "console_link_sent").await, 1);
    assert_eq!(audit_count(&bot, "console_sign_in").await, 1);
    assert_eq!(audit_count(&bot, "console_link_refused").await, 1);
    // Only the hash of the token is stored.
    assert!(link.ends_with("?lang=fi"), "{link}");
    let token = link
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches("?lang=fi");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_links WHERE token_hash = ?")
        .bind(token)
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_works_for_ten_minutes_only() {
    let bot = TestBot::start_with(&console_settings()).await;
    let early = admin_link(&bot, &coordinator()).await;
    let late = admin_link(&bot, &coordinator()).await;
    bot.clock
        .advance(Duration::minutes(9) + Duration::seconds(59));
    assert_eq!(use_link(&early).await.status(), StatusCode::SEE_OTHER);
    bot.clock.advance(Duration::seconds(1));
    let refused = use_link(&late).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'console_link_refused'")
            .fetch_all(&bot.db)
            .await
            .unwrap();
    assert_eq!(details, ["link expired"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_valid_session_every_page_is_the_sign_in_page() {
    let bot = TestBot::start_with(&console_settings()).await;
    let base = bot.console_url().await;
    for cookie in [
        None,
        Some("milava_console=0123456789abcdef"),
        Some("other=1"),
    ] {
        for path in ["", "audit"] {
            let mut request = client().get(format!("{base}{path}"));
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{cookie:?} {path}"
            );
            let page = response.text().await.unwrap();
            assert!(
                page.contains("<h1>Kirjaudu</h1>") && page.contains("/admin"),
                "{page}"
            );
            assert!(!page.contains("Yleiskuva</h1>"));
        }
    }
    // A form without a session is refused as well, and changes nothing.
    let response = client()
        .post(format!("{base}logout"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The sign-in page itself, in English on request.
    let page = client()
        .get(format!("{base}login?lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<h1>Sign in</h1>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let bot = TestBot::start_with(&console_settings()).await;
    let signed = sign_in(&bot).await;
    let csrf = signed.csrf().await;
    for form in [
        vec![],
        vec![("csrf", "0".repeat(64))],
        vec![("csrf", String::new())],
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = signed.post("logout", &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Lomaketta ei voitu hyväksyä"), "{page}");
        assert_eq!(signed.get("").await.0, StatusCode::OK, "still signed in");
    }
    assert_eq!(audit_count(&bot, "console_refused").await, 3);
    // Another session's token does not do either.
    let other = sign_in(&bot).await;
    let other_csrf = other.csrf().await;
    assert_ne!(other_csrf, csrf);
    let response = signed.post("logout", &[("csrf", &other_csrf)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The right one signs out.
    let response = signed.post("logout", &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Olet kirjautunut ulos.")
    );
    assert_eq!(signed.get("").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        other.get("").await.0,
        StatusCode::OK,
        "only that session ended"
    );
    assert_eq!(audit_count(&bot, "console_sign_out").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_coordinators_admin_is_refused_in_chat_and_audited() {
    let bot = TestBot::start_with(&console_settings()).await;
    let pekka = register_father(&bot, 7001, "Pekka").await;
    let replies = bot.send(&pekka, "/admin").await;
    assert_eq!(
        joined(&replies),
        "Tämä komento on vain hankkeen koordinaattoreille."
    );
    assert!(!joined(&replies).contains("/login/"));
    let refused: Vec<(i64, String)> =
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'console_refused'")
            .fetch_all(&bot.db)
            .await
            .unwrap();
    assert_eq!(refused, [(7001, "/admin in chat".to_string())]);
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_links")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(links, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_after_eight_hours_without_use() {
    let bot = TestBot::start_with(&console_settings()).await;
    let signed = sign_in(&bot).await;
    // Used within 8 hours each time, it lasts.
    for _ in 0..3 {
        bot.clock
            .advance(Duration::hours(7) + Duration::minutes(59));
        assert_eq!(signed.get("audit").await.0, StatusCode::OK);
    }
    bot.clock.advance(Duration::hours(8));
    let (status, page) = signed.get("").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Istuntosi on päättynyt"), "{page}");
    assert_eq!(audit_count(&bot, "console_session_expired").await, 1);
    // It stays ended.
    bot.clock.advance(Duration::minutes(1));
    assert_eq!(signed.get("").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_no_longer_a_coordinator_is_refused_with_403() {
    let mut bot = TestBot::start_with(&console_settings()).await;
    let signed = sign_in(&bot).await;
    let link = admin_link(&bot, &coordinator()).await;
    bot.set_coordinators(&[901]);
    bot.restart().await;
    let signed = Signed {
        base: bot.console_url().await,
        ..signed
    };
    let link = link.replacen(
        link.split("/login/").next().unwrap(),
        bot.console_url().await.trim_end_matches('/'),
        1,
    );
    let (status, page) = signed.get("").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Ei käyttöoikeutta"), "{page}");
    assert_eq!(use_link(&link).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(audit_count(&bot, "console_refused").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_links_are_counted_and_held_back_per_address_and_in_all() {
    let bot = TestBot::start_with(&console_settings()).await;
    let base = bot.console_url().await;
    let try_from = |address: &'static str| {
        let url = format!("{base}login/{}", "ab".repeat(32));
        async move {
            client()
                .post(url)
                .header("x-forwarded-for", address)
                .form(&[("lang", "en")])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_eq!(try_from("192.0.2.1").await.status(), StatusCode::FORBIDDEN);
    }
    let held = try_from("192.0.2.1").await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(held.text().await.unwrap().contains("Too many attempts"));
    // Another address may still try, until bad links from everywhere reach the overall limit.
    assert_eq!(try_from("192.0.2.2").await.status(), StatusCode::FORBIDDEN);
    let metrics = bot.ctx().metrics;
    assert_eq!(metrics.console_links_refused(), 6);
    assert_eq!(metrics.console_rate_limits(), 1);
    // A good link of a coordinator from the held address waits too; a minute later it works.
    let link = admin_link(&bot, &coordinator()).await;
    let held = client()
        .post(&link)
        .header("x-forwarded-for", "192.0.2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    bot.clock.advance(Duration::seconds(61));
    let good = client()
        .post(&link)
        .header("x-forwarded-for", "192.0.2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
}

/// Text keys that a page shows as they are have no text: none may appear.
fn assert_all_texts_found(page: &str) {
    let without_stylesheet = page.replace("console.css", "");
    assert!(
        !without_stylesheet.contains("console."),
        "a text key is missing: {page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_come_in_finnish_and_english_and_the_switch_keeps_the_page() {
    let bot = TestBot::start_with(&console_settings()).await;
    register_father(&bot, 7001, "Pekka").await;
    let signed = sign_in(&bot).await;
    let (_, overview) = signed.get("").await;
    assert!(overview.contains("<html lang=\"fi\">"));
    assert!(
        overview.contains("Ilmoittautuneita") && overview.contains("Isä"),
        "{overview}"
    );
    assert!(overview.contains("<dd id=\"total\">1</dd>"), "{overview}");
    assert_all_texts_found(&overview);
    let (_, audit) = signed.get("audit").await;
    assert!(audit.contains("<h1>Tapahtumaloki</h1>") && audit.contains("Kirjautui konsoliin"));
    assert_all_texts_found(&audit);
    let csrf = signed.csrf().await;
    let switched = signed
        .post(
            "language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "audit?page=1")],
        )
        .await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);
    assert_eq!(switched.headers()[LOCATION], "/audit?page=1");
    let (_, audit) = signed.get("audit").await;
    assert!(audit.contains("<html lang=\"en\">") && audit.contains("<h1>Audit log</h1>"));
    assert!(audit.contains("Signed in to the console"));
    assert_all_texts_found(&audit);
    let (_, overview) = signed.get("").await;
    assert!(
        overview.contains("<h1>Overview</h1>") && overview.contains("Father"),
        "{overview}"
    );
    assert_all_texts_found(&overview);
    // Somewhere outside the console is not followed back to.
    let away = signed
        .post(
            "language",
            &[("csrf", &csrf), ("lang", "fi"), ("back", "//evil.example/")],
        )
        .await;
    assert_eq!(away.headers()[LOCATION], "/");
    let (status, _) = signed.get("logout").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a form's address as a page");
    let (status, missing) = signed.get("no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_all_texts_found(&missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_by_who_what_and_when_and_pages_by_fifty() {
    let bot = TestBot::start_with(&console_settings()).await;
    let mut tx = milava_bot::db::begin_write(bot.store()).await.unwrap();
    let day =
        |d: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 3, d, 10, 0, 0).unwrap();
    for i in 0..60 {
        milava_bot::db::audit::record(
            &mut tx,
            901,
            "participants_export",
            &format!("{i} rows"),
            day(1),
        )
        .await
        .unwrap();
    }
    milava_bot::db::audit::record(
        &mut tx,
        902,
        "content_reloaded",
        "2 changed sessions",
        day(5),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let signed = sign_in(&bot).await;
    let (_, all) = signed.get("audit").await;
    assert!(all.contains("Rivit 1–50 / 63"), "{all}");
    assert!(all.contains("rel=\"next\""));
    let (_, second) = signed.get("audit?page=2").await;
    assert!(second.contains("Rivit 51–63 / 63") && !second.contains("rel=\"next\""));
    let (_, by_actor) = signed.get("audit?actor=902").await;
    assert!(by_actor.contains("Rivit 1–1 / 1") && by_actor.contains("2 changed sessions"));
    let (_, by_action) = signed
        .get("audit?action=participants_export&from=2024-03-01&to=2024-03-01")
        .await;
    assert!(by_action.contains("Rivit 1–50 / 60"), "{by_action}");
    let (_, by_date) = signed.get("audit?from=2024-03-02&to=2024-03-05").await;
    assert!(by_date.contains("Rivit 1–1 / 1"), "{by_date}");
    // What is not understood is said, and the rest still shows.
    let (status, bad) = signed.get("audit?from=yesterday&actor=Kaisa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bad.contains("Päivämäärää ”yesterday” ei ymmärretty") && bad.contains("”Kaisa” ei ole")
    );
    assert!(bad.contains("Rivit 1–50 / 63"));
    // Escaped, not markup.
    let (_, odd) = signed.get("audit?from=%3Cb%3E").await;
    assert!(!odd.contains("<b>") && !odd.contains("”<b>”"), "{odd}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_who_asks_to_be_forgotten_is_signed_out_of_the_console() {
    let bot = TestBot::start_with(&console_settings()).await;
    let signed = sign_in(&bot).await;
    admin_link(&bot, &coordinator()).await;
    bot.send(&coordinator(), "/forget").await;
    bot.press(&coordinator(), "Kyllä, poista kaikki").await;
    assert_eq!(signed.get("").await.0, StatusCode::UNAUTHORIZED);
    for table in ["console_sessions", "console_links"] {
        let left: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&bot.db)
            .await
            .unwrap();
        assert_eq!(left, 0, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_registrations_the_unreachable_the_queue_and_what_comes_next() {
    let bot = TestBot::start_with(&console_settings()).await;
    testkit::story::register_professional(&bot, 9001, "Anna Ammattilainen").await;
    register_father(&bot, 7001, "Pekka").await;
    // Two days before the Oulu series' first session (19.3.2024 8.00) its reminders are queued.
    bot.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 3, 17, 12, 0, 0).unwrap());
    bot.settle().await;
    sqlx::query("UPDATE users SET unreachable_since = '2024-03-17T12:00:00+00:00' WHERE telegram_user_id = 7001")
        .execute(&bot.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO broadcasts (coordinator, step, status, send_at, created_at)
         VALUES (900, 'done', 'scheduled', '2024-03-20T08:00:00+00:00', '2024-03-17T12:00:00+00:00')",
    )
    .execute(&bot.db)
    .await
    .unwrap();
    let signed = sign_in(&bot).await;
    let (_, page) = signed.get("").await;
    for shown in [
        "<dd id=\"total\">2</dd>",
        "<dd id=\"unreachable\">1</dd>",
        "<td>Ammattilainen</td><td class=\"num\">1</td>",
        "<td>Oulu, kevät 2024</td><td class=\"num\">1</td>",
        "Tapaamisten muistutukset ja läsnäolot",
        "<td>Odottaa</td>",
        "ti 19.3.2024 klo 8.00–12.00",
        "#1 · 20.3.2024 klo 10.00",
    ] {
        assert!(page.contains(shown), "{shown} not in {page}");
    }
    assert!(!page.contains("ke 13.3.2024"), "sessions past are not next");
}
