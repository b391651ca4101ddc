//! The console's Peer groups page in a real browser: a facilitator added by choosing a registered person may
//! use the facilitators' commands in the group chat at once, and is refused again once removed; pause and
//! resume from the console are the chat's /pause and /resume. Screenshots with `CONSOLE_SCREENSHOTS`.
use crate::browser::Browser;
use crate::console::{admin_link, coordinator};
use crate::harness::{TestBot, console_settings, joined};
use testkit::story::groups::{in_group, link_oulu, oulu_group};
use testkit::story::register_professional;

async fn sign_in(bot: &TestBot, browser: &Browser) {
    let link = admin_link(bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
}

async fn paused(bot: &TestBot) -> i64 {
    bot.count(
        "SELECT paused FROM group_links WHERE chat_id = ?",
        oulu_group().id,
    )
    .await
}

async fn audited(bot: &TestBot, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 900 AND action = ?")
        .bind(action)
        .fetch_one(&bot.db)
        .await
        .unwrap()
}

async fn facilitators_and_pause(browser: Browser, name: &str) {
    let bot = TestBot::start_with(&console_settings()).await;
    link_oulu(&bot).await;
    let group = oulu_group();
    let anna = register_professional(&bot, 7301, "Anna Ohjaaja").await;
    // Not a facilitator yet.
    let refused = in_group(&bot, &group, &anna, "/pause").await;
    assert!(
        joined(&refused).contains("vain ryhmän ohjaajille"),
        "{}",
        joined(&refused)
    );
    assert_eq!(paused(&bot).await, 0);

    sign_in(&bot, &browser).await;
    browser.click_link("Vertaisryhmät").await;
    assert_eq!(browser.text("h1").await, "Vertaisryhmät");
    let oulu = "#oulu-isat-fi";
    assert_eq!(
        browser.text(&format!("{oulu} .chat")).await,
        group.id.to_string(),
        "the linked Telegram group"
    );
    assert!(
        browser
            .text(&format!("{oulu} .empty"))
            .await
            .contains("Ei vielä ohjaajia")
    );
    // The plan: the chat's /upcoming.
    assert!(
        browser
            .text(&format!("{oulu} .plan"))
            .await
            .contains("Mikä on ollut isyydessä"),
        "{}",
        browser.text(&format!("{oulu} .plan")).await
    );
    browser
        .run("document.querySelector('#person-oulu-isat-fi').value = '7301'")
        .await;
    browser.click(&format!("{oulu} .add-button")).await;
    assert!(
        browser
            .text(&format!("{oulu} .people"))
            .await
            .contains("Anna Ohjaaja"),
        "{}",
        browser.body().await
    );
    browser.screenshot(&format!("{name}-groups-fi")).await;
    // Now she may pause and resume in the group.
    let replies = in_group(&bot, &group, &anna, "/pause").await;
    assert!(
        !joined(&replies).contains("vain ryhmän ohjaajille"),
        "{}",
        joined(&replies)
    );
    assert_eq!(paused(&bot).await, 1);
    in_group(&bot, &group, &anna, "/resume").await;
    assert_eq!(paused(&bot).await, 0);
    // Removed: refused again.
    browser
        .click(&format!("{oulu} form[action$='/7301/remove'] button"))
        .await;
    assert!(
        browser
            .text(&format!("{oulu} .empty"))
            .await
            .contains("Ei vielä ohjaajia")
    );
    let refused = in_group(&bot, &group, &anna, "/pause").await;
    assert!(
        joined(&refused).contains("vain ryhmän ohjaajille"),
        "{}",
        joined(&refused)
    );
    assert_eq!(paused(&bot).await, 0);
    // Pause and resume from the console.
    browser.click(&format!("{oulu} button.pause")).await;
    assert_eq!(
        browser.text(&format!("{oulu} .prompt-state")).await,
        "Tauolla"
    );
    assert_eq!(paused(&bot).await, 1);
    browser
        .screenshot(&format!("{name}-groups-paused-fi"))
        .await;
    browser.click(&format!("{oulu} button.resume")).await;
    assert!(
        browser
            .text(&format!("{oulu} .prompt-state"))
            .await
            .starts_with("Seuraava avaus")
    );
    assert_eq!(paused(&bot).await, 0);
    browser.click("button[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Peer groups");
    browser.screenshot(&format!("{name}-groups-en")).await;
    for action in [
        "facilitator_added",
        "facilitator_removed",
        "group_paused",
        "group_resumed",
    ] {
        assert_eq!(audited(&bot, action).await, 1, "{action}");
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_laptop_a_facilitator_chosen_in_the_console_takes_effect_in_the_group_and_pause_resume_work()
 {
    facilitators_and_pause(Browser::laptop().await, "laptop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_facilitator_chosen_in_the_console_takes_effect_in_the_group_and_pause_resume_work()
 {
    facilitators_and_pause(Browser::phone().await, "phone").await;
}
