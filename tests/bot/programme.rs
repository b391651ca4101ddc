use crate::harness::{TestBot, joined, labels};
use chrono::{TimeZone, Utc};
use fake_telegram::FakeUser;
use testkit::story::register_professional;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_and_schedule_show_the_series_in_local_time() {
    let bot = TestBot::start().await;
    let anna = register_professional(&bot, 9001, "Anna").await;
    let text = joined(&bot.send(&anna, "/next").await);
    assert!(
        text.contains("Seuraava tapaaminen, Oulu, kevät 2024:"),
        "{text}"
    );
    assert!(
        text.contains(
            "Aloitustapaaminen – Isyyden voimavarat\nti 19.3.2024 klo 8.00–12.00\nPaikka: Oulu"
        ),
        "{text}"
    );

    // During the Easter-time online meeting (summer time already), /next says it is on now.
    bot.clock
        .set(Utc.with_ymd_and_hms(2024, 4, 3, 6, 0, 0).unwrap());
    let text = joined(&bot.send(&anna, "/next").await);
    assert!(text.contains("Tapaaminen on käynnissä nyt"), "{text}");
    assert!(text.contains("ke 3.4.2024 klo 8.00–12.00"), "{text}");
    assert!(
        text.contains("Verkossa – järjestäjät lähettävät liittymislinkin"),
        "{text}"
    );

    let replies = bot.send(&anna, "/schedule").await;
    let text = joined(&replies);
    assert!(text.contains("(pidetty) Aloitustapaaminen"), "{text}");
    assert_eq!(
        text.matches("(pidetty)").count(),
        1,
        "only the kick-off has been held: {text}"
    );
    assert!(text.contains("ti 14.5.2024 klo 8.00–12.00"), "{text}");
    // The check-in prompt of the running session may arrive meanwhile; only the schedule's own button counts.
    let schedule: Vec<_> = replies
        .iter()
        .filter(|m| {
            m.text
                .as_deref()
                .unwrap_or("")
                .contains("kaikki tapaamiset")
        })
        .cloned()
        .collect();
    assert_eq!(labels(&schedule), ["📅 Kaikki kalenteriin"]);

    bot.clock
        .set(Utc.with_ymd_and_hms(2024, 6, 1, 6, 0, 0).unwrap());
    assert!(joined(&bot.send(&anna, "/next").await).contains("ei ole enää tulevia tapaamisia"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_father_gets_a_kind_note_from_programme_commands() {
    let bot = TestBot::start().await;
    let pekka = testkit::story::register_father(&bot, 9002, "Pekka").await;
    for command in ["/next", "/schedule", "/leave"] {
        assert!(
            joined(&bot.send(&pekka, command).await).contains("Et ole mukana työpajasarjassa"),
            "{command}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_can_be_turned_off_and_chosen_one_by_one() {
    let bot = TestBot::start().await;
    let anna = register_professional(&bot, 9003, "Anna").await;
    let replies = bot.send(&anna, "/reminders").await;
    assert!(
        joined(&replies)
            .contains("Muistutukset ovat päällä: edellisenä päivänä klo 16.00, 1 h ennen."),
        "{}",
        joined(&replies)
    );
    assert_eq!(
        labels(&replies),
        [
            "✅ edellisenä päivänä klo 16.00",
            "✅ 1 h ennen",
            "🔕 Muistutukset pois"
        ]
    );

    bot.press(&anna, "✅ 1 h ennen").await;
    let settings: (bool, Option<String>) = sqlx::query_as(
        "SELECT reminders_enabled, reminder_offsets FROM users WHERE telegram_user_id = ?",
    )
    .bind(anna.id)
    .fetch_one(&bot.db)
    .await
    .unwrap();
    assert_eq!(settings, (true, Some("[\"day_before_1600\"]".into())));

    let menu = bot.fake.sent_to(anna.id).into_iter().last().unwrap();
    assert_eq!(
        labels(std::slice::from_ref(&menu)),
        [
            "✅ edellisenä päivänä klo 16.00",
            "⬜ 1 h ennen",
            "🔕 Muistutukset pois"
        ],
        "updated in place"
    );
    let replies = bot.press(&anna, "🔕 Muistutukset pois").await;
    assert!(
        replies.is_empty(),
        "no new message: the menu changes in place"
    );
    let menu = bot.fake.sent_to(anna.id).into_iter().last().unwrap();
    assert_eq!(menu.text.as_deref(), Some("Muistutukset ovat pois päältä."));
    assert!(menu.edited);
    bot.press(&anna, "🔔 Muistutukset päälle").await;
    let replies = bot.send(&anna, "/reminders").await;
    assert_eq!(
        labels(&replies),
        [
            "✅ edellisenä päivänä klo 16.00",
            "⬜ 1 h ennen",
            "🔕 Muistutukset pois"
        ],
        "the choice survives off and on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_asks_first() {
    let bot = TestBot::start().await;
    let anna = register_professional(&bot, 9004, "Anna").await;
    let replies = bot.send(&anna, "/leave").await;
    assert_eq!(labels(&replies), ["Kyllä, peru", "Ei, jatkan"]);
    assert!(joined(&bot.press(&anna, "Ei, jatkan").await).contains("Hyvä, jatkat"));
    bot.send(&anna, "/leave").await;
    assert!(joined(&bot.press(&anna, "Kyllä, peru").await).contains("on peruttu"));
    let status: String =
        sqlx::query_scalar("SELECT status FROM enrolments WHERE telegram_user_id = ?")
            .bind(anna.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(status, "left");
    // Not in a series any more; the Oulu series is still open, so she may choose it (or another) again.
    let next = bot.send(&anna, "/next").await;
    assert!(joined(&next).contains("Et ole nyt missään työpajasarjassa"));
    assert_eq!(labels(&next), ["Valitse sarja"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_in_works_only_during_the_session() {
    let bot = TestBot::start().await;
    let anna = register_professional(&bot, 9005, "Anna").await;
    let any_message = bot.fake.last_sent_to(anna.id).unwrap().message_id;
    // 19.3.2024 is winter time: 8.00 local is 6.00 UTC. Fifteen minutes early is too early by one minute.
    bot.clock
        .set(Utc.with_ymd_and_hms(2024, 3, 19, 5, 44, 0).unwrap());
    let text = joined(&bot.press_data(&anna, any_message, "1|ci|oulu-2024-1").await);
    assert!(
        text.contains(
            "Paikalle voi ilmoittautua vain tapaamisen aikana (ti 19.3.2024 klo 8.00–12.00)."
        ),
        "{text}"
    );
    bot.clock
        .set(Utc.with_ymd_and_hms(2024, 3, 19, 5, 45, 0).unwrap());
    assert!(
        joined(&bot.press_data(&anna, any_message, "1|ci|oulu-2024-1").await)
            .contains("Kiitos! Olet merkitty paikalla olleeksi: Aloitustapaaminen.")
    );
    assert!(
        joined(&bot.press_data(&anna, any_message, "1|ci|oulu-2024-1").await)
            .contains("Olet jo merkitty")
    );
    bot.clock
        .set(Utc.with_ymd_and_hms(2024, 3, 19, 10, 1, 0).unwrap());
    assert!(
        joined(&bot.press_data(&anna, any_message, "1|ci|oulu-2024-1").await)
            .contains("vain tapaamisen aikana")
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM attendance WHERE telegram_user_id = ?",
            anna.id
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_mark_attendance_and_export_it_and_others_cannot() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900, 901")]).await;
    let anna = register_professional(&bot, 9006, "Anna").await;
    let ben = register_professional(&bot, 9007, "Ben Berg").await;
    let coordinator = FakeUser::new(900, "Venla", Some("fi"));

    // No session id to type: the series, then the session, with buttons.
    let replies = bot.send(&coordinator, "/attendance").await;
    assert_eq!(
        joined(&replies),
        "Minkä työpajasarjan läsnäolo? Valitse sarja, sitten tapaaminen."
    );
    assert_eq!(
        labels(&replies),
        ["Rovaniemi, kevät 2024", "Oulu, kevät 2024"]
    );
    let replies = bot.press(&coordinator, "Oulu, kevät 2024").await;
    assert_eq!(joined(&replies), "Mikä tapaaminen (Oulu, kevät 2024)?");
    assert_eq!(
        labels(&replies),
        [
            "19.3. Aloitustapaaminen",
            "3.4. Verkkotapaaminen 1",
            "9.4. Verkkotapaaminen 2",
            "23.4. Verkkotapaaminen 3",
            "14.5. Päätöstapaaminen"
        ]
    );
    let replies = bot.press(&coordinator, "3.4. Verkkotapaaminen 1").await;
    assert!(
        joined(&replies).starts_with("Läsnäolo – Verkkotapaaminen 1 (ke 3.4.2024 klo 8.00–12.00)"),
        "{}",
        joined(&replies)
    );
    assert!(
        joined(&replies).contains("Paikalla 0/2."),
        "{}",
        joined(&replies)
    );
    assert_eq!(
        labels(&replies),
        ["⬜ Anna", "⬜ Ben Berg", "📄 Läsnäolo CSV:nä"]
    );
    bot.press(&coordinator, "⬜ Ben Berg").await;
    let list = bot
        .fake
        .sent_to(coordinator.id)
        .into_iter()
        .rev()
        .find(|m| m.text.as_deref().unwrap_or("").starts_with("Läsnäolo"))
        .unwrap();
    assert!(
        list.text.as_deref().unwrap().contains("Paikalla 1/2."),
        "the list is updated in place"
    );
    assert_eq!(
        labels(std::slice::from_ref(&list)),
        ["⬜ Anna", "✅ Ben Berg", "📄 Läsnäolo CSV:nä"]
    );

    let replies = bot.press(&coordinator, "📄 Läsnäolo CSV:nä").await;
    let csv = replies
        .iter()
        .find_map(|m| m.document.clone())
        .expect("a CSV file");
    let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
    assert_eq!(
        text,
        format!(
            "session_id;telegram_user_id;name;organisation;present;marked_at;marked_by\r\noulu-2024-2;{};Anna;Oulun kaupunki;0;;\r\noulu-2024-2;{};Ben Berg;Oulun kaupunki;1;2024-03-12 09:00;900\r\n",
            anna.id, ben.id
        )
    );

    // A mistyped id is named, and the series are offered; in English too.
    let replies = bot.send(&coordinator, "/attendance oulu-2024-9").await;
    assert_eq!(
        joined(&replies),
        "Tapaamista ”oulu-2024-9” ei löydy.\n---\nMinkä työpajasarjan läsnäolo? Valitse sarja, sitten tapaaminen."
    );
    let english = FakeUser::new(901, "Beth", Some("en"));
    let replies = bot.send(&english, "/attendance").await;
    assert_eq!(
        joined(&replies),
        "Attendance of which workshop series? Choose the series, then the session."
    );
    bot.press(&english, "Oulu, spring 2024").await;
    let replies = bot.press(&english, "3.4. Online meeting 1").await;
    assert!(
        joined(&replies).contains("Present 1/2."),
        "{}",
        joined(&replies)
    );

    // A participant pressing a forged attendance button is refused and nothing changes.
    let any = bot.fake.last_sent_to(anna.id).unwrap().message_id;
    bot.press_data(&anna, any, &format!("1|at|oulu-2024-2|{}", anna.id))
        .await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM attendance WHERE telegram_user_id = ?",
            anna.id
        )
        .await,
        0
    );
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM audit_log WHERE actor = ?", 900)
            .await,
        2
    );
}
