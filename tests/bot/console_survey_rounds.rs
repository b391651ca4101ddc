//! Sending a survey round from the console: the form, its friendly refusals (422, a bad CSRF token 403), the
//! preview's count, the invitations through the fake Bot API, the round's progress, and the chat's `/survey`
//! after it: one use case for both adapters, so nobody is invited twice.
use crate::console::{audit_count, sign_in};
use crate::harness::{TestBot, console_settings, joined};
use fake_telegram::FakeUser;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use testkit::story::register_professional;
use testkit::story::surveys::invitations_to;

const TITLE: &str = "Loppukysely: työpajasarja";
const OULU: &str = "series-oulu-2024";

/// A number shown in the card with the element id `id`.
fn card(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no {id} in {page}"))
        + id.len()
        + 6;
    page[at..at + page[at..].find('<').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_sent_from_the_console_invites_each_person_once_and_the_chat_does_not_invite_again()
{
    let bot = TestBot::start_with(&console_settings()).await;
    let anna = register_professional(&bot, 9311, "Anna").await;
    let bert = register_professional(&bot, 9312, "Bertta").await;
    let signed = sign_in(&bot).await;
    let csrf = signed.csrf().await;

    let (status, page) = signed.get("surveys").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"surveys/send\""), "{page}");
    let (status, form) = signed.get("surveys/send").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("<h1>Lähetä kysely</h1>"), "{form}");
    assert!(
        form.contains(&format!("value=\"series-end\">{TITLE}</option>")),
        "{form}"
    );
    assert!(
        !form.contains("value=\"session-feedback\""),
        "only surveys with a manual trigger: {form}"
    );

    // Missing choices, a group with nobody in it, a bad token: friendly answers, nothing sent.
    let missing = signed
        .post(
            "surveys/send/preview",
            &[("csrf", &csrf), ("survey", ""), ("audience", OULU)],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = missing.text().await.unwrap();
    assert!(text.contains("Valitse kysely."), "{text}");
    assert!(
        text.contains("selected>työpajasarja Oulu, kevät 2024"),
        "kept: {text}"
    );
    let missing = signed
        .post(
            "surveys/send/preview",
            &[("csrf", &csrf), ("survey", "series-end"), ("audience", "")],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text().await.unwrap().contains("Valitse, kenelle"));
    let manual_only = signed
        .post(
            "surveys/send",
            &[
                ("csrf", &csrf),
                ("survey", "session-feedback"),
                ("audience", OULU),
            ],
        )
        .await;
    assert_eq!(manual_only.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = signed
        .post(
            "surveys/send/preview",
            &[
                ("csrf", &csrf),
                ("survey", "series-end"),
                ("audience", "group-oulu-isat-fi"),
            ],
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nobody.text().await.unwrap().contains("ei ole ketään"));
    let forged = signed
        .post(
            "surveys/send",
            &[("csrf", "0"), ("survey", "series-end"), ("audience", OULU)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    bot.settle().await;
    assert!(invitations_to(&bot, &anna, TITLE).is_empty());

    // The preview counts, then the round goes and its page shows the progress.
    let preview = signed
        .post(
            "surveys/send/preview",
            &[
                ("csrf", &csrf),
                ("survey", "series-end"),
                ("audience", OULU),
            ],
        )
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
    let preview = preview.text().await.unwrap();
    assert_eq!(card(&preview, "invited"), "2", "{preview}");
    assert_eq!(card(&preview, "already"), "0");
    let sent = signed
        .post(
            "surveys/send",
            &[
                ("csrf", &csrf),
                ("survey", "series-end"),
                ("audience", OULU),
            ],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let location = sent.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(location.ends_with("surveys/rounds/1"), "{location}");
    bot.settle().await;
    for person in [&anna, &bert] {
        assert_eq!(
            invitations_to(&bot, person, TITLE).len(),
            1,
            "{}",
            person.id
        );
    }
    assert_eq!(audit_count(&bot, "survey_sent").await, 1);
    let line: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'survey_sent'")
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert!(line.contains("(console)"), "{line}");
    let actor: i64 = sqlx::query_scalar("SELECT actor FROM audit_log WHERE action = 'survey_sent'")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(actor, crate::console::COORDINATOR);
    sqlx::query(
        "INSERT INTO survey_responses (survey_id, survey_version, trigger_key, answers, submitted_at)
         VALUES ('series-end', 1, 'manual:1', '{}', '2024-05-16T09:13:00Z')",
    )
    .execute(&bot.db)
    .await
    .unwrap();
    let (status, round) = signed.get("surveys/rounds/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(round.contains("<h1>Kyselykierros #1</h1>"), "{round}");
    assert_eq!(card(&round, "invited"), "2");
    assert_eq!(card(&round, "answered"), "1");
    let (_, list) = signed.get("surveys").await;
    assert!(list.contains("href=\"surveys/rounds/1\""), "{list}");
    let (status, _) = signed.get("surveys/rounds/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A third joins; the chat's /survey for the same series invites only her.
    let carla = register_professional(&bot, 9313, "Carla").await;
    let coordinator = FakeUser::new(crate::console::COORDINATOR, "Kaisa", Some("fi"));
    bot.send(&coordinator, "/survey").await;
    bot.press(&coordinator, TITLE).await;
    let preview = joined(&bot.press(&coordinator, "Oulu, kevät 2024").await);
    assert!(preview.contains("Kutsu lähtee 1 henkilölle"), "{preview}");
    let done = joined(&bot.press(&coordinator, "Lähetä kysely").await);
    assert!(done.contains("Kysely lähetetään 1 henkilölle"), "{done}");
    bot.settle().await;
    for person in [&anna, &bert, &carla] {
        assert_eq!(
            invitations_to(&bot, person, TITLE).len(),
            1,
            "{}",
            person.id
        );
    }
    // Now nobody in the series is left to invite, in either language.
    let again = signed
        .post(
            "surveys/send/preview",
            &[
                ("csrf", &csrf),
                ("survey", "series-end"),
                ("audience", OULU),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    signed
        .post(
            "language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "surveys/send")],
        )
        .await;
    let (_, form) = signed.get("surveys/send").await;
    assert!(form.contains("<h1>Send a survey</h1>"), "{form}");
    assert!(
        !form.replace("console.css", "").contains("console."),
        "a text key is missing: {form}"
    );
    let again = signed
        .post(
            "surveys/send/preview",
            &[("csrf", &csrf), ("survey", "everyone"), ("audience", "all")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().await.unwrap().contains("Choose a survey."));
    let everyone = signed
        .post(
            "surveys/send/preview",
            &[
                ("csrf", &csrf),
                ("survey", "series-end"),
                ("audience", "all"),
            ],
        )
        .await;
    assert_eq!(everyone.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = everyone.text().await.unwrap();
    assert!(text.contains("Nobody in"), "{text}");
    assert!(text.contains("(3 have the survey already)"), "{text}");
    let (_, round) = signed.get("surveys/rounds/1").await;
    assert!(round.contains("<h1>Survey round #1</h1>"), "{round}");
    assert!(
        !round.replace("console.css", "").contains("console."),
        "a text key is missing: {round}"
    );
}
