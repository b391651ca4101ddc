//! The Surveys page in a real browser (headless Chromium, `browser.rs`) at phone and laptop sizes: a
//! coordinator sends a survey round to a series of two professionals registered through the fake Bot API,
//! sees the preview's count and the round's progress, then the results with a session's own scope, in
//! Finnish and English. With `CONSOLE_SCREENSHOTS=/some/folder` each page is saved as a PNG there.
use crate::browser::Browser;
use crate::console::{admin_link, coordinator};
use crate::harness::{TestBot, console_settings};
use testkit::story::register_professional;
use testkit::story::surveys::invitations_to;

/// Chooses `value` in the select `select` (no page load).
async fn choose(browser: &Browser, select: &str, value: &str) {
    browser
        .find(&format!("{select} option[value=\"{value}\"]"))
        .await
        .click()
        .await
        .expect("option chosen");
}

async fn send_a_round(browser: Browser, name: &str) {
    let mut settings = console_settings().to_vec();
    settings.push(("SURVEY_MIN_RESPONSES", "2"));
    let bot = TestBot::start_with(&settings).await;
    let anna = register_professional(&bot, 9311, "Anna").await;
    let bertta = register_professional(&bot, 9312, "Bertta").await;
    let link = admin_link(&bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
    browser.click_link("Kyselyt").await;
    assert_eq!(browser.text("h1").await, "Kyselyt");
    browser.click("#send-round").await;
    assert_eq!(browser.text("h1").await, "Lähetä kysely");
    browser.screenshot(&format!("{name}-survey-send-fi")).await;
    // Nothing chosen: the form again with what to fix.
    browser.click("#preview").await;
    assert!(browser.text("#problems").await.contains("Valitse kysely."));
    choose(&browser, "#survey", "series-end").await;
    choose(&browser, "#audience", "series-oulu-2024").await;
    browser.click("#preview").await;
    assert_eq!(browser.text("#invited").await, "2");
    assert_eq!(browser.text("#already").await, "0");
    browser
        .screenshot(&format!("{name}-survey-preview-fi"))
        .await;
    browser.click("#send").await;
    assert_eq!(browser.text("h1").await, "Kyselykierros #1");
    assert_eq!(browser.text("#invited").await, "2");
    assert_eq!(browser.text("#answered").await, "0");
    browser.screenshot(&format!("{name}-survey-round-fi")).await;
    bot.settle().await;
    for person in [&anna, &bertta] {
        assert_eq!(
            invitations_to(&bot, person, "Loppukysely: työpajasarja").len(),
            1
        );
    }
    // Session feedback from two meetings: each session has results of its own.
    for (session, comment) in [
        ("oulu-2024-2", "Hyvä"),
        ("oulu-2024-2", "Lisää esimerkkejä"),
        ("oulu-2024-3", "Selkeä"),
        ("oulu-2024-3", "Liian lyhyt"),
    ] {
        let answers = serde_json::json!({"useful": {"likert": 4}, "try_method": {"single": "yes"},
            "comment": {"text": comment}});
        sqlx::query(
            "INSERT INTO survey_responses (survey_id, survey_version, trigger_key, series_id, session_id,
               answers, submitted_at)
             VALUES ('session-feedback', 1, ?, 'oulu-2024', ?, ?, '2024-04-10T09:13:00Z')",
        )
        .bind(format!("session:oulu-2024:{session}"))
        .bind(session)
        .bind(answers.to_string())
        .execute(&bot.db)
        .await
        .unwrap();
    }
    browser.click_link("Takaisin Kyselyt-sivulle").await;
    assert!(
        browser
            .text("#session-feedback--oulu-2024-3 h3")
            .await
            .contains("2 vastausta")
    );
    browser.screenshot(&format!("{name}-surveys-fi")).await;
    browser.click("button[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Surveys");
    assert!(
        browser
            .text("#session-feedback--oulu-2024-2 h3")
            .await
            .contains("2 responses")
    );
    browser.screenshot(&format!("{name}-surveys-en")).await;
    browser.click("#rounds a").await;
    assert_eq!(browser.text("h1").await, "Survey round #1");
    browser.screenshot(&format!("{name}-survey-round-en")).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_coordinator_sends_a_survey_round_and_reads_a_sessions_results() {
    send_a_round(Browser::phone().await, "phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_laptop_a_coordinator_sends_a_survey_round_and_reads_a_sessions_results() {
    send_a_round(Browser::laptop().await, "laptop").await;
}
