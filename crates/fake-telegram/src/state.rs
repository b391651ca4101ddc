//! The mutable state of the fake server (always behind a `std::sync::Mutex`, never held
//! across an `.await`).

use super::limits::FloodLimiter;
use super::types::{
    Failure, FakeGroup, FakeUser, RecordedRequest, SentKind, SentMessage, UploadedFile,
};
use super::updates;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};

/// Update kinds Telegram does not deliver unless `allowed_updates` asks for them.
const NOT_DELIVERED_BY_DEFAULT: &[&str] =
    &["chat_member", "message_reaction", "message_reaction_count"];

#[derive(Default)]
pub(crate) struct State {
    next_update_id: i64,
    /// Queued updates (with `update_id`), not yet confirmed by an `offset`.
    pub queue: VecDeque<Value>,
    /// Highest update id returned by `getUpdates`.
    pub delivered_up_to: i64,
    pub allowed_updates: Option<Vec<String>>,
    /// Incremented by every `getUpdates`; an older waiting call sees the change and fails
    /// with 409 like Telegram does.
    pub poll_generation: u64,
    pub webhook_url: String,
    pub requests: Vec<RecordedRequest>,
    /// False in benchmarks: the request log then stays empty, so the process's memory is the bot's.
    pub keep_request_log: bool,
    pub sent: Vec<SentMessage>,
    /// When set (benchmarks), only these chats' messages are kept in `sent` and `user_messages`; the others
    /// are answered and announced as events as usual but not stored, so the process's memory is the bot's.
    pub kept_chats: Option<HashSet<i64>>,
    /// Messages users sent, by (chat id, message id).
    pub user_messages: HashMap<(i64, i64), Value>,
    next_message_id: HashMap<i64, i64>,
    pub users: HashMap<i64, FakeUser>,
    pub groups: HashMap<i64, FakeGroup>,
    /// Scripted failures per lower-cased method name.
    pub fail_next: HashMap<String, VecDeque<Failure>>,
    pub chat_failures: HashMap<i64, Failure>,
    pub flood: FloodLimiter,
    /// Params of every `setMyCommands` call.
    pub commands_set: Vec<Value>,
    /// Current commands: (scope, language code, commands).
    pub commands: Vec<(Value, String, Value)>,
    pub chat_members: HashMap<(i64, i64), Value>,
    /// Callback query id -> its answer once answered: (text, show_alert).
    pub callbacks: HashMap<String, Option<(Option<String>, bool)>>,
    next_callback: u64,
    /// Pending join requests: (chat id, user id).
    pub join_requests: HashSet<(i64, i64)>,
    /// Uploaded files by the `file_id` the fake assigned.
    pub files: HashMap<String, UploadedFile>,
    next_file: u64,
    pub next_invite: u64,
    /// Users who never started the bot: it may not write to them (403), except for 5 minutes after their
    /// join request (unix time of the request, by user).
    pub not_started: HashSet<i64>,
    pub join_requested_at: HashMap<i64, i64>,
}

impl State {
    /// Whether messages of `chat_id` are stored (see `kept_chats`).
    pub fn keeps(&self, chat_id: i64) -> bool {
        self.kept_chats
            .as_ref()
            .is_none_or(|kept| kept.contains(&chat_id))
    }

    pub fn new() -> Self {
        State {
            keep_request_log: true,
            ..State::default()
        }
    }

    /// Queues an update, returning its id.
    pub fn push_update(&mut self, kind: Value) -> i64 {
        self.next_update_id += 1;
        let id = self.next_update_id;
        let mut update = json!({"update_id": id});
        if let (Some(update), Value::Object(kind)) = (update.as_object_mut(), kind) {
            update.extend(kind);
        }
        self.queue.push_back(update);
        id
    }

    /// Drops confirmed updates: ids below a positive offset, or all but the last `-offset`.
    pub fn confirm(&mut self, offset: i64) {
        if offset > 0 {
            self.queue
                .retain(|u| u.get("update_id").and_then(Value::as_i64).unwrap_or(0) >= offset);
        } else if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.queue.len() > keep {
                self.queue.pop_front();
            }
        }
    }

    fn is_allowed(&self, update: &Value) -> bool {
        let kind = updates::update_kind(update).unwrap_or_default();
        match &self.allowed_updates {
            Some(allowed) if !allowed.is_empty() => allowed.iter().any(|a| a == kind),
            _ => !NOT_DELIVERED_BY_DEFAULT.contains(&kind),
        }
    }

    /// Up to `limit` deliverable updates (they stay queued until confirmed); updates of
    /// kinds the bot did not ask for are dropped, as Telegram does.
    pub fn take_updates(&mut self, limit: usize) -> Vec<Value> {
        let queue = std::mem::take(&mut self.queue);
        self.queue = queue.into_iter().filter(|u| self.is_allowed(u)).collect();
        let batch: Vec<Value> = self.queue.iter().take(limit).cloned().collect();
        if let Some(last) = batch
            .last()
            .and_then(|u| u.get("update_id"))
            .and_then(Value::as_i64)
        {
            self.delivered_up_to = self.delivered_up_to.max(last);
        }
        batch
    }

    /// Queued updates never returned by `getUpdates`.
    pub fn pending_updates(&self) -> usize {
        let delivered = self.delivered_up_to;
        self.queue
            .iter()
            .filter(|u| u.get("update_id").and_then(Value::as_i64).unwrap_or(0) > delivered)
            .count()
    }

    /// Next message id in a chat (shared by the users' and the bot's messages).
    pub fn alloc_message_id(&mut self, chat_id: i64) -> i64 {
        let next = self.next_message_id.entry(chat_id).or_insert(0);
        *next += 1;
        *next
    }

    pub fn alloc_callback_id(&mut self) -> String {
        self.next_callback += 1;
        let id = format!("{}{:06}", super::FAKE_BOT_ID, self.next_callback);
        self.callbacks.insert(id.clone(), None);
        id
    }

    pub fn store_file(&mut self, file: UploadedFile) -> String {
        self.next_file += 1;
        let id = format!("FAKE-FILE-{:05}", self.next_file);
        self.files.insert(id.clone(), file);
        id
    }

    /// Telegram's answer to the bot writing first to someone who never started it.
    pub fn cannot_initiate(&self, chat: i64) -> Option<Failure> {
        if !self.not_started.contains(&chat) {
            return None;
        }
        let window_open = self
            .join_requested_at
            .get(&chat)
            .is_some_and(|at| updates::now() - at <= 5 * 60);
        (!window_open).then(|| {
            Failure::api(
                403,
                "Forbidden: bot can't initiate conversation with a user",
            )
        })
    }

    /// The bot's own `ChatMember` in a chat (an administrator that may invite users unless set otherwise).
    pub fn bot_member(&self, chat: i64) -> Value {
        self.chat_members
            .get(&(chat, super::FAKE_BOT_ID))
            .cloned()
            .unwrap_or_else(updates::bot_admin_member)
    }

    /// The user with this id, or a placeholder.
    pub fn user(&self, id: i64) -> FakeUser {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| FakeUser::new(id, &format!("User {id}"), None))
    }

    /// The `Chat` object for a chat id (private for positive ids, supergroup otherwise).
    pub fn chat_json(&self, chat_id: i64) -> Value {
        if chat_id > 0 {
            updates::private_chat(&self.user(chat_id))
        } else {
            let group = self
                .groups
                .get(&chat_id)
                .cloned()
                .unwrap_or_else(|| FakeGroup::new(chat_id, &format!("Group {chat_id}")));
            updates::group_chat(&group)
        }
    }

    /// Index of a (not deleted) message the bot sent.
    pub fn sent_index(&self, chat_id: i64, message_id: i64) -> Option<usize> {
        self.sent
            .iter()
            .position(|m| m.chat_id == chat_id && m.message_id == message_id && !m.deleted)
    }

    /// The `Message` object Telegram would return for a bot's message.
    pub fn message_json(&self, m: &SentMessage) -> Value {
        let mut msg = json!({
            "message_id": m.message_id,
            "from": updates::bot_user(),
            "chat": self.chat_json(m.chat_id),
            "date": m.date,
        });
        let file_id = m.file_id.clone().unwrap_or_default();
        let file_unique_id = format!("U{file_id}");
        let size = m.document.as_ref().map(|d| d.bytes.len()).unwrap_or(0);
        let has_file = match m.kind {
            SentKind::Document => true,
            SentKind::Copy { .. } => m.file_id.is_some(),
            _ => false,
        };
        if matches!(m.kind, SentKind::Photo) {
            msg["photo"] = json!([
                {"file_id": file_id, "file_unique_id": file_unique_id, "width": 90, "height": 90, "file_size": size},
                {"file_id": file_id, "file_unique_id": file_unique_id, "width": 800, "height": 800, "file_size": size},
            ]);
        } else if has_file {
            let name = m
                .document
                .as_ref()
                .map(|d| d.file_name.clone())
                .unwrap_or_default();
            let mut document = json!({
                "file_id": file_id,
                "file_unique_id": file_unique_id,
                "mime_type": mime_type(&name),
                "file_size": size,
            });
            if !name.is_empty() {
                document["file_name"] = json!(name);
            }
            msg["document"] = document;
        }
        let text_key = if msg.get("photo").is_some() || msg.get("document").is_some() {
            "caption"
        } else {
            "text"
        };
        if let Some(text) = &m.text {
            msg[text_key] = json!(text);
        }
        if m.edited {
            msg["edit_date"] = json!(updates::now());
        }
        if let Some(markup) = m
            .reply_markup
            .as_ref()
            .filter(|rm| rm.get("inline_keyboard").is_some())
        {
            msg["reply_markup"] = markup.clone();
        }
        msg
    }
}

fn mime_type(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => "text/csv",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}
