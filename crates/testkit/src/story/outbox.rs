//! The outbox in a story: a message put in it, and waiting for a row to reach a state.
use crate::bot::{STEP_TIMEOUT, SimulatedBot, test_key};
use milava_bot::db::outbox::{self, Delivery, NewDelivery};
use milava_bot::domain::outbox::{Payload, Status};
use std::time::Duration;
use tokio::time::Instant;

pub fn text(key: &str, chat: i64, body: &str, bot: &SimulatedBot) -> NewDelivery {
    use milava_bot::clock::Clock;
    NewDelivery::new(test_key(key), chat, Payload::text(body), bot.clock.now()).for_user(chat)
}

pub async fn row(bot: &SimulatedBot, key: &str) -> Delivery {
    outbox::by_key(&bot.db, &test_key(key))
        .await
        .expect("outbox readable")
        .unwrap_or_else(|| panic!("no delivery '{key}'"))
}

/// Waits (re-reading the row every 10 ms) until the delivery satisfies `f`.
pub async fn wait_for_row(
    bot: &SimulatedBot,
    key: &str,
    what: &str,
    f: impl Fn(&Delivery) -> bool,
) -> Delivery {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let d = row(bot, key).await;
        if f(&d) {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for '{key}' to be {what}: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn wait_for_status(bot: &SimulatedBot, key: &str, status: Status) -> Delivery {
    wait_for_row(bot, key, status.as_str(), |d| d.status == status).await
}
