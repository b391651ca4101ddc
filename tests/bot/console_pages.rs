//! Every console page, on a console with a season's worth of data (`seed`): the header's section stays
//! current (`aria-current="page"`) on its sub-pages; at phone width (390 px) no page is wider than the
//! screen; and, run by hand, a screenshot of every page at 390 and 1366 px in Finnish and English:
//!
//! ```sh
//! SCREENSHOT_DIR=/tmp/shots cargo test --test bot console_screenshots -- --ignored
//! ```
//! (default folder `target/screenshots`).
use crate::browser::{Browser, LAPTOP, PHONE, Size};
use crate::console::{COORDINATOR, Signed, admin_link, coordinator, sign_in};
use crate::harness::{TestBot, console_settings};
use crate::season::kajaani;
use milava_bot::domain::season::ProgrammeChange;
use milava_bot::services::season;
use reqwest::StatusCode;
use std::path::PathBuf;
use testkit::story::groups::link_oulu;
use testkit::story::{register_father, register_professional};

const FATHERS: &[&str] = &[
    "Mikko Korhonen",
    "Jukka Virtanen",
    "Timo Mäkinen",
    "Antti Nieminen",
    "Jari Mäkelä",
    "Petri Hämäläinen",
    "Sami Laine",
    "Janne Heikkinen",
    "Ville Koskinen",
    "Tuomas Järvinen",
    "Matti Lehtonen",
    "Juha Lehtinen",
    "Ari Saarinen",
    "Kari Salminen",
    "Olli Heinonen",
    "Teemu Niemi",
    "Heikki Heikkilä",
    "Markus Kinnunen",
];
const PROFESSIONALS: &[&str] = &[
    "Anna Laine",
    "Sanna Turunen",
    "Kaisa Salo",
    "Riikka Rantanen",
    "Minna Karjalainen",
    "Johanna Lindholm",
    "Pirjo Jokinen",
    "Laura Hiltunen",
    "Elina Miettinen",
    "Tiina Koivisto",
    "Henna Aaltonen",
    "Maria Mattila",
];

/// What `seed` made that pages are addressed by.
struct Seeded {
    /// A person's id in `people/<id>`.
    person: String,
    /// Announcements: one sent, one scheduled.
    sent: i64,
    scheduled: i64,
    /// A survey round sent to Oulu's series.
    round: String,
}

/// The first `prefix…"` address on `page` (e.g. `href="people/`), without the prefix.
fn first_after(page: &str, prefix: &str) -> String {
    let at = page
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {page}"))
        + prefix.len();
    page[at..].split('"').next().unwrap_or_default().to_string()
}

/// A research-consented answer to the final survey of Oulu's series, stored directly.
async fn survey_answer(bot: &TestBot, likert: u8) {
    let answers = serde_json::json!({"overall": {"likert": likert}});
    sqlx::query(
        "INSERT INTO survey_responses (survey_id, survey_version, trigger_key, series_id, session_id, pseudonym,
           research_consent, answers, submitted_at)
         VALUES ('series-end', 1, 'series:oulu-2024', 'oulu-2024', NULL, NULL, 1, ?, '2024-05-16T09:13:00Z')",
    )
    .bind(answers.to_string())
    .execute(&bot.db)
    .await
    .unwrap();
}

async fn posted(signed: &Signed, path: &str, form: &[(&str, &str)]) {
    let response = signed.post(path, form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}");
}

/// A season's worth of data: three series (one a draft nobody registered for), 18 fathers and 12
/// professionals, attendance, survey answers, an announcement sent and one scheduled, a linked peer group
/// with a facilitator, and the audit lines of all that.
async fn seed(bot: &TestBot) -> Seeded {
    link_oulu(bot).await;
    season::apply(
        &bot.ctx(),
        COORDINATOR,
        ProgrammeChange::AddSeries(kajaani()),
    )
    .await
    .expect("series added");
    for (i, name) in FATHERS.iter().enumerate() {
        register_father(bot, 7100 + i as i64, name).await;
    }
    for (i, name) in PROFESSIONALS.iter().enumerate() {
        register_professional(bot, 7200 + i as i64, name).await;
    }
    for score in [5, 4, 4, 3, 5, 4] {
        survey_answer(bot, score).await;
    }
    let signed = sign_in(bot).await;
    let csrf = signed.csrf().await;
    for (i, session) in ["oulu-2024-1", "oulu-2024-2"].iter().enumerate() {
        for user in 7200..7208 + i as i64 * 2 {
            let user = user.to_string();
            let form = [
                ("csrf", csrf.as_str()),
                ("session", session),
                ("user", &user),
                ("present", "1"),
            ];
            posted(&signed, "attendance/oulu-2024/mark", &form).await;
        }
    }
    let (_, groups) = signed.get("groups").await;
    let person = first_after(&groups, "<option value=\"");
    let form = [("csrf", csrf.as_str()), ("person", &person)];
    posted(&signed, "groups/oulu-isat-fi/facilitators", &form).await;
    let text = "Hei kaikki!\nKevään ensimmäinen tapaaminen on tiistaina 19.3. klo 10 Oulun kirjastossa. \
                Tervetuloa, myös ensikertalaiset!";
    let form = [
        ("csrf", csrf.as_str()),
        ("text", text),
        ("audience", "all"),
        ("when", "now"),
        ("at", ""),
    ];
    posted(&signed, "announcements/send", &form).await;
    let form = [
        ("csrf", csrf.as_str()),
        (
            "text",
            "Muistutus: ilmoittautuminen Kajaanin sarjaan päättyy perjantaina.",
        ),
        ("audience", "role-professional"),
        ("when", "later"),
        ("at", "2024-03-20T09:00"),
    ];
    posted(&signed, "announcements/send", &form).await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM broadcasts ORDER BY id")
        .fetch_all(&bot.db)
        .await
        .unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("survey", "series-end"),
        ("audience", "series-oulu-2024"),
    ];
    let round = signed.post("surveys/send", &form).await;
    assert_eq!(round.status(), StatusCode::SEE_OTHER);
    let round = round.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string();
    let (_, people) = signed.get("people").await;
    Seeded {
        person: first_after(&people, "href=\"people/"),
        sent: ids[0],
        scheduled: *ids.last().unwrap(),
        round,
    }
}

/// Every page a signed-in coordinator opens with a link (name, address).
fn pages(seeded: &Seeded) -> Vec<(String, String)> {
    let person = &seeded.person;
    [
        ("overview", String::new()),
        ("audit", "audit".into()),
        ("programme", "programme".into()),
        ("programme-new", "programme/new".into()),
        ("series", "programme/series/oulu-2024".into()),
        ("series-draft", "programme/series/kajaani-2024".into()),
        (
            "series-delete",
            "programme/series/kajaani-2024/delete".into(),
        ),
        (
            "series-delete-refused",
            "programme/series/oulu-2024/delete".into(),
        ),
        ("people", "people".into()),
        ("people-filtered", "people?role=father".into()),
        ("person", format!("people/{person}")),
        ("person-erase", format!("people/{person}/erase")),
        ("attendance", "attendance".into()),
        ("attendance-matrix", "attendance/oulu-2024".into()),
        ("announcements", "announcements".into()),
        (
            "announcement-sent",
            format!("announcements/{}", seeded.sent),
        ),
        (
            "announcement-scheduled",
            format!("announcements/{}", seeded.scheduled),
        ),
        ("groups", "groups".into()),
        ("surveys", "surveys".into()),
        ("survey-send", "surveys/send".into()),
        ("survey-round", seeded.round.clone()),
        ("not-found", "no-such-page".into()),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_string(), path))
    .collect()
}

/// The overview's queued messages are named as coordinators know them, in both languages: a survey's
/// reminders count with its invitations, and no key's inner name (`survey-reminder`) shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_names_queued_messages_in_the_coordinators_language() {
    let bot = TestBot::start_with(&console_settings()).await;
    seed(&bot).await;
    let signed = sign_in(&bot).await;
    let pending: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT substr(idempotency_key, 1, instr(idempotency_key, ':') - 1) FROM deliveries
         WHERE status = 'pending' ORDER BY 1",
    )
    .fetch_all(&bot.db)
    .await
    .unwrap();
    assert!(
        pending.contains(&"survey".to_string()) && pending.contains(&"survey-reminder".to_string()),
        "the seeded season has survey invitations and reminders waiting: {pending:?}"
    );
    for (lang, surveys) in [("fi", "<td>Kyselyt</td>"), ("en", "<td>Surveys</td>")] {
        let csrf = signed.csrf().await;
        posted(
            &signed,
            "language",
            &[("csrf", &csrf), ("lang", lang), ("back", "")],
        )
        .await;
        let (_, overview) = signed.get("").await;
        // The queued waves' table, for a failure's message.
        let queued = &overview[overview.rfind("<tbody").unwrap_or(0)..];
        assert!(!overview.contains("survey-reminder"), "{lang}: {queued}");
        assert_eq!(overview.matches(surveys).count(), 1, "{lang}: {queued}");
    }
}

/// The section each sub-page belongs to: the header's link that must be current there; a 404 keeps the header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_shows_the_section_of_every_sub_page() {
    let bot = TestBot::start_with(&console_settings()).await;
    register_professional(&bot, 7200, "Anna Laine").await;
    let signed = sign_in(&bot).await;
    let csrf = signed.csrf().await;
    let text = "Hei!";
    let form = [
        ("csrf", csrf.as_str()),
        ("text", text),
        ("audience", "all"),
        ("when", "now"),
        ("at", ""),
    ];
    posted(&signed, "announcements/send", &form).await;
    for (path, section) in [
        ("", "./"),
        ("programme", "programme"),
        ("programme/new", "programme"),
        ("programme/series/oulu-2024", "programme"),
        ("programme/series/oulu-2024/delete", "programme"),
        ("people", "people"),
        ("people/7200", "people"),
        ("people/7200/erase", "people"),
        ("attendance/oulu-2024", "attendance"),
        ("announcements/1", "announcements"),
        ("groups", "groups"),
        ("surveys", "surveys"),
        ("surveys/send", "surveys"),
        ("audit?action=console_sign_in", "audit"),
    ] {
        let (_, page) = signed.get(path).await;
        let current: Vec<&str> = page
            .match_indices("aria-current=\"page\"")
            .map(|(at, _)| &page[..at])
            .collect();
        assert_eq!(current.len(), 1, "one current section on {path}");
        let link = current[0].rsplit("href=\"").next().unwrap_or_default();
        assert!(link.starts_with(&format!("{section}\"")), "{path}: {link}");
    }
    // An address the console does not have keeps the coordinator's language and header.
    let form = [("csrf", csrf.as_str()), ("lang", "en"), ("back", "")];
    posted(&signed, "language", &form).await;
    let (status, page) = signed.get("no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(page.contains("action=\"logout\""), "signed in: {page}");
}

/// A refused new series says so at the top of the long form, before its fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_new_series_says_so_at_the_top() {
    let bot = TestBot::start_with(&console_settings()).await;
    let signed = sign_in(&bot).await;
    let csrf = signed.csrf().await;
    let response = signed.post("programme/new", &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    let said = page.find("id=\"refused\"").expect("said at the top");
    assert!(
        said < page
            .find("<form method=\"post\" action=\"programme/new\"")
            .unwrap()
    );
    let (_, page) = signed.get("programme/new").await;
    assert!(!page.contains("id=\"refused\""), "not before saving");
}

/// Signs `browser` in as the coordinator.
async fn browser_sign_in(bot: &TestBot, browser: &Browser) {
    let link = admin_link(bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
}

/// The page's width, the window's, and how many tables scroll sideways in their box though not marked
/// `.wide` (only the attendance matrix is meant to: its names stay in view).
async fn widths(browser: &Browser) -> (u64, u64, u64) {
    let value = browser
        .client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth,
                     Array.from(document.querySelectorAll('.scroll:not(.wide)'))
                       .filter(e => e.scrollWidth > e.clientWidth + 1).length]",
            vec![],
        )
        .await
        .expect("widths");
    let width = |i: usize| value[i].as_u64().unwrap_or_default();
    (width(0), width(1), width(2))
}

/// On a 390 px phone no page scrolls sideways: wide tables scroll inside their own box or become cards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_screen() {
    let bot = TestBot::start_with(&console_settings()).await;
    let seeded = seed(&bot).await;
    let browser = Browser::phone().await;
    browser_sign_in(&bot, &browser).await;
    let base = bot.console_url().await;
    let mut wide = Vec::new();
    for (name, path) in pages(&seeded) {
        browser.goto(&format!("{base}{path}")).await;
        let (page, window, scrolling) = widths(&browser).await;
        if page > window || scrolling > 0 {
            wide.push(format!("{name}: {page} px, {scrolling} tables scroll"));
        }
    }
    assert!(wide.is_empty(), "wider than the 390 px screen: {wide:?}");
}

/// Saves the page as `<dir>/<name>-<lang>-<width>.png`, the whole of its height.
async fn shot(browser: &Browser, dir: &std::path::Path, name: &str, lang: &str, size: Size) {
    let height = browser
        .client
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(size.1 as u64) as u32;
    browser
        .client
        .set_window_size(size.0, height.max(size.1))
        .await
        .expect("window size");
    let png = browser.client.screenshot().await.expect("screenshot");
    browser
        .client
        .set_window_size(size.0, size.1)
        .await
        .expect("window size");
    std::fs::write(dir.join(format!("{name}-{lang}-{}.png", size.0)), png)
        .expect("screenshot written");
}

/// Every page of one language and width, signed in and out.
async fn shoot_all(bot: &TestBot, seeded: &Seeded, dir: &std::path::Path, lang: &str, size: Size) {
    let base = bot.console_url().await;
    let browser = Browser::start(size).await;
    // Signed out: the sign-in page, a link's page, a refused link (403).
    browser.goto(&format!("{base}login?lang={lang}")).await;
    shot(&browser, dir, "login", lang, size).await;
    let link = admin_link(bot, &coordinator()).await;
    browser.goto(&format!("{link}?lang={lang}")).await;
    shot(&browser, dir, "login-link", lang, size).await;
    browser
        .goto(&format!("{base}login/made-up-token?lang={lang}"))
        .await;
    browser.click("#sign-in").await;
    shot(&browser, dir, "link-refused-403", lang, size).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
    if lang == "en" {
        browser.click("form[action=language] button").await;
    }
    for (name, path) in pages(seeded) {
        browser.goto(&format!("{base}{path}")).await;
        shot(&browser, dir, &name, lang, size).await;
    }
    // Forms: a refused new series (422), an announcement's preview.
    browser.goto(&format!("{base}programme/new")).await;
    browser.click("form.form button[type=submit]").await;
    shot(&browser, dir, "programme-new-refused-422", lang, size).await;
    browser.goto(&format!("{base}announcements")).await;
    browser
        .run("document.querySelector('#text').value = 'Hei isät! Syksyn kokoontuminen on torstaina klo 18 Oulun kirjastossa.'; document.querySelector('#audience').value = 'role-father';")
        .await;
    browser.click("#preview").await;
    shot(&browser, dir, "announcement-preview", lang, size).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes screenshots of every console page to look at: run by hand (docs/testing.md)"]
async fn console_screenshots() {
    let dir = std::env::var_os("SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let bot = TestBot::start_with(&console_settings()).await;
    let seeded = seed(&bot).await;
    for lang in ["fi", "en"] {
        for size in [PHONE, LAPTOP] {
            shoot_all(&bot, &seeded, &dir, lang, size).await;
        }
    }
    println!("screenshots in {}", dir.display());
}
