//! Coordinators' rough edges (issue 20): the results chart as a photo with scopes that name their series,
//! the check-in prompt keeping the session's name, and a series that ends with one survey before the
//! certificate. (Attendance by buttons: programme.rs; broadcasts' times and wording: broadcasts.rs; the
//! participant list in the coordinator's language: coordinators.rs; change notices: reminders.rs.)
use crate::harness::{TestBot, joined, labels};
use fake_telegram::{FakeUser, SentKind};
use pretty_assertions::assert_eq;
use testkit::story::register_professional;
use testkit::story::surveys::{OPENS, answer_feedback, attend, is_survey};
use testkit::story::{SPEEDUP, register, utc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_scopes_name_their_series_and_the_chart_comes_as_a_photo_and_a_file() {
    let bot = TestBot::start_sped_up(
        &[
            ("COORDINATOR_IDS", "900, 901"),
            ("SURVEY_MIN_RESPONSES", "2"),
        ],
        SPEEDUP,
    )
    .await;
    let anna = register_professional(&bot, 9411, "Anna").await;
    let ben = register_professional(&bot, 9412, "Ben").await;
    for user in [&anna, &ben] {
        attend(&bot, user).await;
    }
    bot.advance_to(utc(OPENS)).await;
    answer_feedback(&bot, &anna, "4 Jokseenkin samaa mieltä", "Kyllä", "Hyvä").await;
    answer_feedback(&bot, &ben, "5 Täysin samaa mieltä", "Ehkä", "Kiitos").await;

    for (id, lang, survey, session, all) in [
        (
            900,
            "fi",
            "Palaute verkkotapaamisesta",
            "Oulu 3.4. Verkkotapaaminen 1",
            "Kaikki vastaukset",
        ),
        (
            901,
            "en",
            "Feedback on the online meeting",
            "Oulu 3.4. Online meeting 1",
            "All responses",
        ),
    ] {
        let coordinator = FakeUser::new(id, "Koordinaattori", Some(lang));
        bot.send(&coordinator, "/results").await;
        let scopes = labels(&bot.press(&coordinator, survey).await);
        // Every session's button says which series it belongs to, and fits on a phone.
        assert_eq!(scopes[0], all);
        let sessions: Vec<&String> = scopes
            .iter()
            .filter(|l| l.chars().any(|c| c.is_ascii_digit()) && !l.contains("2024"))
            .collect();
        assert!(sessions.len() >= 6, "{scopes:?}");
        for label in &sessions {
            assert!(
                label.starts_with("Oulu ") || label.starts_with("Rovaniemi "),
                "{label} in {scopes:?}"
            );
            assert!(label.chars().count() <= 30, "{label}");
        }
        assert!(scopes.contains(&session.to_string()), "{scopes:?}");
        assert!(
            scopes.contains(&"Rovaniemi 27.3.".to_string()),
            "{scopes:?}"
        );

        let shown = bot.press(&coordinator, session).await;
        let photos: Vec<_> = shown.iter().filter(|m| m.kind == SentKind::Photo).collect();
        assert_eq!(photos.len(), 1, "the chart shows in the chat");
        let photo = photos[0].document.clone().unwrap();
        assert!(photo.bytes.starts_with(b"\x89PNG"), "a PNG");
        assert!(
            photos[0].text.as_deref().unwrap_or("").starts_with(survey),
            "captioned with the survey: {:?}",
            photos[0].text
        );
        let files: Vec<_> = shown
            .iter()
            .filter(|m| m.kind == SentKind::Document)
            .filter_map(|m| m.document.clone())
            .collect();
        assert_eq!(
            files[0].file_name, "session-feedback-oulu-2024-2.png",
            "and the same chart as a file to keep"
        );
        assert_eq!(files[0].bytes, photo.bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_leaves_the_sessions_name_on_the_prompt_in_both_languages() {
    let bot = TestBot::start_sped_up(&[], SPEEDUP).await;
    let anna = register_professional(&bot, 9421, "Anna").await;
    let (ben, _) = register(&bot, 9422, "Ben Berg", "en", "oulu-kevat24").await;
    // The kick-off starts on 19.3. at 8.00 (6.00 UTC); the prompt comes 15 minutes before.
    bot.advance_to(utc("2024-03-19 06:10")).await;
    for (user, button, mark) in [
        (
            &anna,
            "✋ Olen paikalla",
            "✅ Merkitty paikalle: Aloitustapaaminen",
        ),
        (&ben, "✋ I'm here", "✅ Checked in: Kick-off meeting"),
    ] {
        let prompt = bot
            .fake
            .sent_to(user.id)
            .into_iter()
            .rev()
            .find(|m| m.button_data(button).is_some())
            .expect("the check-in prompt");
        bot.press(user, button).await;
        let edited = bot
            .fake
            .sent_to(user.id)
            .into_iter()
            .find(|m| m.message_id == prompt.message_id)
            .unwrap();
        let text = edited.text.unwrap_or_default();
        assert!(
            text.starts_with(prompt.text.as_deref().unwrap()),
            "the prompt is kept: {text}"
        );
        assert!(text.ends_with(&format!("\n\n{mark}")), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_ends_with_one_survey_and_then_the_certificate() {
    let bot = TestBot::start_sped_up(&[], SPEEDUP).await;
    let anna = register_professional(&bot, 9431, "Anna").await;
    // Anna checks in at every session, the closing meeting (an online one) too.
    for (at, session) in [
        ("2024-03-19 06:30", "oulu-2024-1"),
        ("2024-04-03 05:30", "oulu-2024-2"),
        ("2024-04-09 05:30", "oulu-2024-3"),
        ("2024-04-23 05:30", "oulu-2024-4"),
        ("2024-05-14 05:30", "oulu-2024-5"),
    ] {
        bot.clock.set(utc(at));
        let any = bot.fake.last_sent_to(anna.id).unwrap().message_id;
        let replies = bot.press_data(&anna, any, &format!("1|ci|{session}")).await;
        assert!(
            joined(&replies).contains("Kiitos!"),
            "{session}: {}",
            joined(&replies)
        );
    }
    // The series ends on 14.5. at 12.00 (9.00 UTC).
    let arrivals = bot.advance_to(utc("2024-05-16 12:00")).await;
    let to_anna: Vec<_> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == anna.id)
        .collect();
    let surveys: Vec<usize> = (0..to_anna.len())
        .filter(|i| is_survey(&to_anna[*i].message))
        .collect();
    assert_eq!(
        surveys.len(),
        1,
        "one survey, not also the closing meeting's feedback: {to_anna:#?}"
    );
    let survey = &to_anna[surveys[0]];
    assert!(
        survey
            .message
            .text
            .as_deref()
            .unwrap_or("")
            .contains("Loppukysely: työpajasarja"),
        "{survey:?}"
    );
    let certificate = to_anna
        .iter()
        .position(|a| a.message.document.is_some())
        .expect("a certificate");
    assert!(
        surveys[0] < certificate,
        "the survey comes before the certificate: {to_anna:#?}"
    );
    assert_eq!(survey.at, utc("2024-05-14 09:30"));
    assert_eq!(to_anna[certificate].at, utc("2024-05-14 09:30"));
}
