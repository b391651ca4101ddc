//! What the bot sends to a Telegram chat, independent of Telegram's types: one type for a service's replies
//! and the outbox's Telegram messages alike (`Reply`), sent by one adapter module (`telegram::send`).
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

/// A file to send, built in memory (CSV exports, certificates, calendars). In the outbox its bytes are not
/// part of the stored JSON but live in their own BLOB column (see `db::outbox`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub file_name: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// One message the bot sends to a chat, as a reply or from the outbox: plain text (sent without parse mode)
/// with optional inline buttons, a document, a photo, a copy of an existing message, or an edit of one the
/// bot sent earlier. Stored in the outbox as JSON tagged by `kind` (`{"kind":"text","text":"…"}`), the form
/// earlier versions stored too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Vec<Button>>,
    },
    Document(Document),
    /// A picture shown in the chat (a results chart), with its caption.
    Photo(Document),
    /// A copy of an existing message (a broadcast), with its formatting and media, without the "forwarded"
    /// header.
    Copy {
        from_chat_id: i64,
        message_id: i64,
    },
    /// New text and buttons for a message the bot sent earlier in the same chat (a broadcast's status).
    Edit {
        message_id: i64,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Vec<Button>>,
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
