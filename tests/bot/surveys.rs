//! Feedback surveys through the fake Bot API and the manual clock: who is invited and when (once), answering by
//! buttons and typed text, resuming after a restart, one submission, one reminder, closing, anonymity.
use crate::harness::{TestBot, joined, labels};
use pretty_assertions::assert_eq;
use testkit::story::register_professional;
use testkit::story::surveys::{FEEDBACK, OPENS, attend, invitations_to, start};
use testkit::story::utc;

async fn responses(bot: &TestBot) -> Vec<(Option<String>, String)> {
    sqlx::query_as("SELECT pseudonym, answers FROM survey_responses ORDER BY id")
        .fetch_all(&bot.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_feedback_goes_once_to_attendees_only_and_is_answered_by_buttons_and_text() {
    let mut bot = start().await;
    let anna = register_professional(&bot, 9101, "Anna").await;
    let ben = register_professional(&bot, 9102, "Ben").await;
    attend(&bot, &anna).await;

    bot.advance_to(utc("2024-04-03 09:29")).await;
    assert!(
        invitations_to(&bot, &anna, FEEDBACK).is_empty(),
        "not before the end + 30 min"
    );
    // The scheduler wakes by itself at the opening time (the clock is moved past it, not to it).
    let arrivals = bot.advance_to(utc("2024-04-03 11:00")).await;
    let invited: Vec<_> = arrivals
        .iter()
        .filter(|a| {
            a.message
                .text
                .as_deref()
                .is_some_and(|t| t.contains(FEEDBACK))
        })
        .map(|a| (a.message.chat_id, a.at))
        .collect();
    assert_eq!(
        invited,
        [(anna.id, utc(OPENS))],
        "only the attendee, at the opening time"
    );
    assert!(invitations_to(&bot, &ben, FEEDBACK).is_empty());
    bot.restart().await;
    bot.advance_to(utc("2024-04-03 12:00")).await;
    assert_eq!(
        invitations_to(&bot, &anna, FEEDBACK).len(),
        1,
        "once, also after a restart"
    );

    let replies = bot.press(&anna, "Vastaa kyselyyn").await;
    let text = joined(&replies);
    assert!(
        text.contains("1/3") && text.contains("Tapaamisesta oli hyötyä"),
        "{text}"
    );
    assert_eq!(
        labels(&replies),
        [
            "1 Täysin eri mieltä",
            "2 Jokseenkin eri mieltä",
            "3 En osaa sanoa",
            "4 Jokseenkin samaa mieltä",
            "5 Täysin samaa mieltä"
        ]
    );
    let replies = bot.press(&anna, "4 Jokseenkin samaa mieltä").await;
    assert!(joined(&replies).contains("2/3"), "{}", joined(&replies));
    assert_eq!(labels(&replies), ["Kyllä", "Ehkä", "En", "◀ Edellinen"]);
    // Back to change the first answer; the answer so far is shown.
    let replies = bot.press(&anna, "◀ Edellinen").await;
    assert!(joined(&replies).contains("Nykyinen vastauksesi: 4 Jokseenkin samaa mieltä"));
    bot.press(&anna, "5 Täysin samaa mieltä").await;
    let replies = bot.press(&anna, "Ehkä").await;
    assert!(joined(&replies).contains("3/3"), "{}", joined(&replies));
    assert_eq!(labels(&replies), ["◀ Edellinen", "Ohita"]);
    // A sticker is not an answer to a text question.
    let replies = bot
        .send_message(&anna, serde_json::json!({"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}}))
        .await;
    assert!(
        joined(&replies).contains("Tähän kysymykseen vastataan kirjoittamalla"),
        "{}",
        joined(&replies)
    );
    // Too long a comment is refused with the limit; the next message is taken.
    let replies = bot.send(&anna, &"ä".repeat(501)).await;
    assert!(
        joined(&replies).contains("Vastauksesi on 501 merkkiä, mutta enintään 500 mahtuu."),
        "{}",
        joined(&replies)
    );
    let replies = bot.send(&anna, "Hyvä tapaaminen; lisää esimerkkejä!").await;
    let summary = joined(&replies);
    assert!(summary.contains("→ 5 Täysin samaa mieltä"), "{summary}");
    assert!(summary.contains("→ Ehkä"), "{summary}");
    assert!(
        summary.contains("→ Hyvä tapaaminen; lisää esimerkkejä!"),
        "{summary}"
    );
    // Change an answer from the summary, then back to the summary.
    bot.press(&anna, "Muuta vastausta").await;
    bot.press(&anna, "2").await;
    let replies = bot.press(&anna, "Kyllä").await;
    assert!(joined(&replies).contains("→ Kyllä"), "{}", joined(&replies));
    let summary_message = bot.fake.last_sent_to(anna.id).unwrap();
    let submit = summary_message.button_data("Lähetä vastaukset").unwrap();
    let replies = bot
        .press_data(&anna, summary_message.message_id, &submit)
        .await;
    assert!(
        joined(&replies)
            .contains("Kiitos! Vastauksesi kyselyyn ”Palaute verkkotapaamisesta” on tallennettu.")
    );
    let replies = bot
        .press_data(&anna, summary_message.message_id, &submit)
        .await;
    assert!(
        joined(&replies).contains("Olet jo vastannut tähän kyselyyn"),
        "a second submission is refused kindly: {}",
        joined(&replies)
    );

    let pseudonym: String =
        sqlx::query_scalar("SELECT pseudonym FROM survey_pseudonyms WHERE telegram_user_id = ?")
            .bind(anna.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(pseudonym.len(), 12);
    let stored = responses(&bot).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0.as_deref(), Some(pseudonym.as_str()));
    let mydata = joined(&bot.send(&anna, "/mydata").await);
    for expected in [
        format!("Kyselyjen pseudonyymi: {pseudonym}"),
        "Vastauksesi kyselyyn Palaute verkkotapaamisesta (3.4.2024 klo 15.00): 1. 5 Täysin samaa mieltä; 2. Kyllä; 3. Hyvä tapaaminen; lisää esimerkkejä!".into(),
        "Kysely Palaute verkkotapaamisesta (3.4.2024 klo 12.30): vastattu".into(),
    ] {
        assert!(mydata.contains(&expected), "missing '{expected}' in:\n{mydata}");
    }
    let answers: serde_json::Value = serde_json::from_str(&stored[0].1).unwrap();
    assert_eq!(
        answers,
        serde_json::json!({
            "useful": {"likert": 5},
            "try_method": {"single": "yes"},
            "comment": {"text": "Hyvä tapaaminen; lisää esimerkkejä!"}
        })
    );
    // Submitted: the reminder due 48 h after the invitation is withdrawn.
    let later = bot.advance_to(utc("2024-04-11 12:00")).await;
    assert!(
        !later.iter().any(|a| a.message.chat_id == anna.id
            && a.message
                .text
                .as_deref()
                .is_some_and(|t| t.starts_with("Muistutus: Palaute"))),
        "no reminder after submitting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_survey_resumes_after_a_crash_is_reminded_once_and_then_closes() {
    let mut bot = start().await;
    let anna = register_professional(&bot, 9111, "Anna").await;
    attend(&bot, &anna).await;
    bot.advance_to(utc(OPENS)).await;
    bot.press(&anna, "Vastaa kyselyyn").await;
    bot.press(&anna, "2 Jokseenkin eri mieltä").await;
    bot.crash_and_restart().await;

    // The invitation's button continues where she was.
    let replies = bot.press(&anna, "Vastaa kyselyyn").await;
    let text = joined(&replies);
    assert!(
        text.contains("2/3") && text.contains("Aiotko kokeilla"),
        "{text}"
    );
    // A button of the first question (say, pressed twice quickly) is out of date now: a toast, no change.
    let invitation: i64 =
        sqlx::query_scalar("SELECT id FROM survey_invitations WHERE telegram_user_id = ?")
            .bind(anna.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    let latest = bot.fake.last_sent_to(anna.id).unwrap().message_id;
    let replies = bot
        .press_data(&anna, latest, &format!("1|s|a|{invitation}|useful|3"))
        .await;
    assert!(replies.is_empty());
    let callback = bot.fake.requests_to("answerCallbackQuery");
    let toast = callback
        .last()
        .unwrap()
        .param_str("text")
        .map(str::to_string);
    assert_eq!(
        toast.as_deref(),
        Some("Tämä painike on vanhentunut – käytä uusinta kysymysviestiä.")
    );
    let progress: String =
        sqlx::query_scalar("SELECT answers FROM survey_invitations WHERE id = ?")
            .bind(invitation)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(
        progress, r#"{"useful":{"likert":2}}"#,
        "progress was saved per answer"
    );

    // On the text question she edits her name in /profile: the name goes to the profile, not the survey.
    let replies = bot.press(&anna, "Kyllä").await;
    assert!(joined(&replies).contains("3/3"), "{}", joined(&replies));
    bot.send(&anna, "/profile").await;
    bot.press(&anna, "✏️ Nimi").await;
    bot.send(&anna, "Anna Aho").await;
    let name: String =
        sqlx::query_scalar("SELECT name FROM participants WHERE telegram_user_id = ?")
            .bind(anna.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(name, "Anna Aho");
    let progress: String =
        sqlx::query_scalar("SELECT answers FROM survey_invitations WHERE id = ?")
            .bind(invitation)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert!(!progress.contains("Anna Aho"), "{progress}");
    let replies = bot.press(&anna, "Vastaa kyselyyn").await;
    assert!(
        joined(&replies).contains("3/3"),
        "back at the text question: {}",
        joined(&replies)
    );

    let arrivals = bot.advance_to(utc("2024-04-11 12:00")).await;
    let reminders: Vec<_> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == anna.id)
        .filter(|a| {
            a.message
                .text
                .as_deref()
                .is_some_and(|t| t.starts_with("Muistutus: Palaute"))
        })
        .collect();
    assert_eq!(reminders.len(), 1, "one reminder");
    assert_eq!(
        reminders[0].at,
        utc("2024-04-05 09:30"),
        "48 h after the invitation"
    );
    assert!(labels(&[reminders[0].message.clone()]).contains(&"Jatka vastaamista".to_string()));

    // Closed after 7 days: buttons and typed answers are told so, and nothing is stored.
    let replies = bot.press(&anna, "Ohita").await;
    assert!(
        joined(&replies).contains("Tämä kysely on sulkeutunut"),
        "{}",
        joined(&replies)
    );
    let replies = bot.send(&anna, "Myöhäinen kommentti").await;
    assert!(
        joined(&replies).contains("Tämä kysely on sulkeutunut"),
        "{}",
        joined(&replies)
    );
    assert!(responses(&bot).await.is_empty());
}
