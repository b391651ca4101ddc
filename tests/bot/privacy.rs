use crate::harness::{TestBot, joined, labels};
use crate::registration::register_father;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mydata_shows_everything_stored() {
    let bot = TestBot::start().await;
    let pekka = register_father(&bot, 6001, "Pekka").await;
    let replies = bot.send(&pekka, "/mydata").await;
    let text = joined(&replies);
    for expected in [
        "Telegram-tunniste: 6001",
        "Kieli: fi",
        "Ilmoittautunut: 12.3.2024 klo 9.00",
        "Rooli: Isä",
        "Nimi: Pekka",
        "Alue: Oulu",
        "Toive: Molemmat",
        "Tietosuojasuostumus: versio 2024-03-11, 12.3.2024 klo 9.00",
        "Tutkimussuostumus: kyllä (12.3.2024 klo 9.00)",
    ] {
        assert!(text.contains(expected), "missing '{expected}' in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_asks_first_and_then_leaves_no_personal_row() {
    let bot = TestBot::start().await;
    let pekka = register_father(&bot, 6002, "Pekka").await;
    let other = register_father(&bot, 6003, "Olli").await;

    let replies = bot.send(&pekka, "/forget").await;
    assert_eq!(labels(&replies), ["Kyllä, poista kaikki", "Ei, säilytä"]);
    let replies = bot.press(&pekka, "Ei, säilytä").await;
    assert!(joined(&replies).contains("tietosi säilyvät"));
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?",
            pekka.id
        )
        .await,
        1
    );

    bot.send(&pekka, "/forget").await;
    let replies = bot.press(&pekka, "Kyllä, poista kaikki").await;
    assert!(joined(&replies).contains("Tietosi on poistettu."));

    let tables = milava_bot::db::personal_tables(&bot.db).await.unwrap();
    assert!(
        tables.len() >= 3,
        "users, participants and dialogues hold personal rows: {tables:?}"
    );
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE telegram_user_id = ?");
        assert_eq!(
            bot.count(&sql, pekka.id).await,
            0,
            "{table} still has a row of the erased user"
        );
        if table == "participants" || table == "users" {
            assert_eq!(
                bot.count(&sql, other.id).await,
                1,
                "{table}: other people's rows stay"
            );
        }
    }
    let replies = bot.send(&pekka, "/mydata").await;
    assert!(
        joined(&replies).contains("Sinusta ei ole tallennettu mitään"),
        "{}",
        joined(&replies)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_shows_the_notice_and_the_consents_given() {
    let bot = TestBot::start().await;
    let pekka = register_father(&bot, 6004, "Pekka").await;
    let text = joined(&bot.send(&pekka, "/privacy").await);
    assert!(text.contains("Tietosuojaseloste (versio 2024-03-11)"));
    assert!(text.contains("Hyväksyit tietosuojaselosteen version 2024-03-11 12.3.2024 klo 9.00."));
    assert!(text.contains("Tutkimuskäyttö: olet antanut suostumuksen"));

    // Withdrawing research consent through /profile is stored with the change.
    bot.send(&pekka, "/profile").await;
    bot.press(&pekka, "✏️ Tutkimuskäyttö").await;
    bot.press(&pekka, "Ei, kiitos").await;
    let consent: bool =
        sqlx::query_scalar("SELECT research_consent FROM participants WHERE telegram_user_id = ?")
            .bind(pekka.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert!(!consent);
}
