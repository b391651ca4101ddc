//! The console in a real browser (headless Chromium through chromedriver, `browser.rs`): a coordinator signs
//! in with the link the bot sent, looks around in both languages at phone and laptop sizes, and signs out;
//! used and expired links, a made-up cookie and forms without their CSRF token are refused. With
//! `CONSOLE_SCREENSHOTS=/some/folder` each page is saved as a PNG there.
use crate::browser::Browser;
use crate::console::{admin_link, coordinator};
use crate::harness::{TestBot, console_settings};
use chrono::Duration;
use testkit::story::register_father;

/// Signs in with a fresh link from `/admin`, pressing the page's button as a person would.
async fn sign_in(bot: &TestBot, browser: &Browser) {
    let link = admin_link(bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
}

async fn look_around(browser: Browser, name: &str) {
    let bot = TestBot::start_with(&console_settings()).await;
    register_father(&bot, 7001, "Pekka").await;
    let base = bot.console_url().await;
    browser.goto(&base).await;
    assert_eq!(browser.text("h1").await, "Kirjaudu");
    browser.screenshot(&format!("{name}-signin-fi")).await;
    let link = admin_link(&bot, &coordinator()).await;
    browser.goto(&link).await;
    assert_eq!(browser.text("h1").await, "Kirjaudu konsoliin");
    browser.screenshot(&format!("{name}-link-fi")).await;
    browser.click("#sign-in").await;
    assert_eq!(browser.text("h1").await, "Yleiskuva");
    assert_eq!(browser.text("#total").await, "1");
    browser.screenshot(&format!("{name}-overview-fi")).await;
    browser.click_link("Tapahtumaloki").await;
    assert_eq!(browser.text("h1").await, "Tapahtumaloki");
    assert!(browser.body().await.contains("Kirjautui konsoliin"));
    browser.screenshot(&format!("{name}-audit-fi")).await;
    // The language switch keeps the page.
    browser.click("button[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Audit log");
    assert!(
        browser.url().await.ends_with("/audit"),
        "{}",
        browser.url().await
    );
    browser.screenshot(&format!("{name}-audit-en")).await;
    browser.click_link("Overview").await;
    assert_eq!(browser.text("h1").await, "Overview");
    browser.screenshot(&format!("{name}-overview-en")).await;
    // Signing out ends the session: the overview is the sign-in page again.
    browser.click("form[action=logout] button").await;
    assert!(browser.body().await.contains("You have signed out."));
    browser.screenshot(&format!("{name}-signed-out-en")).await;
    browser.goto(&base).await;
    assert!(browser.body().await.contains("/admin"));
    assert_ne!(browser.text("h1").await, "Overview");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_coordinator_signs_in_by_link_looks_around_in_both_languages_and_signs_out() {
    look_around(Browser::phone().await, "phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_laptop_a_coordinator_signs_in_by_link_looks_around_in_both_languages_and_signs_out() {
    look_around(Browser::laptop().await, "laptop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_and_expired_links_and_a_made_up_cookie_do_not_open_the_console() {
    let bot = TestBot::start_with(&console_settings()).await;
    let browser = Browser::laptop().await;
    let used = admin_link(&bot, &coordinator()).await;
    let expiring = admin_link(&bot, &coordinator()).await;
    browser.goto(&used).await;
    browser.click("#sign-in").await;
    assert_eq!(browser.text("h1").await, "Yleiskuva");
    browser.click("form[action=logout] button").await;
    // The same link again.
    browser.goto(&used).await;
    browser.click("#sign-in").await;
    assert_eq!(browser.text("h1").await, "Linkki ei toimi");
    browser.screenshot("laptop-link-refused-fi").await;
    // A link past its 10 minutes.
    bot.clock.advance(Duration::minutes(10));
    browser.goto(&expiring).await;
    browser.click("#sign-in").await;
    assert_eq!(browser.text("h1").await, "Linkki ei toimi");
    // A cookie someone made up.
    let base = bot.console_url().await;
    browser.goto(&format!("{base}login")).await;
    browser
        .run(&format!(
            "document.cookie = 'milava_console={}; path=/'",
            "f".repeat(64)
        ))
        .await;
    browser.goto(&base).await;
    assert_eq!(browser.text("h1").await, "Kirjaudu");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let bot = TestBot::start_with(&console_settings()).await;
    let browser = Browser::laptop().await;
    sign_in(&bot, &browser).await;
    // The sign-out form without its token, then with another.
    browser
        .run("document.querySelector('form[action=logout] input[name=csrf]').remove()")
        .await;
    browser.click("form[action=logout] button").await;
    assert_eq!(browser.text("h1").await, "Lomaketta ei voitu hyväksyä");
    browser.screenshot("laptop-csrf-refused-fi").await;
    browser.goto(&bot.console_url().await).await;
    assert_eq!(browser.text("h1").await, "Yleiskuva", "still signed in");
    browser
        .run("document.querySelector('form[action=language] input[name=csrf]').value = 'f'.repeat(64)")
        .await;
    browser.click("button[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Lomaketta ei voitu hyväksyä");
    browser.goto(&bot.console_url().await).await;
    assert_eq!(
        browser.text("h1").await,
        "Yleiskuva",
        "the language did not change"
    );
    browser.close().await;
}
