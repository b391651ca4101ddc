//! Public data types of the fake Telegram server: users, groups, scripted failures and the
//! records of what the bot did.

use serde_json::{Value, json};
use std::time::Duration;

/// A Telegram user that talks to the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeUser {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl FakeUser {
    pub fn new(id: i64, first_name: &str, language_code: Option<&str>) -> Self {
        FakeUser {
            id,
            first_name: first_name.to_owned(),
            username: None,
            language_code: language_code.map(str::to_owned),
        }
    }

    /// The same user with a `@username`.
    pub fn with_username(mut self, username: &str) -> Self {
        self.username = Some(username.trim_start_matches('@').to_owned());
        self
    }

    /// The `User` object Telegram would send for this user.
    pub fn to_json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        if let Some(lang) = &self.language_code {
            user["language_code"] = json!(lang);
        }
        user
    }
}

/// A supergroup the bot is a member of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeGroup {
    /// Negative, e.g. `-100123`.
    pub id: i64,
    pub title: String,
}

impl FakeGroup {
    pub fn new(id: i64, title: &str) -> Self {
        FakeGroup {
            id,
            title: title.to_owned(),
        }
    }
}

/// A scripted fault, see [`super::FakeTelegram::fail_next`] and
/// [`super::FakeTelegram::set_chat_failure`].
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Answer `{"ok":false,...}` with this HTTP status / `error_code`.
    Api {
        code: u16,
        description: String,
        retry_after: Option<u32>,
        migrate_to_chat_id: Option<i64>,
    },
    /// Close the connection without sending any response.
    DropConnection,
    /// Answer correctly, but only after this delay.
    Delay(Duration),
}

impl Failure {
    /// Any API error with the given code and description.
    pub fn api(code: u16, description: &str) -> Self {
        Failure::Api {
            code,
            description: description.to_owned(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    pub fn too_many_requests(retry_after: u32) -> Self {
        Failure::Api {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
            migrate_to_chat_id: None,
        }
    }

    /// 403 `Forbidden: bot was blocked by the user`.
    pub fn blocked() -> Self {
        Self::api(403, "Forbidden: bot was blocked by the user")
    }

    /// 403 `Forbidden: user is deactivated`.
    pub fn user_deactivated() -> Self {
        Self::api(403, "Forbidden: user is deactivated")
    }

    /// 400 `Bad Request: chat not found`.
    pub fn chat_not_found() -> Self {
        Self::api(400, "Bad Request: chat not found")
    }

    /// 502 `Bad Gateway`. Note: teloxide sleeps 10 s before reading any 5xx response.
    pub fn server_error() -> Self {
        Self::api(502, "Bad Gateway")
    }

    /// 400 with `parameters.migrate_to_chat_id` (a group was upgraded to a supergroup).
    pub fn migrated_to(chat_id: i64) -> Self {
        Failure::Api {
            code: 400,
            description: "Bad Request: group chat was upgraded to a supergroup chat".to_owned(),
            retry_after: None,
            migrate_to_chat_id: Some(chat_id),
        }
    }
}

/// One API call the bot made.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The method name with a lower-case first letter (`sendMessage`; teloxide sends
    /// `SendMessage`).
    pub method: String,
    /// The JSON body, or the multipart / form fields parsed into an object.
    pub params: Value,
    /// Files uploaded with a multipart request.
    pub files: Vec<UploadedFile>,
}

impl RecordedRequest {
    /// `params.chat_id` as a number (Telegram accepts numbers and numeric strings).
    pub fn chat_id(&self) -> Option<i64> {
        super::params::opt_i64(&self.params, "chat_id")
    }

    /// A string parameter.
    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }
}

/// A file uploaded by the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// The parameter that referenced the file (`document`, `photo`, ...).
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl UploadedFile {
    /// The bytes as (lossy) UTF-8 text, handy for CSV exports.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// What kind of message the bot created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SentKind {
    Text,
    Document,
    Photo,
    Copy { from_chat_id: i64, message_id: i64 },
}

/// A message the bot created, as it currently is (after edits).
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub message_id: i64,
    pub chat_id: i64,
    /// Text, or caption for documents and photos (raw, as sent, also for `parse_mode` HTML).
    pub text: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    /// The uploaded file, for `sendDocument` / `sendPhoto` (also when re-sent by file id).
    pub document: Option<UploadedFile>,
    /// The `file_id` the fake assigned (or that the bot sent) for documents and photos.
    pub file_id: Option<String>,
    pub kind: SentKind,
    pub edited: bool,
    pub deleted: bool,
    /// Unix time of sending.
    pub date: i64,
    /// When the fake received it (for latency measured at the fake, not after the test's own scheduling).
    pub received_at: std::time::Instant,
}

impl SentMessage {
    /// Rows of inline buttons as `(text, callback_data or url)`.
    pub fn inline_buttons(&self) -> Vec<Vec<(String, String)>> {
        let Some(rows) = self
            .reply_markup
            .as_ref()
            .and_then(|m| m.get("inline_keyboard"))
            .and_then(Value::as_array)
        else {
            return Vec::new();
        };
        rows.iter()
            .map(|row| {
                row.as_array()
                    .map(|buttons| buttons.iter().map(button_pair).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The callback data (or url) of the inline button with exactly this text.
    pub fn button_data(&self, text: &str) -> Option<String> {
        self.inline_buttons()
            .into_iter()
            .flatten()
            .find(|(t, _)| t == text)
            .map(|(_, data)| data)
    }

    /// Rows of reply-keyboard button texts, if the message set a reply keyboard.
    pub fn reply_keyboard(&self) -> Option<Vec<Vec<String>>> {
        let rows = self.reply_markup.as_ref()?.get("keyboard")?.as_array()?;
        Some(
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|buttons| buttons.iter().map(keyboard_text).collect())
                        .unwrap_or_default()
                })
                .collect(),
        )
    }

    /// `true` when the message removes the reply keyboard.
    pub fn removes_keyboard(&self) -> bool {
        self.reply_markup
            .as_ref()
            .and_then(|m| m.get("remove_keyboard"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

fn button_pair(button: &Value) -> (String, String) {
    let text = button
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let data = [
        "callback_data",
        "url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
    ]
    .iter()
    .find_map(|key| button.get(*key).and_then(Value::as_str))
    .or_else(|| button.pointer("/web_app/url").and_then(Value::as_str))
    .or_else(|| button.pointer("/login_url/url").and_then(Value::as_str))
    .or_else(|| button.pointer("/copy_text/text").and_then(Value::as_str))
    .unwrap_or_default();
    (text.to_owned(), data.to_owned())
}

fn keyboard_text(button: &Value) -> String {
    match button {
        Value::String(s) => s.clone(),
        other => other
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Something that happened on the fake server, see [`super::FakeTelegram::subscribe`].
#[derive(Clone, Debug)]
pub enum FakeEvent {
    MessageSent(SentMessage),
    MessageEdited(SentMessage),
    MessageDeleted {
        chat_id: i64,
        message_id: i64,
    },
    CallbackAnswered {
        id: String,
        text: Option<String>,
        show_alert: bool,
    },
    /// A request answered with `ok:false` (scripted, flood limit or bad input), or dropped
    /// (`error_code` is `None`).
    RequestFailed {
        request: RecordedRequest,
        error_code: Option<u16>,
        description: String,
    },
    /// Any other successful request except `getUpdates`.
    Other(RecordedRequest),
}
