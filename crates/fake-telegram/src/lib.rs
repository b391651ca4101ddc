//! An in-process fake of the Telegram Bot API, served over real HTTP on 127.0.0.1, for
//! integration tests and the terminal simulator. Point the real bot at it with
//! `Bot::new(FAKE_BOT_TOKEN).set_api_url(fake.api_url())`.
//!
//! Users act through [`FakeTelegram::send_private_text`], [`FakeTelegram::press_button`], ...
//! which queue updates for `getUpdates`; everything the bot does is recorded
//! ([`FakeTelegram::requests`], [`FakeTelegram::sent_messages`]) and can be awaited
//! ([`FakeTelegram::wait_until`]). Faults are scripted with [`FakeTelegram::fail_next`],
//! [`FakeTelegram::set_chat_failure`] and [`FakeTelegram::set_flood_limits`].

mod chat_admin;
mod limits;
mod methods;
mod params;
mod server;
mod state;
mod types;
mod updates;
mod users;
mod validate;

#[cfg(test)]
mod tests;

pub use types::{
    Failure, FakeEvent, FakeGroup, FakeUser, RecordedRequest, SentKind, SentMessage, UploadedFile,
};

use serde_json::Value;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};

pub const FAKE_BOT_TOKEN: &str = "123456789:FAKE-token-for-tests";
pub const FAKE_BOT_ID: i64 = 123456789;
pub const FAKE_BOT_USERNAME: &str = "milava_test_bot";

/// Shared between the handle(s) and the HTTP handlers.
pub(crate) struct Inner {
    state: Mutex<State>,
    /// Bumped after every request (recorded and answered) and every pushed update.
    changed: watch::Sender<u64>,
    /// Bumped when updates are queued (wakes long-polling `getUpdates`).
    updates: watch::Sender<u64>,
    events: broadcast::Sender<FakeEvent>,
    addr: SocketAddr,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn emit(&self, event: FakeEvent) {
        // No subscribers is fine.
        let _ = self.events.send(event);
    }
}

/// The fake server. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Inner>,
    _shutdown: Arc<oneshot::Sender<()>>,
}

impl FakeTelegram {
    /// Binds 127.0.0.1 on a random port and serves on the current tokio runtime.
    pub async fn start() -> std::io::Result<FakeTelegram> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            state: Mutex::new(State::new()),
            changed: watch::channel(0).0,
            updates: watch::channel(0).0,
            events: broadcast::channel(4096).0,
            addr,
        });
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        server::spawn(listener, inner.clone(), shutdown_rx);
        Ok(FakeTelegram {
            inner,
            _shutdown: Arc::new(shutdown_tx),
        })
    }

    /// `http://127.0.0.1:PORT/`, for `Bot::set_api_url`.
    pub fn api_url(&self) -> url::Url {
        let url = format!("http://{}/", self.inner.addr);
        url::Url::parse(&url).expect("a socket address always forms a valid URL")
    }

    // ---- what the bot did --------------------------------------------------------------

    /// Every API call received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().requests.clone()
    }

    /// The calls of one method (case-insensitive).
    pub fn requests_to(&self, method: &str) -> Vec<RecordedRequest> {
        let st = self.inner.lock();
        st.requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Every message the bot created, in order, as it is now (after edits / deletion).
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.inner.lock().sent.clone()
    }

    /// The messages the bot created in one chat.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        let st = self.inner.lock();
        st.sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// The newest message the bot created in one chat.
    pub fn last_sent_to(&self, chat_id: i64) -> Option<SentMessage> {
        let st = self.inner.lock();
        st.sent.iter().rev().find(|m| m.chat_id == chat_id).cloned()
    }

    /// The reply keyboard the user currently sees in a chat (from the newest message that
    /// set or removed one).
    pub fn reply_keyboard_in(&self, chat_id: i64) -> Option<Vec<Vec<String>>> {
        let st = self.inner.lock();
        st.sent
            .iter()
            .rev()
            .filter(|m| m.chat_id == chat_id)
            .find(|m| m.reply_keyboard().is_some() || m.removes_keyboard())
            .and_then(SentMessage::reply_keyboard)
    }

    /// The answer to a callback query: `Some((text, show_alert))` once answered.
    pub fn callback_answer(&self, callback_id: &str) -> Option<(Option<String>, bool)> {
        self.inner
            .lock()
            .callbacks
            .get(callback_id)
            .cloned()
            .flatten()
    }

    /// The params of every `setMyCommands` call.
    pub fn commands_set(&self) -> Vec<Value> {
        self.inner.lock().commands_set.clone()
    }

    /// Updates queued but not yet fetched by `getUpdates`.
    pub fn pending_updates(&self) -> usize {
        self.inner.lock().pending_updates()
    }

    /// Events as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<FakeEvent> {
        self.inner.events.subscribe()
    }

    /// Waits until `f` holds, re-checking after every request and update. Panics naming
    /// `what` (and showing the last messages) when `timeout` passes.
    pub async fn wait_until<F: Fn(&FakeTelegram) -> bool>(
        &self,
        what: &str,
        timeout: Duration,
        f: F,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changed = self.inner.changed.subscribe();
        loop {
            if f(self) {
                return;
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => break,
            }
        }
        if !f(self) {
            panic!("{}", self.timeout_report(what, timeout));
        }
    }

    fn timeout_report(&self, what: &str, timeout: Duration) -> String {
        let st = self.inner.lock();
        let mut report = format!("fake Telegram: timed out after {timeout:?} waiting for {what}\n");
        report.push_str("last messages sent by the bot:\n");
        let skip = st.sent.len().saturating_sub(8);
        for m in st.sent.iter().skip(skip) {
            report.push_str(&format!(
                "  #{} to {}: {:?}{}{}\n",
                m.message_id,
                m.chat_id,
                m.text.as_deref().unwrap_or(""),
                m.reply_markup
                    .as_ref()
                    .map(|rm| format!(" markup={rm}"))
                    .unwrap_or_default(),
                if m.edited { " (edited)" } else { "" },
            ));
        }
        if st.sent.is_empty() {
            report.push_str("  (none)\n");
        }
        let methods: Vec<&str> = st
            .requests
            .iter()
            .rev()
            .take(12)
            .map(|r| r.method.as_str())
            .collect();
        report.push_str(&format!("last requests (newest first): {methods:?}\n"));
        report.push_str(&format!(
            "updates not yet fetched: {}",
            st.pending_updates()
        ));
        report
    }

    /// Waits until the bot created at least `count` messages in `chat_id`; returns them all.
    pub async fn wait_for_messages_to(
        &self,
        chat_id: i64,
        count: usize,
        timeout: Duration,
    ) -> Vec<SentMessage> {
        let what = format!("{count} message(s) to chat {chat_id}");
        self.wait_until(&what, timeout, |f| f.sent_to(chat_id).len() >= count)
            .await;
        self.sent_to(chat_id)
    }

    // ---- scripted behaviour ------------------------------------------------------------

    /// The next call of `method` (case-insensitive) fails like this; queued FIFO per method.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        let mut st = self.inner.lock();
        st.fail_next
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(failure);
    }

    /// Every send / edit / copy to `chat_id` fails like this until cleared with `None`.
    pub fn set_chat_failure(&self, chat_id: i64, failure: Option<Failure>) {
        let mut st = self.inner.lock();
        match failure {
            Some(failure) => st.chat_failures.insert(chat_id, failure),
            None => st.chat_failures.remove(&chat_id),
        };
    }

    /// Emulates Telegram's flood limits (30/s overall, 1/s per private chat with a burst of
    /// 3, 20/min per group) with 429 answers when on.
    /// Stops (or resumes) logging every request for [`FakeTelegram::requests`]; benchmarks turn it off so that
    /// the memory they report is the bot's, not the fake's record of thousands of calls.
    pub fn set_request_log(&self, on: bool) {
        self.inner.lock().keep_request_log = on;
    }

    /// Stores only these chats' messages from now on (their own and the bot's); every other message is still
    /// answered and announced as an event but not kept, so that a benchmark's memory is the bot's, not the
    /// fake's record of thousands of messages. `sent_to` and edits then work only in these chats.
    pub fn keep_messages_only_for(&self, chats: impl IntoIterator<Item = i64>) {
        self.inner.lock().kept_chats = Some(chats.into_iter().collect());
    }

    pub fn set_flood_limits(&self, on: bool) {
        self.inner.lock().flood.set_enabled(on);
    }

    /// Like `set_flood_limits(true)`, with every window `factor` times shorter (10: 300 messages per second
    /// overall, 10 per second per private chat with a burst of 3, 20 per 6 s per group), so that a test of
    /// rate limiting finishes in seconds. Pair it with the bot's limits sped up by the same factor.
    pub fn set_flood_limits_scaled(&self, factor: f64) {
        self.inner.lock().flood.set_scaled(true, factor);
    }

    /// Like `set_flood_limits_scaled`, with `per_second` messages a (scaled) second overall instead of 30: a
    /// bot whose real limit is lower than Telegram's documented one.
    pub fn set_flood_limits_overall(&self, per_second: usize, factor: f64) {
        let mut st = self.inner.lock();
        st.flood.set_scaled(true, factor);
        st.flood.set_overall(per_second);
    }

    /// What `getChatMember(chat_id, user_id)` answers (a `ChatMember` object; `user` may be
    /// left out). By default the bot is an administrator and everyone else a member.
    pub fn set_chat_member(&self, chat_id: i64, user_id: i64, member: Value) {
        self.inner
            .lock()
            .chat_members
            .insert((chat_id, user_id), member);
    }
}
