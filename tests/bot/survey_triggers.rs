//! The anonymous peer-group survey after four weeks, `/forget` with survey data, and surveys sent by hand.
use crate::harness::{TestBot, joined, labels};
use fake_telegram::FakeUser;
use pretty_assertions::assert_eq;
use testkit::story::register_professional;
use testkit::story::surveys::{COORDINATOR, invitations_to, start};
use testkit::story::utc;

/// A father who joins the Oulu peer group through its link (12.3.2024 7.00 UTC), with research consent.
async fn join_group(bot: &TestBot, id: i64, name: &str) -> FakeUser {
    let user = FakeUser::new(id, name, Some("fi"));
    bot.send(&user, "/start isat-oulu").await;
    bot.send(&user, name).await;
    bot.press(&user, "Vertaisryhmä").await;
    bot.press(&user, "Hyväksyn").await;
    let done = joined(&bot.press(&user, "Kyllä, saa käyttää").await);
    assert!(done.contains("Ilmoittautumisesi on tallessa"), "{done}");
    // The coordinator links the Oulu group and the father joins it through its invite link: the four weeks
    // count from the moment the bot lets him in.
    let link = testkit::story::groups::link_oulu(bot).await;
    let group = testkit::story::groups::oulu_group();
    bot.exchange(group.id, |f| {
        f.request_to_join(&group, &user, Some(&link));
    })
    .await;
    bot.settle().await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM group_members WHERE status = 'approved' AND telegram_user_id = ?",
            user.id
        )
        .await,
        1
    );
    user
}

const PEER: &str = "Miltä vertaisryhmä on tuntunut?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anonymous_peer_group_survey_keeps_no_link_and_survives_forget() {
    let bot = start().await;
    let matti = join_group(&bot, 9301, "Matti").await;
    let anna = register_professional(&bot, 9302, "Anna").await;

    bot.advance_to(utc("2024-04-09 06:59")).await;
    assert!(
        invitations_to(&bot, &matti, PEER).is_empty(),
        "not before four weeks"
    );
    let arrivals = bot.advance_to(utc("2024-04-09 07:00")).await;
    let invited: Vec<i64> = arrivals
        .iter()
        .filter(|a| a.message.text.as_deref().is_some_and(|t| t.contains(PEER)))
        .map(|a| a.message.chat_id)
        .collect();
    assert_eq!(
        invited,
        [matti.id],
        "only the father in the group, four weeks after joining"
    );
    assert!(invitations_to(&bot, &anna, PEER).is_empty());

    bot.press(&matti, "Vastaa kyselyyn").await;
    bot.press(&matti, "4 Jokseenkin samaa mieltä").await;
    bot.press(&matti, "5 Täysin samaa mieltä").await;
    bot.press(&matti, "Kyllä").await;
    bot.send(&matti, "Työn ja perheen yhteensovitus").await;
    let summary = bot.fake.last_sent_to(matti.id).unwrap();
    let submit = summary.button_data("Lähetä vastaukset").unwrap();
    let done = joined(&bot.press_data(&matti, summary.message_id, &submit).await);
    assert!(done.contains("Kiitos!"), "{done}");
    let again = joined(&bot.press_data(&matti, summary.message_id, &submit).await);
    assert!(again.contains("Olet jo vastannut"), "{again}");

    // No pseudonym, no person; the research consent given at submission; the day only.
    let stored: Vec<(Option<String>, Option<bool>, String, String)> = sqlx::query_as(
        "SELECT pseudonym, research_consent, trigger_key, submitted_at FROM survey_responses",
    )
    .fetch_all(&bot.db)
    .await
    .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, None);
    assert_eq!(stored[0].1, Some(true));
    assert_eq!(stored[0].2, "group:oulu-isat-fi");
    assert!(
        stored[0].3.starts_with("2024-04-08T21:00:00"),
        "local midnight: {}",
        stored[0].3
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM survey_pseudonyms WHERE telegram_user_id = ?",
            matti.id
        )
        .await,
        0
    );
    let marker: (String, String) =
        sqlx::query_as("SELECT status, answers FROM survey_invitations WHERE telegram_user_id = ?")
            .bind(matti.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(marker, ("submitted".to_string(), "{}".to_string()));
    let mydata = joined(&bot.send(&matti, "/mydata").await);
    assert!(
        mydata.contains("Kysely Miltä vertaisryhmä on tuntunut? (9.4.2024 klo 10.00): vastattu"),
        "{mydata}"
    );

    // /forget erases the invitation, and the anonymous answer stays.
    bot.send(&matti, "/forget").await;
    bot.press(&matti, "Kyllä, poista kaikki").await;
    for table in ["survey_invitations", "survey_pseudonyms"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE telegram_user_id = ?");
        assert_eq!(bot.count(&sql, matti.id).await, 0, "{table}");
    }
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM survey_responses")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    let invited: i64 = sqlx::query_scalar("SELECT invited FROM survey_invited_counts")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(invited, 1, "the response rate keeps its denominator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_sends_a_survey_by_hand_to_a_series_and_it_is_answered_with_multiple_choice()
{
    let bot = start().await;
    let coordinator = FakeUser::new(COORDINATOR, "Kirsi", Some("fi"));
    let anna = register_professional(&bot, 9311, "Anna").await;
    let matti = join_group(&bot, 9312, "Matti").await;
    let (beth, _) = testkit::story::register(&bot, 9313, "Beth", "en", "oulu-kevat24").await;

    let replies = bot.send(&coordinator, "/survey").await;
    assert_eq!(
        labels(&replies),
        ["Loppukysely: työpajasarja"],
        "only surveys with a manual trigger"
    );
    let replies = bot.press(&coordinator, "Loppukysely: työpajasarja").await;
    assert!(
        labels(&replies).contains(&"Oulu, kevät 2024".to_string()),
        "{:?}",
        labels(&replies)
    );
    let preview = joined(&bot.press(&coordinator, "Oulu, kevät 2024").await);
    assert!(preview.contains("Kutsu lähtee 2 henkilölle"), "{preview}");
    let sent = joined(&bot.press(&coordinator, "Lähetä kysely").await);
    assert!(sent.contains("Kysely lähetetään 2 henkilölle"), "{sent}");
    bot.settle().await;
    assert_eq!(
        invitations_to(&bot, &anna, "Loppukysely: työpajasarja").len(),
        1
    );
    assert!(invitations_to(&bot, &matti, "Loppukysely").is_empty());
    // Beth gets it in English.
    let english = invitations_to(&bot, &beth, "Final survey: workshop series");
    assert_eq!(english.len(), 1);
    assert_eq!(labels(&english), ["Answer the survey"]);
    let replies = bot.press(&beth, "Answer the survey").await;
    assert!(
        joined(&replies).contains("Final survey: workshop series · 1/5"),
        "{}",
        joined(&replies)
    );
    assert!(labels(&replies).contains(&"5 Strongly agree".to_string()));

    // Multiple choice: toggled in place, "Done" needs a choice.
    bot.press(&anna, "Vastaa kyselyyn").await;
    bot.press(&anna, "4 Jokseenkin samaa mieltä").await;
    let replies = bot.press(&anna, "3 En osaa sanoa").await;
    assert!(
        labels(&replies).contains(&"☐ Kuormitustekijät".to_string()),
        "{:?}",
        labels(&replies)
    );
    bot.press(&anna, "Valmis").await;
    let toast = bot.fake.requests_to("answerCallbackQuery");
    assert_eq!(
        toast.last().unwrap().param_str("text"),
        Some("Valitse vähintään yksi vaihtoehto.")
    );
    bot.press(&anna, "☐ Kuormitustekijät").await;
    bot.press(&anna, "☐ Isyyden voimavarat").await;
    let message = bot.fake.last_sent_to(anna.id).unwrap();
    let shown = labels(&[message]);
    assert_eq!(
        shown[..4],
        [
            "☑ Isyyden voimavarat",
            "☑ Kuormitustekijät",
            "☐ Vanhemmuuden vahvistaminen",
            "☐ Menetelmien kokeilu"
        ]
    );
    bot.press(&anna, "Valmis").await;
    bot.press(&anna, "Sosiaaliala").await;
    bot.press(&anna, "Ohita").await;
    let done = joined(&bot.press(&anna, "Lähetä vastaukset").await);
    assert!(done.contains("Kiitos!"), "{done}");
    let stored: (String, String) =
        sqlx::query_as("SELECT trigger_key, answers FROM survey_responses")
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(stored.0, "manual:1");
    assert!(
        stored
            .1
            .contains(r#""themes":{"multiple":["resources","stress"]}"#),
        "{}",
        stored.1
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = 'survey_sent'",
            COORDINATOR
        )
        .await,
        1
    );
}
