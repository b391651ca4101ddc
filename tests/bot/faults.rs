//! Fault tests: storage that refuses writes (an injected "disk full" error), bursts of server errors and a
//! storm of 429s from the Bot API. The bot answers politely in the user's language, keeps what it had stored,
//! loses no outbox message, and carries on by itself once the fault ends.
use crate::delivery::{text, wait_for_row, wait_for_status};
use crate::harness::{TestBot, joined};
use milava_bot::clock::Clock;
use milava_bot::domain::outbox::Status;
use milava_bot::fake_telegram::{Failure, FakeUser};
use std::time::Duration;
use tokio::time::Instant;

/// Makes every write to the registration state fail as a full disk would, until `end_storage_fault`.
async fn inject_storage_fault(bot: &TestBot) {
    for event in ["INSERT", "UPDATE"] {
        sqlx::query(&format!(
            "CREATE TRIGGER injected_full_{event} BEFORE {event} ON dialogues
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
        ))
        .execute(&bot.db)
        .await
        .unwrap();
    }
}

async fn end_storage_fault(bot: &TestBot) {
    for event in ["INSERT", "UPDATE"] {
        sqlx::query(&format!("DROP TRIGGER injected_full_{event}"))
            .execute(&bot.db)
            .await
            .unwrap();
    }
}

async fn step_of(bot: &TestBot, user: &FakeUser) -> Option<(String, String)> {
    sqlx::query_as("SELECT step, answers FROM dialogues WHERE telegram_user_id = ?")
        .bind(user.id)
        .fetch_optional(&bot.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_storage_refuses_writes_users_are_told_politely_nothing_stored_is_lost_and_it_recovers()
 {
    let bot = TestBot::start().await;
    let pekka = FakeUser::new(8101, "Pekka", Some("fi"));
    let sam = FakeUser::new(8102, "Sam", Some("en"));
    bot.send(&pekka, "/start").await;
    bot.press(&pekka, "Isä").await;
    let before = step_of(&bot, &pekka)
        .await
        .expect("Pekka's registration is stored");

    inject_storage_fault(&bot).await;
    let replies = joined(&bot.send(&pekka, "Pekka").await);
    assert!(
        replies.contains("Tallentaminen ei juuri nyt onnistunut. Aiemmat tietosi ovat tallessa"),
        "{replies}"
    );
    assert!(
        !replies.contains("Millä alueella"),
        "no step forward: {replies}"
    );
    let replies = joined(&bot.send(&sam, "/start").await);
    assert!(
        replies.contains("I could not save that just now"),
        "in the user's language: {replies}"
    );
    assert_eq!(
        step_of(&bot, &pekka).await,
        Some(before),
        "what was stored stays"
    );
    assert_eq!(step_of(&bot, &sam).await, None);

    end_storage_fault(&bot).await;
    let replies = joined(&bot.send(&pekka, "Pekka").await);
    assert!(replies.contains("Millä alueella"), "carries on: {replies}");
    let replies = joined(&bot.send(&sam, "/start").await);
    assert!(replies.contains("Who are you?"), "{replies}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_server_errors_delays_a_message_but_does_not_lose_it() {
    let bot = TestBot::start().await;
    // Two, not more: teloxide itself waits 10 s (real time) before it returns a 5xx answer.
    for (code, description) in [(502, "Bad Gateway"), (503, "Service Unavailable")] {
        bot.fake
            .fail_next("sendMessage", Failure::api(code, description));
    }
    bot.enqueue(&[text("reminder:s1:591:1h", 591, "Muistutus", &bot)])
        .await;
    // Each failed try is put back with a growing wait on the injected clock; move it on until delivered.
    let mut waits = Vec::new();
    for attempts in 1..=2 {
        let d = wait_for_row(&bot, "reminder:s1:591:1h", "retried", |d| {
            d.attempts == attempts
        })
        .await;
        assert_eq!(d.status, Status::Pending, "a server error is not final");
        let wait = d.due_at - bot.clock.now();
        waits.push(wait.num_seconds());
        assert!(bot.fake.sent_to(591).is_empty());
        bot.clock.advance(wait);
    }
    assert_eq!(waits, [5, 10], "the waits grow");
    let d = wait_for_status(&bot, "reminder:s1:591:1h", Status::Sent).await;
    assert_eq!(d.attempts, 2);
    assert_eq!(bot.fake.sent_to(591).len(), 1, "delivered exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_429s_is_waited_out_and_every_message_arrives_once_while_replies_keep_coming() {
    let bot = TestBot::start().await;
    for _ in 0..3 {
        bot.fake
            .fail_next("sendMessage", Failure::too_many_requests(1));
    }
    let started = Instant::now();
    bot.enqueue(&[
        text("broadcast:7:592", 592, "Tiedote", &bot),
        text("broadcast:7:593", 593, "Tiedote", &bot),
    ])
    .await;
    for key in ["broadcast:7:592", "broadcast:7:593"] {
        let d = wait_for_status(&bot, key, Status::Sent).await;
        assert_eq!(d.attempts, 0, "flood waits are not failed tries");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(2900),
        "three 429s asking for 1 s each are obeyed ({:?})",
        started.elapsed()
    );
    assert_eq!(bot.fake.sent_to(592).len(), 1);
    assert_eq!(bot.fake.sent_to(593).len(), 1);
    // The storm is over: a person who writes gets an answer at once.
    let matti = FakeUser::new(8103, "Matti", Some("fi"));
    assert!(!bot.send(&matti, "/help").await.is_empty());
}
