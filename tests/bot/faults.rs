//! Fault tests: storage that refuses writes (an injected "disk full" error), bursts of server errors and a
//! storm of 429s from the Bot API. The bot answers politely in the user's language, keeps what it had stored,
//! loses no outbox message, and carries on by itself once the fault ends.
use crate::harness::{STEP_TIMEOUT, TestBot, joined};
use fake_telegram::{Failure, FakeUser};
use milava_bot::clock::Clock;
use milava_bot::domain::outbox::Status;
use milava_bot::fault_log::Fault;
use std::time::Duration;
use testkit::story::faults::{
    another_program_locks, assert_carries_on, assert_refused_politely, inject_storage_fault_where,
    pekka_at_his_name_and_sam,
};
use testkit::story::outbox::{text, wait_for_row, wait_for_status};
use tokio::time::Instant;

/// Makes every write to the registration state fail as a full disk would, until `end_storage_fault`.
async fn inject_storage_fault(bot: &TestBot) {
    inject_storage_fault_where(bot, "1").await;
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
    let (pekka, sam) = pekka_at_his_name_and_sam(&bot, 8101).await;
    let before = step_of(&bot, &pekka)
        .await
        .expect("Pekka's registration is stored");

    inject_storage_fault(&bot).await;
    assert_refused_politely(&bot, &pekka, &sam).await;
    assert_eq!(
        step_of(&bot, &pekka).await,
        Some(before),
        "what was stored stays"
    );
    assert_eq!(step_of(&bot, &sam).await, None);
    // More people write while it lasts: each is answered, the log gets one line, not one per message.
    for id in 8110..8130 {
        let dad = FakeUser::new(id, "Isä", Some("fi"));
        let replies = joined(&bot.send(&dad, "/start").await);
        assert!(
            replies.contains("Tallentaminen ei juuri nyt onnistunut"),
            "{replies}"
        );
    }
    let faults = bot.ctx().faults;
    assert_eq!(faults.lines_logged(Fault::Handling), 1, "logged once");

    end_storage_fault(&bot).await;
    assert_carries_on(&bot, &pekka, &sam).await;
    assert_eq!(
        faults.lines_logged(Fault::Handling),
        2,
        "and once more when it is over"
    );
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
    assert_eq!(
        bot.ctx().faults.lines_logged(Fault::Sending),
        2,
        "the trouble logged when it began and when it ended, not per try"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_slower_than_the_request_timeout_is_retried_and_holds_up_no_reply() {
    let bot = TestBot::start_with(&[("TELEGRAM_TIMEOUT_SECONDS", "1")]).await;
    // Long polls (5 s in tests) are not cut short by the 1 s request timeout while nothing happens.
    let polls = bot.fake.requests_to("getUpdates").len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let new_polls = bot.fake.requests_to("getUpdates").len() - polls;
    assert!(
        new_polls <= 1,
        "{new_polls} polls in 3 idle seconds: the request timeout cuts long polls short"
    );

    let key = "reminder:s1:594:1h";
    bot.fake
        .set_chat_failure(594, Some(Failure::Delay(Duration::from_secs(3))));
    bot.enqueue(&[text(key, 594, "Muistutus", &bot)]).await;
    bot.fake
        .wait_until("the slow request in flight", STEP_TIMEOUT, |f| {
            f.requests_to("sendMessage")
                .iter()
                .any(|r| r.chat_id() == Some(594))
        })
        .await;
    // Meanwhile a person who writes is answered.
    let matti = FakeUser::new(8104, "Matti", Some("fi"));
    assert!(!bot.send(&matti, "/help").await.is_empty());

    let d = wait_for_row(&bot, key, "timed out once", |d| d.attempts == 1).await;
    assert_eq!(d.status, Status::Pending, "a timeout is not final: {d:?}");
    assert!(
        d.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("timed out"),
        "{d:?}"
    );
    // The API is fast again: the message goes at its next try.
    bot.fake.set_chat_failure(594, None);
    bot.clock.advance(d.due_at - bot.clock.now());
    let d = wait_for_status(&bot, key, Status::Sent).await;
    assert_eq!(d.attempts, 1);
    // The request that timed out may still have reached Telegram: at most that one extra copy.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let copies = bot.fake.sent_to(594).len();
    assert!((1..=2).contains(&copies), "{copies} copies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_by_another_program_delays_answers_then_gets_a_polite_one_and_recovers() {
    let bot = TestBot::start().await;
    let pekka = FakeUser::new(8105, "Pekka", Some("fi"));
    bot.send(&pekka, "/start").await;
    let mut other = another_program_locks(&bot).await;
    // A short lock: the answer waits for it and then goes through.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(800)).await;
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
        other
    });
    let pressed = Instant::now();
    bot.press(&pekka, "Isä").await;
    assert!(
        pressed.elapsed() >= Duration::from_millis(700),
        "the answer waited for the lock"
    );
    let mut other = release.await.unwrap();
    let (step, _) = step_of(&bot, &pekka).await.expect("stored");
    assert_eq!(step, "father_name", "saved once the lock was gone");

    // A lock held longer than the 5 s the bot waits: a polite answer, nothing lost.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let replies = joined(&bot.send(&pekka, "Pekka").await);
    assert!(
        replies.contains("Tallentaminen ei juuri nyt onnistunut"),
        "{replies}"
    );
    assert_eq!(step_of(&bot, &pekka).await.unwrap().0, "father_name");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let replies = joined(&bot.send(&pekka, "Pekka").await);
    assert!(replies.contains("Millä alueella"), "carries on: {replies}");
}

/// Switches every connection of the running bot's pool to refusing writes as a read-only database does
/// (`PRAGMA query_only`: SQLITE_READONLY, "attempt to write a readonly database"), or back. A file system
/// cannot be made read-only under an open database file here (Linux refuses the remount while a file is open
/// for writing), so this is the same error raised by SQLite itself.
async fn set_read_only(bot: &TestBot, read_only: bool) {
    let pool = bot.ctx().pool;
    let mut every_connection = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        let mut connection = pool.acquire().await.unwrap();
        sqlx::query(&format!("PRAGMA query_only = {}", i32::from(read_only)))
            .execute(&mut *connection)
            .await
            .unwrap();
        every_connection.push(connection);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_turning_read_only_while_running_gets_polite_answers_and_recovers_by_itself() {
    let bot = TestBot::start().await;
    let (pekka, sam) = pekka_at_his_name_and_sam(&bot, 8140).await;
    let before = step_of(&bot, &pekka).await.expect("stored");

    set_read_only(&bot, true).await;
    assert_refused_politely(&bot, &pekka, &sam).await;
    assert_eq!(
        step_of(&bot, &pekka).await,
        Some(before),
        "what was stored stays"
    );
    assert_eq!(step_of(&bot, &sam).await, None);
    let faults = bot.ctx().faults;
    assert_eq!(faults.lines_logged(Fault::Handling), 1, "logged once");

    set_read_only(&bot, false).await;
    assert_carries_on(&bot, &pekka, &sam).await;
    assert_eq!(
        faults.lines_logged(Fault::Handling),
        2,
        "and once when it is over"
    );
}
