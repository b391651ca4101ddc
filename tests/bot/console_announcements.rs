//! The console's Announcements page in a real browser: compose, choose an audience, preview with its count,
//! send now and watch the progress reach "done" with each recipient getting the message once; a time in the
//! past refused kindly; a scheduled one cancelled before it goes. With `CONSOLE_SCREENSHOTS=/some/folder` each
//! page is saved as a PNG there.
use crate::browser::Browser;
use crate::console::{admin_link, coordinator};
use crate::harness::{TestBot, console_settings};
use chrono::Duration;
use milava_bot::clock::Clock;
use testkit::story::register_father;
use testkit::story::register_professional;

async fn sign_in(bot: &TestBot, browser: &Browser) {
    let link = admin_link(bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
}

/// Sets a form field's value as a person typing or choosing would.
async fn set(browser: &Browser, css: &str, value: &str) {
    browser
        .run(&format!(
            "document.querySelector({}).value = {}",
            serde_json::to_string(css).unwrap(),
            serde_json::to_string(value).unwrap()
        ))
        .await;
}

/// How many messages with exactly `text` reached `user`'s chat.
fn got(bot: &TestBot, user: i64, text: &str) -> usize {
    bot.fake
        .sent_to(user)
        .iter()
        .filter(|m| m.text.as_deref() == Some(text))
        .count()
}

const MESSAGE: &str = "Hei isät!\nSyksyn kokoontuminen on torstaina.";

async fn send_to_fathers(browser: Browser, name: &str) {
    let bot = TestBot::start_with(&console_settings()).await;
    let pekka = register_father(&bot, 7001, "Pekka").await;
    let matti = register_father(&bot, 7002, "Matti").await;
    let anna = register_professional(&bot, 7003, "Anna").await;
    sign_in(&bot, &browser).await;
    browser.click_link("Tiedotteet").await;
    assert_eq!(browser.text("h1").await, "Tiedotteet");
    assert!(browser.body().await.contains("Ei vielä tiedotteita."));
    browser
        .screenshot(&format!("{name}-announcements-fi"))
        .await;
    set(&browser, "#text", MESSAGE).await;
    set(&browser, "#audience", "role-father").await;
    browser.click("#preview").await;
    assert_eq!(browser.text("h1").await, "Tarkista tiedote");
    assert_eq!(browser.text("#recipients").await, "2", "two fathers");
    assert_eq!(browser.text("#when").await, "Heti");
    assert!(
        browser
            .text("#message")
            .await
            .contains("Syksyn kokoontuminen")
    );
    browser
        .screenshot(&format!("{name}-announcement-preview-fi"))
        .await;
    browser.click("#send").await;
    assert!(
        browser.url().await.contains("/announcements/"),
        "{}",
        browser.url().await
    );
    let progress = browser.url().await;
    // The page follows the announcement until it is done (it reloads itself while sending; here each look
    // is also a fresh load, after the scheduler's pass).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = browser
            .find("#status")
            .await
            .attr("data-status")
            .await
            .unwrap()
            .unwrap_or_default();
        if status == "done" {
            break;
        }
        assert_ne!(status, "cancelled");
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {status}: {}",
            browser.body().await
        );
        bot.settle().await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        browser.goto(&progress).await;
    }
    assert_eq!(browser.text("#status").await, "Valmis");
    assert_eq!(browser.text("#sent").await, "2");
    assert_eq!(browser.text("#waiting").await, "0");
    assert_eq!(browser.text("#failed").await, "0");
    assert_eq!(browser.text("#message").await, MESSAGE, "what it said");
    browser
        .screenshot(&format!("{name}-announcement-done-fi"))
        .await;
    assert_eq!(got(&bot, pekka.id, MESSAGE), 1, "Pekka got it once");
    assert_eq!(got(&bot, matti.id, MESSAGE), 1, "Matti got it once");
    assert_eq!(
        got(&bot, anna.id, MESSAGE),
        0,
        "a professional is not a father"
    );
    // The list shows it, in English too; the audit log has who did it.
    browser.click_link("Kaikki tiedotteet").await;
    assert!(browser.body().await.contains("Valmis"));
    assert_eq!(
        browser.text("td.excerpt").await,
        "Hei isät!",
        "its first line tells which one it is"
    );
    browser.click("button[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Announcements");
    browser
        .screenshot(&format!("{name}-announcements-en"))
        .await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action IN ('broadcast_created', 'broadcast_confirmed')",
            900
        )
        .await,
        2
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_laptop_a_coordinator_sends_an_announcement_to_the_fathers_and_watches_it_reach_done()
{
    send_to_fathers(Browser::laptop().await, "laptop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_coordinator_sends_an_announcement_to_the_fathers_and_watches_it_reach_done() {
    send_to_fathers(Browser::phone().await, "phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_time_and_an_empty_message_are_refused_kindly_and_a_scheduled_one_can_be_cancelled()
{
    let bot = TestBot::start_with(&console_settings()).await;
    let pekka = register_father(&bot, 7001, "Pekka").await;
    let browser = Browser::laptop().await;
    sign_in(&bot, &browser).await;
    browser.click_link("Tiedotteet").await;
    // Nothing written but spaces (the field's `required` lets them through).
    set(&browser, "#text", "   ").await;
    browser.click("#preview").await;
    assert!(
        browser
            .text("#problems")
            .await
            .contains("Kirjoita ensin viesti."),
        "{}",
        browser.body().await
    );
    // A time that has passed.
    set(&browser, "#text", "Muistutus").await;
    browser
        .run("document.querySelector('#when-later').checked = true")
        .await;
    set(&browser, "#at", "2020-01-01T09:00").await;
    browser.click("#preview").await;
    assert!(
        browser.text("#problems").await.contains("on jo mennyt"),
        "{}",
        browser.body().await
    );
    assert_eq!(
        browser
            .find("#text")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Muistutus"),
        "what was written is kept"
    );
    browser.screenshot("laptop-announcement-past-fi").await;
    // Tomorrow at this time (Finnish time), then cancelled before it goes.
    let tz: chrono_tz::Tz = "Europe/Helsinki".parse().unwrap();
    let tomorrow = (bot.clock.now() + Duration::days(1)).with_timezone(&tz);
    set(
        &browser,
        "#at",
        &tomorrow.format("%Y-%m-%dT%H:%M").to_string(),
    )
    .await;
    browser.click("#preview").await;
    assert_eq!(browser.text("h1").await, "Tarkista tiedote");
    assert!(
        browser
            .text("#when")
            .await
            .contains(&tomorrow.format("%-d.%-m.%Y").to_string())
    );
    browser.click("#send").await;
    assert_eq!(browser.text("#status").await, "Ajastettu");
    browser.click("#cancel").await;
    assert_eq!(browser.text("#status").await, "Peruttu");
    assert!(!browser.body().await.contains("Peru vielä lähettämättömät"));
    bot.advance_to(bot.clock.now() + Duration::days(2)).await;
    assert_eq!(
        got(&bot, pekka.id, "Muistutus"),
        0,
        "a cancelled one never goes"
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = 'broadcast_cancelled'",
            900
        )
        .await,
        1
    );
    browser.close().await;
}
