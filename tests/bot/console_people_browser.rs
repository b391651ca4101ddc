//! People and Attendance in a real browser (headless Chromium, `browser.rs`): a coordinator finds a
//! registered professional, opens their record, ticks their attendance until they qualify, issues the
//! certificate and it reaches them in the chat once. With `CONSOLE_SCREENSHOTS=/some/folder` each page is
//! saved as a PNG there.
use crate::browser::Browser;
use crate::console::{admin_link, coordinator};
use crate::harness::{TestBot, console_settings};
use fake_telegram::SentKind;
use testkit::story::register_father;
use testkit::story::register_professional;

async fn walk_through(browser: Browser, name: &str) {
    let bot = TestBot::start_with(&console_settings()).await;
    register_professional(&bot, 9001, "Anna Laine").await;
    register_father(&bot, 7001, "Pekka Virtanen").await;
    let link = admin_link(&bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
    browser.click_link("Ihmiset").await;
    assert_eq!(browser.text("h1").await, "Ihmiset");
    assert!(browser.body().await.contains("Pekka Virtanen"));
    browser.screenshot(&format!("{name}-people-fi")).await;
    browser.click_link("Anna Laine").await;
    assert_eq!(browser.text("h1").await, "Henkilö 9001");
    assert!(browser.body().await.contains("Oulun kaupunki"));
    browser.screenshot(&format!("{name}-person-fi")).await;
    browser.click("#erase").await;
    assert_eq!(browser.text("h1").await, "Poistetaanko henkilö 9001?");
    browser.screenshot(&format!("{name}-erase-fi")).await;
    browser.click_link("Peruuta").await;

    browser.click_link("Läsnäolot").await;
    browser
        .screenshot(&format!("{name}-attendance-series-fi"))
        .await;
    browser.click_link("Oulu, kevät 2024").await;
    assert_eq!(browser.text("h1").await, "Läsnäolot: Oulu, kevät 2024");
    assert_eq!(browser.text("#p9001 .qualifies").await, "ei vielä");
    browser.screenshot(&format!("{name}-matrix-fi")).await;
    // Four of the five sessions, one click each (each click is a form sent and the page back).
    for session in 1..=4 {
        browser
            .click(&format!("#p9001 td:nth-of-type({session}) button"))
            .await;
    }
    assert_eq!(browser.text("#p9001 .qualifies").await, "ansaittu");
    assert_eq!(
        browser
            .find("#p9001 td:nth-of-type(1) button")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    browser.click("#p9001 button.issue").await;
    assert!(browser.body().await.contains("Todistus on matkalla"));
    browser
        .screenshot(&format!("{name}-matrix-issued-fi"))
        .await;
    bot.settle().await;
    let documents = bot
        .fake
        .sent_to(9001)
        .iter()
        .filter(|m| m.kind == SentKind::Document)
        .count();
    assert_eq!(documents, 1, "the certificate reaches Anna once");
    browser.click("button[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Attendance: Oulu, spring 2024");
    assert_eq!(browser.text("#p9001 .qualifies").await, "qualifies");
    browser.screenshot(&format!("{name}-matrix-en")).await;
    browser.click_link("People").await;
    browser.screenshot(&format!("{name}-people-en")).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_laptop_a_coordinator_ticks_attendance_until_a_professional_qualifies_and_issues_the_certificate()
 {
    walk_through(Browser::laptop().await, "laptop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_coordinator_ticks_attendance_until_a_professional_qualifies_and_issues_the_certificate()
 {
    walk_through(Browser::phone().await, "phone").await;
}
