use crate::harness::{TestBot, joined, labels};
use fake_telegram::FakeUser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_father_registers_in_finnish() {
    let bot = TestBot::start().await;
    let pekka = FakeUser::new(1001, "Pekka", Some("fi"));

    let replies = bot.send(&pekka, "/start").await;
    assert!(
        joined(&replies).contains("Hei Pekka!"),
        "{}",
        joined(&replies)
    );
    assert_eq!(labels(&replies), ["Isä", "Ammattilainen", "Muu"]);

    let replies = bot.press(&pekka, "Isä").await;
    assert!(joined(&replies).contains("etunimesi tai nimimerkkisi"));
    // The answered question now shows the choice and has no buttons left to press twice.
    let first_question = bot
        .fake
        .sent_to(pekka.id)
        .into_iter()
        .find(|m| m.text.as_deref().unwrap_or("").starts_with("Kuka olet?"))
        .unwrap();
    assert!(first_question.text.as_deref().unwrap().ends_with("✅ Isä"));
    assert!(first_question.inline_buttons().is_empty());

    let replies = bot.send(&pekka, "  Pekka  ").await;
    assert_eq!(
        labels(&replies),
        ["Oulu", "Kajaani", "Rovaniemi", "Muualla / verkossa"]
    );
    bot.press(&pekka, "Kajaani").await;
    let replies = bot.press(&pekka, "Molemmat").await;
    assert!(joined(&replies).contains("tietosuojaseloste (versio 2026-12-07)"));
    // The retention period the notice promises is the one the purge uses (PERSONAL_DATA_RETENTION_DAYS).
    assert!(
        joined(&replies).contains("poistetaan 180 päivän kuluttua sarjan päättymisestä"),
        "{}",
        joined(&replies)
    );
    assert_eq!(labels(&replies), ["Hyväksyn", "En hyväksy"]);
    let replies = bot.press(&pekka, "Hyväksyn").await;
    assert!(joined(&replies).contains("Oulun yliopisto"));
    let replies = bot.press(&pekka, "Kyllä, saa käyttää").await;
    assert!(
        joined(&replies).contains("Kiitos, Pekka! Ilmoittautumisesi on tallessa."),
        "{}",
        joined(&replies)
    );

    let row: (String, String, String, String, String, bool, Option<String>) = sqlx::query_as(
        "SELECT role, name, area, wants, privacy_version, research_consent, series_id FROM participants WHERE telegram_user_id = ?",
    )
    .bind(pekka.id)
    .fetch_one(&bot.db)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "father".into(),
            "Pekka".into(),
            "kajaani".into(),
            "both".into(),
            "2026-12-07".into(),
            true,
            None
        )
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM dialogues WHERE telegram_user_id = ?",
            pekka.id
        )
        .await,
        0
    );
    let consent_at: String =
        sqlx::query_scalar("SELECT consent_at FROM participants WHERE telegram_user_id = ?")
            .bind(pekka.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert!(
        consent_at.starts_with("2024-03-12T07:00:00"),
        "consent time comes from the injected clock: {consent_at}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_professional_registers_in_english() {
    let bot = TestBot::start().await;
    let anna = FakeUser::new(2002, "Anna", Some("en-GB"));

    let replies = bot.send(&anna, "/start").await;
    assert!(joined(&replies).contains("Hello Anna!"));
    bot.press(&anna, "Professional").await;
    let replies = bot.send(&anna, "Anna Virtanen").await;
    assert!(joined(&replies).contains("Which organisation"));
    bot.send(&anna, "Oulun kaupunki, neuvola").await;
    let replies = bot.press(&anna, "Health care").await;
    assert!(joined(&replies).contains("email address"));
    let replies = bot.send(&anna, "anna.virtanen@ouka").await;
    assert!(
        joined(&replies).contains("does not look like an email address"),
        "{}",
        joined(&replies)
    );
    let replies = bot.send(&anna, "Anna.Virtanen@ouka.fi").await;
    assert_eq!(
        labels(&replies),
        ["Rovaniemi, spring 2024", "Oulu, spring 2024"]
    );
    bot.press(&anna, "Oulu, spring 2024").await;
    bot.press(&anna, "I agree").await;
    let replies = bot.press(&anna, "No, thank you").await;
    assert!(joined(&replies).contains("Thank you, Anna Virtanen! Your registration for the workshop series Oulu, spring 2024 is saved."));

    let row: (String, String, String, String, String, bool) = sqlx::query_as(
        "SELECT organisation, profession, email, series_id, role, research_consent FROM participants WHERE telegram_user_id = ?",
    )
    .bind(anna.id)
    .fetch_one(&bot.db)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "Oulun kaupunki, neuvola".into(),
            "health_care".into(),
            "anna.virtanen@ouka.fi".into(),
            "oulu-2024".into(),
            "professional".into(),
            false
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_link_preselects_the_series_and_skips_those_questions() {
    let bot = TestBot::start().await;
    let liisa = FakeUser::new(3003, "Liisa", Some("fi"));
    let replies = bot.send(&liisa, "/start rovaniemi-kevat24").await;
    let text = joined(&replies);
    assert!(
        text.contains("Ilmoittaudut työpajasarjaan: Rovaniemi, kevät 2024."),
        "{text}"
    );
    assert!(
        text.contains("Kirjoita nimesi"),
        "role is preselected, so the name comes first: {text}"
    );
    bot.send(&liisa, "Liisa Laine").await;
    bot.send(&liisa, "Lapin hyvinvointialue").await;
    let replies = bot.press(&liisa, "Sosiaaliala").await;
    assert!(joined(&replies).contains("sähköpostiosoit"));
    let replies = bot.send(&liisa, "liisa@lapha.fi").await;
    assert!(
        joined(&replies).contains("tietosuojaseloste"),
        "the series step is skipped: {}",
        joined(&replies)
    );
    bot.press(&liisa, "Hyväksyn").await;
    bot.press(&liisa, "Ei, kiitos").await;
    let series: String =
        sqlx::query_scalar("SELECT series_id FROM participants WHERE telegram_user_id = ?")
            .bind(liisa.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(series, "rovaniemi-2024");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_link_makes_a_father_and_an_unknown_code_gets_a_note() {
    let bot = TestBot::start().await;
    let matti = FakeUser::new(3004, "Matti", Some("fi"));
    let replies = bot.send(&matti, "/start isat-oulu").await;
    assert!(joined(&replies).contains("Oulun isien vertaisryhmä"));
    assert!(joined(&replies).contains("etunimesi tai nimimerkkisi"));

    let ville = FakeUser::new(3005, "Ville", None);
    let replies = bot.send(&ville, "/start vanha-koodi-2019").await;
    let text = joined(&replies);
    assert!(
        text.contains("”vanha-koodi-2019” ei tunnistettu"),
        "no language code means the default, Finnish: {text}"
    );
    assert_eq!(labels(&replies), ["Isä", "Ammattilainen", "Muu"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_user_gets_their_profile_not_a_second_registration_and_can_edit_it() {
    let bot = TestBot::start().await;
    let pekka = testkit::story::register_father(&bot, 1010, "Pekka").await;
    let replies = bot.send(&pekka, "/start").await;
    let text = joined(&replies);
    assert!(text.contains("Olet jo ilmoittautunut, Pekka."), "{text}");
    assert!(text.contains("Alue: Oulu"), "{text}");
    assert!(labels(&replies).contains(&"✏️ Nimi".to_string()));

    bot.press(&pekka, "✏️ Alue").await;
    let replies = bot.press(&pekka, "Rovaniemi").await;
    assert!(
        joined(&replies).contains("Alue: Rovaniemi"),
        "{}",
        joined(&replies)
    );
    let area: String =
        sqlx::query_scalar("SELECT area FROM participants WHERE telegram_user_id = ?")
            .bind(pekka.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(area, "rovaniemi");

    bot.press(&pekka, "✏️ Nimi").await;
    let replies = bot.send(&pekka, "   ").await;
    assert!(joined(&replies).contains("Vastaus jäi tyhjäksi"));
    let replies = bot.send(&pekka, "Pekka P.").await;
    assert!(joined(&replies).contains("Nimi: Pekka P."));
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?",
            pekka.id
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_can_be_switched_mid_flow() {
    let bot = TestBot::start().await;
    let user = FakeUser::new(4004, "Juha", Some("fi"));
    bot.send(&user, "/start").await;
    bot.press(&user, "Isä").await;
    let replies = bot.send(&user, "/language").await;
    assert_eq!(labels(&replies), ["Suomi", "English"]);
    let replies = bot.press(&user, "English").await;
    let text = joined(&replies);
    assert!(text.contains("Language changed: English."));
    assert!(
        text.contains("What is your first name or nickname?"),
        "the flow continues in English: {text}"
    );
    let lang: String = sqlx::query_scalar("SELECT language FROM users WHERE telegram_user_id = ?")
        .bind(user.id)
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(lang, "en");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_the_privacy_notice_stores_no_registration() {
    let bot = TestBot::start().await;
    let user = FakeUser::new(4005, "Olli", Some("fi"));
    bot.send(&user, "/start").await;
    bot.press(&user, "Muu").await;
    bot.send(&user, "Olli").await;
    bot.press(&user, "Oulu").await;
    let replies = bot.press(&user, "En hyväksy").await;
    assert!(joined(&replies).contains("emme tallentaneet tietojasi"));
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?",
            user.id
        )
        .await,
        0
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM dialogues WHERE telegram_user_id = ?",
            user.id
        )
        .await,
        0
    );
}
