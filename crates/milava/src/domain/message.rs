//! What a service wants shown to a user, independent of Telegram's types.
use serde::{Deserialize, Serialize};

/// One inline button: its label and the callback data it carries (or a URL to open).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub action: ButtonAction,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonAction {
    Callback(String),
    Url(String),
}

impl Button {
    pub fn callback(label: impl Into<String>, data: impl Into<String>) -> Self {
        Button {
            label: label.into(),
            action: ButtonAction::Callback(data.into()),
        }
    }

    pub fn url(label: impl Into<String>, url: impl Into<String>) -> Self {
        Button {
            label: label.into(),
            action: ButtonAction::Url(url.into()),
        }
    }
}

/// A file to send, built in memory (CSV exports, certificates, calendars).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub caption: Option<String>,
}

/// A reply to a user: plain text (HTML-escaped by the adapter) with optional inline buttons, a document or
/// a photo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Text {
        text: String,
        buttons: Vec<Vec<Button>>,
    },
    Document(Document),
    /// A picture shown in the chat (a results chart), with its caption.
    Photo(Document),
    /// A copy of an existing message (a broadcast's preview), with its formatting and media.
    Copy {
        from_chat_id: i64,
        message_id: i64,
    },
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text {
            text: text.into(),
            buttons: Vec::new(),
        }
    }

    pub fn with_buttons(text: impl Into<String>, buttons: Vec<Vec<Button>>) -> Self {
        Reply::Text {
            text: text.into(),
            buttons,
        }
    }
}
