//! Nobody can stall the bot: one person's flood is cut to their budget before it is queued (they are asked
//! once a minute of the bot's clock to slow down), everyone else is answered at once, button presses count,
//! and join-request spam cannot fill the outbox.
use crate::harness::{STEP_TIMEOUT, TestBot, joined};
use fake_telegram::{Failure, FakeUser};
use milava_bot::fault_log::Fault;
use std::time::{Duration, Instant};
use testkit::story::groups::{link_oulu, oulu_group};

const SLOW_DOWN_EN: &str = "You are sending messages faster than I can answer them";

async fn start() -> TestBot {
    TestBot::start_with(&[
        ("FLOOD_BURST", "10"),
        ("FLOOD_PER_SECOND", "2"),
        ("COORDINATOR_IDS", "900"),
    ])
    .await
}

fn slow_downs(bot: &TestBot, user: &FakeUser) -> usize {
    bot.texts_to(user)
        .iter()
        .filter(|t| t.starts_with(SLOW_DOWN_EN))
        .count()
}

/// Waits until `user` has been sent `count` slow-down notices (they are sent beside the handling).
async fn wait_for_slow_downs(bot: &TestBot, user: &FakeUser, count: usize) {
    bot.fake
        .wait_until("the slow-down notice", STEP_TIMEOUT, |_| {
            slow_downs(bot, user) >= count
        })
        .await;
    // And no second one follows.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(slow_downs(bot, user), count, "{:#?}", bot.texts_to(user));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_cut_to_the_budget_and_others_are_answered_at_once() {
    let bot = start().await;
    let ctx = bot.ctx();
    // Different lanes (chat id mod 64), as in the issue: the flood must not stall another lane.
    let flooder = FakeUser::new(4001, "Flood", Some("en"));
    let other = FakeUser::new(4002, "Other", Some("fi"));
    // Each answer to the flooder takes Telegram 100 ms, so their queued updates take long to work through.
    bot.fake
        .set_chat_failure(flooder.id, Some(Failure::Delay(Duration::from_millis(100))));

    let handled = ctx.metrics.handled();
    for i in 0..200 {
        bot.fake.send_private_text(&flooder, &format!("spam {i}"));
    }
    let asked = Instant::now();
    bot.fake.send_private_text(&other, "/help");
    let help = bot
        .fake
        .wait_for_messages_to(other.id, 1, STEP_TIMEOUT)
        .await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(2),
        "/help waited {waited:?} behind the flood"
    );

    // All 200 are done with: 10 handled (the burst; the clock stands still, so nothing refills), 190 dropped.
    assert!(
        ctx.metrics.wait_handled(handled + 201, STEP_TIMEOUT).await,
        "the flood was not worked through in time"
    );
    assert_eq!(ctx.metrics.dropped(), 190);
    wait_for_slow_downs(&bot, &flooder, 1).await;
    assert_eq!(
        ctx.faults.lines_logged(Fault::OverBudget),
        1,
        "logged once, not per message"
    );

    // Button presses count too: the budget is spent, so every press is dropped, and within the same minute
    // no second notice.
    bot.fake.set_chat_failure(flooder.id, None);
    let handled = ctx.metrics.handled();
    for _ in 0..20 {
        bot.fake.press_button(&flooder, 1, "1|x");
    }
    assert!(ctx.metrics.wait_handled(handled + 20, STEP_TIMEOUT).await);
    assert_eq!(ctx.metrics.dropped(), 210);
    assert!(
        bot.fake.requests_to("answerCallbackQuery").is_empty(),
        "no press was handled"
    );
    wait_for_slow_downs(&bot, &flooder, 1).await;

    // A minute later on the bot's clock the budget is full again (10), and the next flood gets the next
    // notice.
    bot.clock.advance(chrono::TimeDelta::seconds(61));
    let handled = ctx.metrics.handled();
    for _ in 0..20 {
        bot.fake.press_button(&flooder, 1, "1|x");
    }
    assert!(ctx.metrics.wait_handled(handled + 20, STEP_TIMEOUT).await);
    assert_eq!(ctx.metrics.dropped(), 220);
    wait_for_slow_downs(&bot, &flooder, 2).await;
    assert_eq!(bot.fake.requests_to("answerCallbackQuery").len(), 10);

    // The other person was never limited.
    let again = bot.send(&other, "/help").await;
    assert!(
        joined(&again).starts_with(&joined(&help)),
        "{}",
        joined(&again)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notice_is_in_the_persons_language() {
    let bot = start().await;
    let ctx = bot.ctx();
    let finn = FakeUser::new(4101, "Matti", Some("fi"));
    let handled = ctx.metrics.handled();
    for _ in 0..12 {
        bot.fake.send_private_text(&finn, "hei");
    }
    assert!(ctx.metrics.wait_handled(handled + 12, STEP_TIMEOUT).await);
    bot.fake
        .wait_until("the Finnish notice", STEP_TIMEOUT, |_| {
            bot.texts_to(&finn)
                .iter()
                .any(|t| t.starts_with("Lähetät viestejä nopeammin"))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_request_spam_cannot_fill_the_outbox() {
    let bot = start().await;
    let ctx = bot.ctx();
    let group = oulu_group();
    let link = link_oulu(&bot).await;
    let rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM deliveries")
            .fetch_one(&bot.db)
            .await
            .unwrap()
    };
    let before = rows().await;
    // 100 accounts nobody knows ask to join at once: each would get a "register first" answer.
    let handled = ctx.metrics.handled();
    for i in 0..100 {
        let spammer = FakeUser::new(6_000_000 + i, "Spam", Some("en"));
        bot.fake.request_to_join(&group, &spammer, Some(&link));
    }
    assert!(ctx.metrics.wait_handled(handled + 100, STEP_TIMEOUT).await);
    assert_eq!(ctx.metrics.dropped(), 70, "the group's join budget is 30");
    assert_eq!(rows().await - before, 30);
    assert_eq!(bot.fake.requests_to("declineChatJoinRequest").len(), 30);

    // One account asking again and again counts against its own budget too.
    let handled = ctx.metrics.handled();
    bot.clock.advance(chrono::TimeDelta::seconds(120));
    let spammer = FakeUser::new(6_100_000, "Spam", Some("en"));
    for _ in 0..25 {
        bot.fake.request_to_join(&group, &spammer, Some(&link));
    }
    assert!(ctx.metrics.wait_handled(handled + 25, STEP_TIMEOUT).await);
    assert_eq!(ctx.metrics.dropped(), 70 + 15);
    // Nothing was said to the spammers about their budget (they may never have started the bot).
    assert!(
        !bot.texts_to(&spammer)
            .iter()
            .any(|t| t.starts_with(SLOW_DOWN_EN))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_lane_refuses_politely_instead_of_stalling_everyone() {
    // The budget off: only the lanes' bound stands between a flood and the intake.
    let bot = TestBot::start_with(&[("FLOOD_BURST", "0")]).await;
    let ctx = bot.ctx();
    let flooder = FakeUser::new(4001, "Flood", Some("en"));
    let other = FakeUser::new(4002, "Other", Some("fi"));
    bot.fake
        .set_chat_failure(flooder.id, Some(Failure::Delay(Duration::from_millis(100))));
    let handled = ctx.metrics.handled();
    for i in 0..200 {
        bot.fake.send_private_text(&flooder, &format!("spam {i}"));
    }
    let asked = Instant::now();
    bot.fake.send_private_text(&other, "/help");
    bot.fake
        .wait_for_messages_to(other.id, 1, STEP_TIMEOUT)
        .await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(2),
        "/help waited {waited:?} behind a full lane"
    );
    // The lane took what its queue holds (64, give or take those already handled); the rest was refused.
    let dropped = ctx.metrics.dropped();
    assert!((100..=136).contains(&dropped), "{dropped} dropped");
    bot.fake
        .wait_until("the busy notice", STEP_TIMEOUT, |_| {
            bot.texts_to(&flooder)
                .iter()
                .any(|t| t.starts_with("I am very busy right now"))
        })
        .await;
    bot.fake.set_chat_failure(flooder.id, None);
    assert!(ctx.metrics.wait_handled(handled + 201, STEP_TIMEOUT).await);
    let busy = bot
        .texts_to(&flooder)
        .iter()
        .filter(|t| t.starts_with("I am very busy right now"))
        .count();
    assert_eq!(busy, 1, "one busy notice a minute");
    assert_eq!(ctx.faults.lines_logged(Fault::Overloaded), 1);
    // Handled updates give their places back: the lane takes the flooder's next message again.
    let dropped = ctx.metrics.dropped();
    let answer = bot.send(&flooder, "hello").await;
    assert!(!answer.is_empty());
    assert_eq!(ctx.metrics.dropped(), dropped);
}
