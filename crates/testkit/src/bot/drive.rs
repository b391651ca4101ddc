//! What a test does with a running simulated bot: people send, edit and press buttons (each call waits until
//! the bot has handled the update), and the manual clock moves forward, stopping wherever something is due.
use super::{STEP_TIMEOUT, SimulatedBot};
use chrono::{DateTime, Utc};
use fake_telegram::{FakeTelegram, FakeUser, SentMessage};
use milava_bot::clock::Clock;
use milava_bot::db::outbox::{self, NewDelivery};
use serde_json::Value;
use std::time::Duration;

impl SimulatedBot {
    /// The registration step stored for `user`, if they are in a dialogue.
    pub async fn stored_step(&self, user: &FakeUser) -> Option<String> {
        sqlx::query_scalar("SELECT step FROM dialogues WHERE telegram_user_id = ?")
            .bind(user.id)
            .fetch_optional(&self.db)
            .await
            .unwrap()
    }

    /// Waits until the scheduler has made a pass after everything so far (it is rung, so it looks at the
    /// clock as it is now) and the outbox has nothing due left unsent.
    pub async fn settle(&self) {
        let ctx = self.ctx();
        ctx.scheduler.wake();
        assert!(
            ctx.scheduler.settled(STEP_TIMEOUT).await,
            "the scheduler did not finish a pass in time"
        );
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        let mut changed = self.fake.subscribe();
        loop {
            let due = milava_bot::db::stats::outbox_due_count(&self.db, self.clock.now())
                .await
                .expect("outbox readable");
            if due == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{due} due deliveries still unsent at {}",
                self.clock.now()
            );
            // A send shows up at the fake at once; the worker records its outcome a moment later.
            let _ = tokio::time::timeout(Duration::from_millis(20), changed.recv()).await;
        }
    }

    /// Moves the clock forward to `target`, stopping at every moment something is due in the outbox or the
    /// scheduler wants to run, and settling there. Returns each message the bot created meanwhile with the
    /// clock's time when it reached the fake.
    pub async fn advance_to(&self, target: DateTime<Utc>) -> Vec<Arrival> {
        self.advance_from(self.sent_count(), target).await
    }

    /// How many messages the bot has created so far (to pass to `advance_from`).
    pub fn sent_count(&self) -> usize {
        self.fake.sent_messages().len()
    }

    /// Like `advance_to`, also returning the messages created since the `sent_count()` taken earlier (say,
    /// before a restart whose first pass sends at once), stamped with the clock's time now.
    pub async fn advance_from(&self, since: usize, target: DateTime<Utc>) -> Vec<Arrival> {
        let mut arrivals = Vec::new();
        let mut seen = since;
        self.settle().await;
        loop {
            let now = self.clock.now();
            self.collect_arrivals(&mut seen, now, &mut arrivals);
            let outbox = milava_bot::db::stats::outbox_next_due(&self.db)
                .await
                .expect("outbox readable");
            let next = [outbox, self.running().metrics.scheduler_next_run()]
                .into_iter()
                .flatten()
                .filter(|t| *t > now && *t <= target)
                .min();
            self.clock.set(next.unwrap_or(target));
            self.settle().await;
            if next.is_none() {
                let now = self.clock.now();
                self.collect_arrivals(&mut seen, now, &mut arrivals);
                return arrivals;
            }
        }
    }

    fn collect_arrivals(&self, seen: &mut usize, at: DateTime<Utc>, into: &mut Vec<Arrival>) {
        let sent = self.fake.sent_messages();
        into.extend(sent[*seen..].iter().map(|message| Arrival {
            at,
            message: message.clone(),
        }));
        *seen = sent.len();
    }

    /// Puts messages in the outbox (one transaction, as a producer would) and wakes the delivery worker;
    /// returns how many were new.
    pub async fn enqueue(&self, deliveries: &[NewDelivery]) -> usize {
        let mut tx = milava_bot::db::begin_write(self.store())
            .await
            .expect("begin");
        let mut added = 0;
        for d in deliveries {
            if outbox::enqueue(&mut tx, d).await.expect("enqueue") {
                added += 1;
            }
        }
        tx.commit().await.expect("commit");
        self.outbox().wake();
        added
    }

    /// Pushes an update and waits until the bot has handled it; returns what it sent to `chat` meanwhile.
    pub async fn exchange(&self, chat: i64, push: impl FnOnce(&FakeTelegram)) -> Vec<SentMessage> {
        let before = self.fake.sent_to(chat).len();
        let target = self.running().metrics.handled() + 1;
        push(&self.fake);
        assert!(
            self.running()
                .metrics
                .wait_handled(target, STEP_TIMEOUT)
                .await,
            "the bot did not handle the update in time"
        );
        self.fake.sent_to(chat).into_iter().skip(before).collect()
    }

    /// Every user sends their text at the same moment (one poll of updates); waits until all are handled and
    /// returns what each was sent meanwhile, in the order given.
    pub async fn send_all_at_once(&self, messages: &[(&FakeUser, &str)]) -> Vec<Vec<SentMessage>> {
        let before: Vec<usize> = messages
            .iter()
            .map(|(user, _)| self.fake.sent_to(user.id).len())
            .collect();
        let target = self.running().metrics.handled() + messages.len() as u64;
        for (user, text) in messages {
            self.fake.send_private_text(user, text);
        }
        assert!(
            self.running()
                .metrics
                .wait_handled(target, STEP_TIMEOUT)
                .await,
            "the bot did not handle the updates in time"
        );
        messages
            .iter()
            .zip(before)
            .map(|((user, _), before)| {
                self.fake
                    .sent_to(user.id)
                    .into_iter()
                    .skip(before)
                    .collect()
            })
            .collect()
    }

    pub async fn send(&self, user: &FakeUser, text: &str) -> Vec<SentMessage> {
        self.exchange(user.id, |f| {
            f.send_private_text(user, text);
        })
        .await
    }

    /// Like `send`, also returning the id of the user's message (to edit it later).
    pub async fn send_with_id(&self, user: &FakeUser, text: &str) -> (i64, Vec<SentMessage>) {
        let mut id = 0;
        let replies = self
            .exchange(user.id, |f| {
                id = f.send_private_text(user, text);
            })
            .await;
        (id, replies)
    }

    pub async fn send_message(&self, user: &FakeUser, fields: Value) -> Vec<SentMessage> {
        self.exchange(user.id, |f| {
            f.send_private_message(user, fields);
        })
        .await
    }

    pub async fn edit(&self, user: &FakeUser, message_id: i64, text: &str) -> Vec<SentMessage> {
        self.exchange(user.id, |f| f.edit_private_text(user, message_id, text))
            .await
    }

    /// Presses the button labelled `label` on the newest message in the user's chat that has one.
    pub async fn press(&self, user: &FakeUser, label: &str) -> Vec<SentMessage> {
        let (message_id, data) = self
            .fake
            .sent_to(user.id)
            .iter()
            .rev()
            .find_map(|m| m.button_data(label).map(|d| (m.message_id, d)))
            .unwrap_or_else(|| {
                panic!(
                    "no button '{label}' in chat {}: {:#?}",
                    user.id,
                    self.texts_to(user)
                )
            });
        self.press_data(user, message_id, &data).await
    }

    pub async fn press_data(
        &self,
        user: &FakeUser,
        message_id: i64,
        data: &str,
    ) -> Vec<SentMessage> {
        self.exchange(user.id, |f| {
            f.press_button(user, message_id, data);
        })
        .await
    }

    pub fn texts_to(&self, user: &FakeUser) -> Vec<String> {
        self.fake
            .sent_to(user.id)
            .iter()
            .map(|m| m.text.clone().unwrap_or_default())
            .collect()
    }

    pub async fn count(&self, sql: &str, id: i64) -> i64 {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&self.db)
            .await
            .expect("count query")
    }
}

/// A message the bot created, and the (manual) clock's time when it reached the fake.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub at: DateTime<Utc>,
    pub message: SentMessage,
}

/// All texts of a batch of replies, joined, for `contains` checks.
pub fn joined(messages: &[SentMessage]) -> String {
    messages
        .iter()
        .filter_map(|m| m.text.clone())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Labels of all buttons in a batch of replies.
pub fn labels(messages: &[SentMessage]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|m| m.inline_buttons())
        .flatten()
        .map(|(label, _)| label)
        .collect()
}
