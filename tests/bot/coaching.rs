//! One-to-one coaching: the weekly step at the father's chosen local time (across the DST change), his
//! reflections private to him, paged in /journal, shown by /mydata and erased by /forget.
use crate::harness::{TestBot, joined, labels};
use chrono::{DateTime, Utc};
use fake_telegram::FakeUser;
use testkit::story::groups::{times, utc};
use testkit::story::register_father;

/// Registers a father who chose both (register_father) and picks Wednesdays at 19.00.
async fn father_on_wednesdays(bot: &TestBot, id: i64, name: &str) -> FakeUser {
    let father = register_father(bot, id, name).await;
    let replies = bot.press(&father, "ke").await;
    assert!(
        joined(&replies).contains("Mihin aikaan?"),
        "{}",
        joined(&replies)
    );
    let replies = bot.press(&father, "19.00").await;
    assert!(
        joined(&replies).contains("ke 13.3.2024 klo 19.00"),
        "{}",
        joined(&replies)
    );
    father
}

fn steps(arrivals: &[crate::harness::Arrival], chat: i64) -> Vec<(DateTime<Utc>, String)> {
    testkit::story::groups::arrivals_in(arrivals, chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coaching_steps_come_weekly_at_the_chosen_local_time_across_the_dst_change() {
    let bot = TestBot::start().await;
    let pekka = father_on_wednesdays(&bot, 8001, "Pekka").await;

    let arrived = steps(&bot.advance_to(utc(2024, 4, 4, 0, 0)).await, pekka.id);
    // 19.00 in Helsinki: 17:00 UTC in winter time, 16:00 UTC from 31.3.
    assert_eq!(
        times(&arrived),
        [
            utc(2024, 3, 13, 17, 0),
            utc(2024, 3, 20, 17, 0),
            utc(2024, 3, 27, 17, 0),
            utc(2024, 4, 3, 16, 0)
        ]
    );
    assert!(
        arrived[0]
            .1
            .starts_with("🧭 Valmennus 1/9: Isä sellaisena kuin olet"),
        "{}",
        arrived[0].1
    );
    assert!(
        arrived[3].1.contains("Valmennus 4/9: Kun pinna kiristyy"),
        "{}",
        arrived[3].1
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM deliveries WHERE idempotency_key LIKE 'coaching:' || ? || ':%'",
            pekka.id
        )
        .await,
        4
    );

    // Pausing skips the weeks until he resumes; resuming does not send the missed ones late.
    bot.send(&pekka, "/coaching").await;
    let replies = bot.press(&pekka, "Tauko").await;
    assert!(joined(&replies).contains("Valmennus on tauolla"));
    let paused = steps(&bot.advance_to(utc(2024, 4, 20, 0, 0)).await, pekka.id);
    assert!(paused.is_empty(), "{paused:?}");
    let status = bot.send(&pekka, "/coaching").await;
    assert!(
        joined(&status).contains("tauolla (viikkoaika ke 19.00, seuraavaksi vaihe 5/9)"),
        "{}",
        joined(&status)
    );
    bot.press(&pekka, "Jatka").await;
    let resumed = steps(&bot.advance_to(utc(2024, 4, 25, 0, 0)).await, pekka.id);
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].0, utc(2024, 4, 24, 16, 0));
    assert!(resumed[0].1.contains("Valmennus 5/9"));

    // Moving the time: Mondays 7.00.
    bot.send(&pekka, "/coaching").await;
    bot.press(&pekka, "Vaihda päivä ja aika").await;
    bot.press(&pekka, "ma").await;
    let replies = bot.press(&pekka, "7.00").await;
    assert!(
        joined(&replies).contains("ma 29.4.2024 klo 7.00"),
        "{}",
        joined(&replies)
    );
    let moved = steps(&bot.advance_to(utc(2024, 4, 30, 0, 0)).await, pekka.id);
    assert_eq!(times(&moved), [utc(2024, 4, 29, 4, 0)]);

    // Stopping ends the steps.
    bot.send(&pekka, "/coaching").await;
    assert!(joined(&bot.press(&pekka, "Lopeta").await).contains("Valmennus on lopetettu"));
    assert!(steps(&bot.advance_to(utc(2024, 5, 20, 0, 0)).await, pekka.id).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflections_are_private_paged_newest_first_in_mydata_and_erased_by_forget() {
    let bot = TestBot::start().await;
    let pekka = father_on_wednesdays(&bot, 8101, "Pekka").await;
    let olli = father_on_wednesdays(&bot, 8102, "Olli").await;

    // Before any question, a text is not a reflection.
    assert!(joined(&bot.send(&pekka, "Hei").await).contains("En ymmärtänyt"));
    bot.advance_to(utc(2024, 3, 13, 17, 30)).await;
    let replies = bot.send(&pekka, "Olen kärsivällinen ja leikkisä.").await;
    assert!(
        joined(&replies).contains("pohdintasi on tallessa"),
        "{}",
        joined(&replies)
    );
    // One answer per question: the next text is ordinary chat again.
    assert!(joined(&bot.send(&pekka, "Vielä yksi juttu").await).contains("En ymmärtänyt"));
    bot.send(&olli, "Minun vahvuuteni on rauhallisuus.").await;

    // Five more weeks of answers, so the journal has two pages.
    for week in 1..=5u32 {
        bot.advance_to(utc(2024, 3, 13, 17, 30) + chrono::Duration::weeks(i64::from(week)))
            .await;
        bot.send(&pekka, &format!("Pohdinta viikolla {week}")).await;
    }
    let page = bot.send(&pekka, "/journal").await;
    let text = joined(&page);
    assert!(text.contains("sivu 1/2"), "{text}");
    assert!(
        text.find("Pohdinta viikolla 5").unwrap() < text.find("Pohdinta viikolla 4").unwrap(),
        "newest first"
    );
    assert!(
        !text.contains("Olen kärsivällinen"),
        "the oldest is on page 2"
    );
    assert!(
        !text.contains("rauhallisuus"),
        "never another father's reflections"
    );
    assert_eq!(labels(&page), ["Vanhemmat ▶"]);
    let page2 = bot.press(&pekka, "Vanhemmat ▶").await;
    assert!(page2.is_empty(), "paging edits the message in place");
    let shown = bot
        .fake
        .sent_to(pekka.id)
        .into_iter()
        .rev()
        .find(|m| m.text.as_deref().is_some_and(|t| t.contains("sivu")))
        .unwrap();
    let shown_text = shown.text.clone().unwrap();
    assert!(
        shown_text.contains("sivu 2/2") && shown_text.contains("Olen kärsivällinen ja leikkisä."),
        "{shown_text}"
    );
    assert_eq!(labels(&[shown]), ["◀ Uudemmat"]);

    let olli_journal = joined(&bot.send(&olli, "/journal").await);
    assert!(
        olli_journal.contains("rauhallisuus")
            && !olli_journal.contains("Pekka")
            && !olli_journal.contains("viikolla"),
        "{olli_journal}"
    );

    let mydata = joined(&bot.send(&pekka, "/mydata").await);
    assert!(
        mydata.contains("Valmennus: ke 19.00, käynnissä"),
        "{mydata}"
    );
    assert!(
        mydata.contains("Olen kärsivällinen ja leikkisä."),
        "{mydata}"
    );

    bot.send(&pekka, "/forget").await;
    bot.press(&pekka, "Kyllä, poista kaikki").await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM coaching_reflections WHERE telegram_user_id = ?",
            pekka.id
        )
        .await,
        0
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM coaching WHERE telegram_user_id = ?",
            pekka.id
        )
        .await,
        0
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM coaching_reflections WHERE telegram_user_id = ?",
            olli.id
        )
        .await,
        1
    );
    // No more steps for the erased father.
    let later = bot.advance_to(utc(2024, 5, 1, 0, 0)).await;
    assert!(later.iter().all(|a| a.message.chat_id != pekka.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reflection_does_not_take_over_registration_and_stale_buttons_are_harmless() {
    let bot = TestBot::start().await;
    let pekka = father_on_wednesdays(&bot, 8201, "Pekka").await;
    bot.advance_to(utc(2024, 3, 13, 17, 30)).await;
    // Editing his name in /profile while a question is open: the text goes to the profile, not the journal.
    bot.send(&pekka, "/profile").await;
    bot.press(&pekka, "✏️ Nimi").await;
    let replies = bot.send(&pekka, "Pekka-Petteri").await;
    assert!(
        joined(&replies).contains("Tieto päivitetty"),
        "{}",
        joined(&replies)
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM coaching_reflections WHERE telegram_user_id = ?",
            pekka.id
        )
        .await,
        0
    );
    // The question is still open afterwards.
    assert!(
        joined(&bot.send(&pekka, "Vahvuuteni on huumori.").await)
            .contains("pohdintasi on tallessa")
    );
    // A forged coaching button from someone unregistered changes nothing.
    let stranger = FakeUser::new(8202, "Vieras", Some("fi"));
    bot.send(&stranger, "/coaching").await;
    bot.press_data(&stranger, 1, "1|cg|t|3|1140").await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM coaching WHERE telegram_user_id = ?",
            stranger.id
        )
        .await,
        0
    );
}
