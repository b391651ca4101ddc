//! Deleting a series from the console (`/programme/series/<id>/delete`): a draft nobody registered for is
//! deleted after a confirmation page that changes nothing, with a `series_deleted` audit line, and never comes
//! back from the shipped programme.toml at the next start; a series with a registration or one that has
//! started is refused kindly (409) with what to do instead, in both languages.
use crate::console::{audit_count, sign_in};
use crate::harness::{TestBot, console_settings};
use crate::season::kajaani;
use milava_bot::domain::Lang;
use milava_bot::domain::season::ProgrammeChange;
use milava_bot::services::season;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use testkit::content::{ContentCopy, text};
use testkit::story::{COORDINATOR, register_professional, utc};

fn has_series(bot: &TestBot, id: &str) -> bool {
    bot.ctx().content.get().series(id).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_series_is_deleted_after_a_confirmation_and_never_comes_back_from_the_shipped_file()
{
    let content = ContentCopy::new();
    let mut settings = console_settings().to_vec();
    settings.push(("DIALOGUES_DIR", content.path().leak()));
    let mut bot = TestBot::start_with(&settings).await;
    season::apply(
        &bot.ctx(),
        COORDINATOR,
        ProgrammeChange::AddSeries(kajaani()),
    )
    .await
    .expect("series added");
    let signed = sign_in(&bot).await;

    let (status, page) = signed.get("programme/series/kajaani-2024").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"programme/series/kajaani-2024/delete\""));

    let (status, page) = signed.get("programme/series/kajaani-2024/delete").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&text(Lang::Fi, "console.programme.delete.warning", &[])));
    assert!(page.contains("id=\"delete-confirm\""));
    assert!(
        has_series(&bot, "kajaani-2024"),
        "opening the page changes nothing"
    );
    assert_eq!(audit_count(&bot, "series_deleted").await, 0);

    let csrf = signed.csrf().await;
    let response = signed
        .post("programme/series/kajaani-2024/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[LOCATION],
        "/programme?saved=deleted",
        "back to the programme"
    );
    assert!(!has_series(&bot, "kajaani-2024"));
    assert_eq!(audit_count(&bot, "series_deleted").await, 1);
    let (_, page) = signed.get("programme?saved=deleted").await;
    assert!(page.contains(&text(Lang::Fi, "console.programme.saved.deleted", &[])));
    assert!(!page.contains("kajaani-2024"));
    let (status, _) = signed.get("programme/series/kajaani-2024/delete").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The series had been exported into git, and the next release ships it: it is not seeded again.
    let mut file = std::fs::read_to_string(content.file("programme.toml")).unwrap();
    file.push_str(
        "\n[[series]]\nid = \"kajaani-2024\"\ncode = \"kajaani-kevat24\"\nname = { fi = \"Kajaani, kevät 2024\", en = \"Kajaani, spring 2024\" }\narea = \"kajaani\"\n\n[[series.session]]\nid = \"kajaani-2024-1\"\nstart = 2024-04-09T09:00:00\nend = 2024-04-09T12:00:00\nonline = true\ntitle = { fi = \"Aloitus\", en = \"Start\" }\n",
    );
    std::fs::write(content.file("programme.toml"), file).unwrap();
    bot.restart().await;
    assert!(
        !has_series(&bot, "kajaani-2024"),
        "a deleted series does not come back from the shipped file"
    );
    assert!(has_series(&bot, "oulu-2024"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_with_registrations_or_past_sessions_is_not_deleted_and_the_page_says_why() {
    let bot = TestBot::start_with(&console_settings()).await;
    register_professional(&bot, 301, "Pirjo").await;
    let signed = sign_in(&bot).await;

    let (_, page) = signed.get("programme/series/oulu-2024").await;
    assert!(!page.contains("/delete\""), "not offered: {page}");
    let (status, page) = signed.get("programme/series/oulu-2024/delete").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let why = text(
        Lang::Fi,
        "console.programme.delete.registered",
        &[("count", "1")],
    );
    assert!(page.contains(&why), "{page}");
    assert!(page.contains(&text(Lang::Fi, "console.programme.delete.instead", &[])));
    assert!(!page.contains("id=\"delete-confirm\""));

    let csrf = signed.csrf().await;
    let response = signed
        .post("programme/series/oulu-2024/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(has_series(&bot, "oulu-2024"), "still there");
    assert_eq!(audit_count(&bot, "series_deleted").await, 0);

    // Rovaniemi has nobody, but its first session (13.3.2024) is over the day after.
    bot.clock.set(utc("2024-03-14 07:00"));
    let signed = sign_in(&bot).await;
    let csrf = signed.csrf().await;
    let response = signed
        .post("language", &[("csrf", &csrf), ("lang", "en"), ("back", "")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, page) = signed.get("programme/series/rovaniemi-2024/delete").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains(&text(Lang::En, "console.programme.delete.started", &[])));
    let response = signed
        .post("programme/series/rovaniemi-2024/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(has_series(&bot, "rovaniemi-2024"));
}
