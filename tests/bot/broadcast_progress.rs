//! A broadcast's status message is edited through the outbox: the scheduler decides the new state, the one
//! delivery worker sends the edit within the send budget, and the last state always arrives.
use crate::broadcasts::{
    COORDINATOR, add_fathers, compose, coordinator, latest_broadcast, status_message, text_message,
    wait_until_done,
};
use crate::harness::TestBot;
use fake_telegram::FakeEvent;
use milava_bot::db::outbox;
use milava_bot::domain::outbox::{OutboxKey, Status};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// What reached the coordinator's chat: (message id, edited?, text, when).
type Seen = Arc<Mutex<Vec<(i64, bool, String, Instant)>>>;

fn watch_coordinator(bot: &TestBot) -> (Seen, Arc<Mutex<Vec<String>>>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut events = bot.fake.subscribe();
    let seen: Seen = Arc::default();
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let (s, r) = (seen.clone(), refused.clone());
    std::thread::spawn(move || {
        loop {
            let event = events.blocking_recv();
            let now = Instant::now();
            match event {
                Ok(FakeEvent::MessageSent(m)) if m.chat_id == COORDINATOR => s
                    .lock()
                    .unwrap()
                    .push((m.message_id, false, m.text.unwrap_or_default(), now)),
                Ok(FakeEvent::MessageEdited(m)) if m.chat_id == COORDINATOR => s
                    .lock()
                    .unwrap()
                    .push((m.message_id, true, m.text.unwrap_or_default(), now)),
                Ok(FakeEvent::RequestFailed {
                    request,
                    description,
                    ..
                }) => r
                    .lock()
                    .unwrap()
                    .push(format!("{}: {description}", request.method)),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
    (seen, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_message_is_edited_through_the_outbox_and_ends_with_the_final_count() {
    // 5 messages a second, ten times faster: 40 copies take about 0.8 s, several progress ticks (100 ms).
    const SPEEDUP: f64 = 10.0;
    let settings = [("COORDINATOR_IDS", "900"), ("DELIVERY_MAX_PER_SECOND", "5")];
    let bot = TestBot::start_sped_up(&settings, SPEEDUP).await;
    add_fathers(&bot, 301..=340).await;
    compose(&bot, &["Isille"], text_message("Kevään aikataulu")).await;
    let (seen, refused) = watch_coordinator(&bot);
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;
    let summary = wait_until_done(&bot, id).await;
    assert_eq!(
        summary,
        format!("Tiedote #{id} on lähetetty: perille 40/40, estänyt botin 0, epäonnistui 0.")
    );

    // The last state arrives, through the outbox: the edit row was sent.
    let deadline = Instant::now() + Duration::from_secs(5);
    let edit = loop {
        let row = outbox::by_key(&bot.db, &OutboxKey::BroadcastStatusEdit(id))
            .await
            .unwrap()
            .expect("the status message's edits are an outbox row");
        if row.status == Status::Sent || Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(edit.status, Status::Sent, "{edit:?}");
    let status = status_message(&bot, id).expect("a status message");
    assert!(status.edited, "{status:?}");
    let text = status.text.clone().unwrap();
    assert!(
        text.starts_with(&format!(
            "Tiedote #{id}: lähetetty 40/40\nEstänyt botin: 0 · epäonnistui: 0 · jäljellä: 0\n"
        )),
        "{text}"
    );

    // Each edit changed something (Telegram refuses an edit that does not), and the worker paced the
    // edits and the summary like any messages to one chat: at most one per (scaled) second.
    assert!(
        refused
            .lock()
            .unwrap()
            .iter()
            .all(|r| !r.starts_with("editMessageText")),
        "{:?}",
        refused.lock().unwrap()
    );
    let worker: Vec<(bool, String, Instant)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(message, edited, text, _)| {
            (*edited && *message == status.message_id) || text.starts_with(&summary)
        })
        .map(|(_, edited, text, at)| (*edited, text.clone(), *at))
        .collect();
    let edits = worker.iter().filter(|(edited, _, _)| *edited).count();
    assert!(edits >= 1, "{worker:#?}");
    let interval = Duration::from_secs(1).div_f64(SPEEDUP);
    for pair in worker.windows(2) {
        let gap = pair[1].2 - pair[0].2;
        assert!(
            gap >= interval.mul_f64(0.9),
            "{gap:?} between {:?} and {:?} (at most one message per {interval:?} to a chat)",
            pair[0].1,
            pair[1].1
        );
    }
}
