//! The programme pages in a real browser (`browser.rs`): a coordinator adds a series with two sessions (a
//! wrong end time is shown next to its field first), a professional registers for it through the fake Bot
//! API, the coordinator moves a session and the professional gets the change notice once; then cancels the
//! other session in English. With `CONSOLE_SCREENSHOTS=/some/folder` each page is saved as a PNG there.
use crate::browser::Browser;
use crate::console::{admin_link, coordinator};
use crate::harness::{TestBot, console_settings};
use milava_bot::domain::Lang;
use testkit::content::text;
use testkit::story::{SPEEDUP, register, utc};

/// Sets a form field's value as the page's own input would (date and time inputs take ISO values).
async fn set(browser: &Browser, id: &str, value: &str) {
    browser
        .run(&format!(
            "document.getElementById({id:?}).value = {value:?};"
        ))
        .await;
}

/// Ticks a checkbox or chooses a radio button (a click that does not leave the page).
async fn check(browser: &Browser, css: &str) {
    browser
        .run(&format!("document.querySelector({css:?}).checked = true;"))
        .await;
}

/// Opens a session's forms (its `details`).
async fn open(browser: &Browser, session: &str) {
    browser
        .run(&format!(
            "document.querySelector('#h-{session} ~ details').open = true;"
        ))
        .await;
}

async fn sign_in(bot: &TestBot, browser: &Browser) {
    let link = admin_link(bot, &coordinator()).await;
    browser.goto(&link).await;
    browser.click("#sign-in").await;
}

/// Fills the new-series form: Kajaani, spring 2024, two online sessions in April; the second ends at
/// `second_end`.
async fn fill_new_series(browser: &Browser, second_end: &str) {
    for (id, value) in [
        ("series-id", "kajaani-2024"),
        ("series-code", "kajaani-kevat24"),
        ("series-name_fi", "Kajaani, kevät 2024"),
        ("series-name_en", "Kajaani, spring 2024"),
        ("series-place_fi", "Kajaanissa"),
        ("series-place_en", "Kajaani"),
        ("series-area", "kajaani"),
        ("series-capacity", "20"),
        ("s1-title_fi", "Aloitus"),
        ("s1-title_en", "Start"),
        ("s1-date", "2024-04-09"),
        ("s1-start", "09:00"),
        ("s1-end", "12:00"),
        ("s2-title_fi", "Jatko"),
        ("s2-title_en", "Follow-up"),
        ("s2-date", "2024-04-23"),
        ("s2-start", "09:00"),
        ("s2-end", second_end),
    ] {
        set(browser, id, value).await;
    }
    for row in ["s1", "s2"] {
        check(browser, &format!("input[name={row}_mode][value=online]")).await;
    }
}

fn notices_to(bot: &TestBot, user: &fake_telegram::FakeUser, notice: &str) -> usize {
    bot.texts_to(user)
        .iter()
        .filter(|t| t.as_str() == notice)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_adds_a_series_in_the_console_and_a_moved_session_reaches_its_participant_once()
 {
    let bot = TestBot::start_sped_up(&console_settings(), SPEEDUP).await;
    let browser = Browser::laptop().await;
    sign_in(&bot, &browser).await;
    browser.click_link("Ohjelma").await;
    assert_eq!(browser.text("h1").await, "Ohjelma");
    browser.screenshot("programme-laptop-list-fi").await;

    browser.click_link("Lisää työpajasarja").await;
    assert_eq!(browser.text("h1").await, "Uusi työpajasarja");
    // The second session ends before it starts: the check refuses it, next to the field.
    fill_new_series(&browser, "08:00").await;
    browser
        .click("form[action='programme/new'] button[type=submit]")
        .await;
    assert_eq!(
        browser.text("#s2-end-error").await,
        text(
            Lang::Fi,
            "console.programme.problem.session.ends_before_start",
            &[]
        )
    );
    browser.screenshot("programme-laptop-new-refused-fi").await;
    set(&browser, "s2-end", "12:00").await;
    browser
        .click("form[action='programme/new'] button[type=submit]")
        .await;
    assert_eq!(browser.text("h1").await, "Kajaani, kevät 2024");
    browser.screenshot("programme-laptop-series-fi").await;

    // A professional registers for it in the chat.
    let (anna, done) = register(&bot, 9601, "Anna Aho", "fi", "kajaani-kevat24").await;
    assert!(done.contains("Kajaani, kevät 2024"), "{done}");

    // The kick-off moves to Wed 10.4. 8.00–11.00.
    open(&browser, "kajaani-2024-1").await;
    set(&browser, "kajaani-2024-1-date", "2024-04-10").await;
    set(&browser, "kajaani-2024-1-start", "08:00").await;
    set(&browser, "kajaani-2024-1-end", "11:00").await;
    browser
        .click("form[action='programme/series/kajaani-2024/session/kajaani-2024-1'] button[type=submit]")
        .await;
    assert_eq!(
        browser.text(".done").await,
        text(
            Lang::Fi,
            "console.programme.saved.session",
            &[("notices", "1")]
        )
    );
    browser.screenshot("programme-laptop-moved-fi").await;
    bot.advance_to(utc("2024-03-12 09:00")).await;
    let moved = text(
        Lang::Fi,
        "changes.moved",
        &[
            ("title", "Aloitus"),
            ("old", "ti 9.4.2024 klo 9.00–12.00"),
            ("when", "ke 10.4.2024 klo 8.00–11.00"),
        ],
    );
    assert_eq!(notices_to(&bot, &anna, &moved), 1);

    // In English, the coordinator cancels the follow-up (confirming it first).
    browser.click("button[lang=en]").await;
    open(&browser, "kajaani-2024-2").await;
    let cancel = "form[action='programme/series/kajaani-2024/session/kajaani-2024-2/cancel']";
    browser
        .click(&format!("{cancel} button[type=submit]"))
        .await;
    assert!(browser.body().await.contains(&text(
        Lang::En,
        "console.programme.error.confirm_cancel",
        &[]
    )));
    check(&browser, &format!("{cancel} input[name=confirm]")).await;
    browser
        .click(&format!("{cancel} button[type=submit]"))
        .await;
    assert_eq!(
        browser.text(".done").await,
        text(
            Lang::En,
            "console.programme.saved.cancelled",
            &[("notices", "1")]
        )
    );
    browser.screenshot("programme-laptop-cancelled-en").await;
    bot.advance_to(utc("2024-03-12 10:00")).await;
    let cancelled = text(
        Lang::Fi,
        "changes.cancelled",
        &[("title", "Jatko"), ("when", "ti 23.4.2024 klo 9.00–12.00")],
    );
    assert_eq!(notices_to(&bot, &anna, &cancelled), 1);
    assert_eq!(notices_to(&bot, &anna, &moved), 1, "still once");
    browser.close().await;
}

/// On a phone, in English: the list, a refused form with its problems next to the fields, the programme's
/// end moved later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_programme_pages_show_problems_next_to_the_fields_and_the_end_moves() {
    let bot = TestBot::start_with(&console_settings()).await;
    let browser = Browser::phone().await;
    sign_in(&bot, &browser).await;
    browser.click("button[lang=en]").await;
    browser.click_link("Programme").await;
    assert!(browser.body().await.contains("Oulu, spring 2024"));
    browser.screenshot("programme-phone-list-en").await;

    set(&browser, "ends", "2023-01-01").await;
    browser
        .click("form[action='programme/ends'] button[type=submit]")
        .await;
    assert_eq!(
        browser.text("#ends-error").await,
        text(Lang::En, "console.programme.error.end_passed", &[])
    );
    set(&browser, "ends", "2027-07-31").await;
    browser
        .click("form[action='programme/ends'] button[type=submit]")
        .await;
    assert_eq!(
        browser.text(".done").await,
        text(
            Lang::En,
            "console.programme.saved.ends",
            &[("notices", "0")]
        )
    );
    assert_eq!(
        bot.ctx().content.get().programme_ends.to_string(),
        "2027-07-31"
    );
    browser.screenshot("programme-phone-ends-en").await;

    browser.click_link("Add a workshop series").await;
    browser
        .click("form[action='programme/new'] button[type=submit]")
        .await;
    assert_eq!(
        browser.text("#series-id-error").await,
        text(Lang::En, "console.programme.error.required", &[])
    );
    browser.screenshot("programme-phone-new-refused-en").await;
    browser
        .goto(&format!(
            "{}programme/series/oulu-2024",
            bot.console_url().await
        ))
        .await;
    assert_eq!(browser.text("h1").await, "Oulu, spring 2024");
    browser.screenshot("programme-phone-series-en").await;
    browser.close().await;
}
