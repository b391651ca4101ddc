use crate::harness::{TestBot, joined};
use fake_telegram::FakeUser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_father_who_stops_mid_registration_resumes_after_a_restart() {
    let mut bot = TestBot::start().await;
    let pekka = FakeUser::new(8001, "Pekka", Some("fi"));
    bot.send(&pekka, "/start").await;
    bot.press(&pekka, "Isä").await;
    bot.send(&pekka, "Pekka").await;

    bot.restart().await;
    let replies = bot.press(&pekka, "Oulu").await;
    assert!(
        joined(&replies).contains("Mistä olet kiinnostunut?"),
        "{}",
        joined(&replies)
    );

    bot.crash_and_restart().await;
    let replies = bot.press(&pekka, "Vertaisryhmä").await;
    assert!(
        joined(&replies).contains("tietosuojaseloste"),
        "{}",
        joined(&replies)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_flow_tells_the_user_and_continues_at_a_sensible_step() {
    let bot = TestBot::start().await;
    let pekka = FakeUser::new(8002, "Pekka", Some("fi"));
    bot.send(&pekka, "/start").await;
    bot.press(&pekka, "Isä").await;
    bot.send(&pekka, "Pekka").await;
    // Simulate a state saved by an older deploy: another flow version, and a step that no longer exists.
    sqlx::query("UPDATE dialogues SET content_version = 'old', step = 'father_shoe_size' WHERE telegram_user_id = ?")
        .bind(pekka.id)
        .execute(&bot.db)
        .await
        .unwrap();
    let replies = bot.send(&pekka, "44").await;
    let text = joined(&replies);
    assert!(
        text.contains("Ilmoittautumisen kysymyksiä on päivitetty"),
        "{text}"
    );
    assert!(
        text.contains("Millä alueella"),
        "kept the name, continues at the area: {text}"
    );
    let step: String = sqlx::query_scalar("SELECT step FROM dialogues WHERE telegram_user_id = ?")
        .bind(pekka.id)
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(step, "father_area");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_stored_state_is_restarted_with_a_notice() {
    let bot = TestBot::start().await;
    // Ways a stored state can stop making sense: a hand edit, an old deploy, a value of another type.
    let damage = [
        "answers = '{not json', flow = 'mystery'",
        "updated_at = 'last tuesday'",
        "updated_at = x'00ff'",
        "step = x'00ff'",
        "content_version = 42",
    ];
    for (n, damage) in damage.iter().enumerate() {
        let pekka = FakeUser::new(8003 + 10 * n as i64, "Pekka", Some("fi"));
        bot.send(&pekka, "/start").await;
        sqlx::query(&format!(
            "UPDATE dialogues SET {damage} WHERE telegram_user_id = ?"
        ))
        .bind(pekka.id)
        .execute(&bot.db)
        .await
        .unwrap();
        let replies = bot.send(&pekka, "hei").await;
        let text = joined(&replies);
        assert!(
            text.contains("Ilmoittautumisen kysymyksiä on päivitetty"),
            "{damage}: {text}"
        );
        assert!(text.contains("Kuka olet?"), "{damage}: {text}");
        // Restarted and stored again: the next answer is taken as usual.
        let replies = bot.press(&pekka, "Isä").await;
        assert!(
            joined(&replies).contains("etunimesi tai nimimerkkisi"),
            "{damage}: {}",
            joined(&replies)
        );
    }
}
