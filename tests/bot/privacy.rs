use crate::harness::{TestBot, joined, labels};
use testkit::story::register_father;

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
        "Tietosuojasuostumus: versio 2026-12-07, 12.3.2024 klo 9.00",
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
    assert!(text.contains("Tietosuojaseloste (versio 2026-12-07)"));
    assert!(text.contains("Hyväksyit tietosuojaselosteen version 2026-12-07 12.3.2024 klo 9.00."));
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

/// After `/forget`, neither the database file nor its write-ahead log (after a checkpoint) holds the
/// person's name or email in any form (read raw, as `strings` would), and the audit log has no trace of
/// their Telegram id — neither as a coordinator's subject (attendance) nor as an actor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_leaves_no_name_email_or_id_in_the_file_or_the_audit_log() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await;
    let aulikki = testkit::story::register_professional(&bot, 9061, "Aulikki Pyyhittava").await;
    let other = testkit::story::register_professional(&bot, 9062, "Ben Berg").await;
    let coordinator = fake_telegram::FakeUser::new(900, "Venla", Some("fi"));
    bot.send(&coordinator, "/attendance oulu-2024-2").await;
    bot.press(&coordinator, "⬜ Aulikki Pyyhittava").await;
    bot.press(&coordinator, "⬜ Ben Berg").await;
    let id = aulikki.id.to_string();
    let traces = |rows: Vec<(i64, String)>| {
        rows.into_iter()
            .filter(|(actor, detail)| *actor == aulikki.id || detail.contains(&id))
            .count()
    };
    let audit = || async {
        sqlx::query_as::<_, (i64, String)>("SELECT actor, detail FROM audit_log")
            .fetch_all(&bot.db)
            .await
            .unwrap()
    };
    assert_eq!(
        audit().await.len(),
        2,
        "both attendance changes are audited"
    );

    bot.send(&aulikki, "/forget").await;
    let replies = bot.press(&aulikki, "Kyllä, poista kaikki").await;
    assert!(joined(&replies).contains("Tietosi on poistettu."));
    assert_eq!(traces(audit().await), 0, "{:?}", audit().await);
    assert_eq!(audit().await.len(), 2, "the audit lines themselves stay");
    let other_id = other.id.to_string();
    assert_eq!(
        audit()
            .await
            .iter()
            .filter(|(_, d)| d.contains("participant #"))
            .count(),
        2,
        "attendance lines name the registration row, never the Telegram id ({other_id})"
    );

    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(busy, 0, "the checkpoint completed");
    let file = bot.config().database_url.replace("sqlite://", "");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
    for secret in [
        "Aulikki Pyyhittava",
        "Pyyhittava",
        "aulikki.pyyhittava@example.fi",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "'{secret}' is still readable in the database file"
        );
    }
    assert!(
        bytes.windows(8).any(|w| w == b"Ben Berg"),
        "the check reads the file (others' names are in it)"
    );
}
