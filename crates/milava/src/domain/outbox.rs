//! The outbox's pure parts: what a delivery carries, its channel and status, and the retry policies for
//! transient errors (Telegram's and email's).
use super::message::{Button, Document, Reply};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What one delivery sends. Stored as JSON in `deliveries.payload`; a document's bytes are not part of the
/// JSON but live in their own BLOB column (see `db::outbox`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// Plain text (sent without parse mode), with optional inline buttons.
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Vec<Button>>,
    },
    /// A copy of an existing message (e.g. a coordinator's broadcast), without the "forwarded" header.
    Copy { from_chat_id: i64, message_id: i64 },
    /// A file built in memory (certificates, calendars).
    Document {
        file_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// An email (the `email` channel): plain text in the person's language, with an optional attachment whose
    /// bytes live in the BLOB column like a document's.
    Email {
        to: String,
        /// The person's language code (`fi`, `en`): the `Content-Language` header.
        language: String,
        subject: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_name: Option<String>,
        #[serde(skip)]
        bytes: Vec<u8>,
    },
}

/// Which sender takes a delivery: the Telegram Bot API or SMTP. Each has its own rate budget in the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Telegram,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Email => "email",
        }
    }
}

impl Payload {
    pub fn text(text: impl Into<String>) -> Self {
        Payload::Text {
            text: text.into(),
            buttons: Vec::new(),
        }
    }

    pub fn with_buttons(text: impl Into<String>, buttons: Vec<Vec<Button>>) -> Self {
        Payload::Text {
            text: text.into(),
            buttons,
        }
    }

    pub fn copy(from_chat_id: i64, message_id: i64) -> Self {
        Payload::Copy {
            from_chat_id,
            message_id,
        }
    }

    pub fn document(document: Document) -> Self {
        Payload::Document {
            file_name: document.file_name,
            caption: document.caption,
            bytes: document.bytes,
        }
    }

    /// An email to `to`, with an attachment when `attachment` is given.
    pub fn email(
        to: impl Into<String>,
        language: super::Lang,
        subject: impl Into<String>,
        body: impl Into<String>,
        attachment: Option<Document>,
    ) -> Self {
        let (file_name, bytes) = match attachment {
            Some(document) => (Some(document.file_name), document.bytes),
            None => (None, Vec::new()),
        };
        Payload::Email {
            to: to.into(),
            language: language.code().to_string(),
            subject: subject.into(),
            body: body.into(),
            file_name,
            bytes,
        }
    }

    pub fn channel(&self) -> Channel {
        match self {
            Payload::Email { .. } => Channel::Email,
            _ => Channel::Telegram,
        }
    }

    /// The JSON stored in `deliveries.payload` (without a document's bytes).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Rebuilds a payload from its stored JSON and the document bytes stored beside it.
    pub fn from_stored(json: &str, document: Option<Vec<u8>>) -> Result<Self, serde_json::Error> {
        let mut payload: Payload = serde_json::from_str(json)?;
        if let (Payload::Document { bytes, .. } | Payload::Email { bytes, .. }, Some(stored)) =
            (&mut payload, document)
        {
            *bytes = stored;
        }
        Ok(payload)
    }

    /// A document's bytes, for the BLOB column.
    pub fn document_bytes(&self) -> Option<&[u8]> {
        match self {
            Payload::Document { bytes, .. } => Some(bytes),
            Payload::Email {
                bytes, file_name, ..
            } => file_name.is_some().then_some(bytes.as_slice()),
            _ => None,
        }
    }
}

impl From<Reply> for Payload {
    fn from(reply: Reply) -> Self {
        match reply {
            Reply::Text { text, buttons } => Payload::Text { text, buttons },
            // The outbox sends no photos of its own: one would go as a file.
            Reply::Document(document) | Reply::Photo(document) => Payload::document(document),
            Reply::Copy {
                from_chat_id,
                message_id,
            } => Payload::copy(from_chat_id, message_id),
        }
    }
}

/// Where a delivery is in its life. `pending` rows wait for their due time; the worker marks a row `sending`
/// just before the request and records the outcome right after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Sending,
    Sent,
    /// Telegram refused it for good (e.g. chat not found), or transient errors went on too long.
    Failed,
    /// Not sent because the recipient blocked the bot or is gone.
    Skipped,
    /// Withdrawn by its producer before it was sent (e.g. a cancelled broadcast).
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Sending,
        Status::Sent,
        Status::Failed,
        Status::Skipped,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A row is given up (`failed`) after this many tries that ended in a transient error.
pub const MAX_ATTEMPTS: i64 = 6;
/// The wait before the first retry; each further retry waits twice as long, up to `MAX_RETRY_DELAY`.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(5);
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(15 * 60);

/// What to do after a try that ended in a transient error, given how many such tries there were before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterTransient {
    /// Try again this much later; `attempts` is the new count to store.
    RetryIn {
        attempts: i64,
        delay: Duration,
    },
    GiveUp {
        attempts: i64,
    },
}

/// Exponential backoff: 5 s, 10 s, 20 s, 40 s, 80 s, then give up (six tries in all).
pub fn after_transient(previous_attempts: i64) -> AfterTransient {
    let attempts = previous_attempts.max(0) + 1;
    if attempts >= MAX_ATTEMPTS {
        return AfterTransient::GiveUp { attempts };
    }
    let doubling = u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(16);
    let delay = FIRST_RETRY_DELAY
        .saturating_mul(1 << doubling)
        .min(MAX_RETRY_DELAY);
    AfterTransient::RetryIn { attempts, delay }
}

/// Email tries: a mail server that is down or refusing for a while (maintenance, greylisting) is waited out
/// longer than Telegram: 1, 2, 4, … minutes, at most an hour apart, given up at the twelfth try (about 8 hours).
pub const EMAIL_MAX_ATTEMPTS: i64 = 12;
pub const EMAIL_FIRST_RETRY_DELAY: Duration = Duration::from_secs(60);
pub const EMAIL_MAX_RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// The email channel's backoff (see `EMAIL_MAX_ATTEMPTS`).
pub fn email_after_transient(previous_attempts: i64) -> AfterTransient {
    let attempts = previous_attempts.max(0) + 1;
    if attempts >= EMAIL_MAX_ATTEMPTS {
        return AfterTransient::GiveUp { attempts };
    }
    let doubling = u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(16);
    let delay = EMAIL_FIRST_RETRY_DELAY
        .saturating_mul(1 << doubling)
        .min(EMAIL_MAX_RETRY_DELAY);
    AfterTransient::RetryIn { attempts, delay }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_through_their_stored_form() {
        let text = Payload::with_buttons(
            "Muistutus",
            vec![vec![
                Button::callback("Tulen", "a:1"),
                Button::url("Kartta", "https://example.org"),
            ]],
        );
        let json = text.to_json().unwrap();
        assert!(json.contains(r#""kind":"text""#), "{json}");
        assert_eq!(Payload::from_stored(&json, None).unwrap(), text);

        let copy = Payload::copy(-100, 42);
        assert_eq!(
            Payload::from_stored(&copy.to_json().unwrap(), None).unwrap(),
            copy
        );

        let doc = Payload::document(Document {
            file_name: "todistus.pdf".into(),
            bytes: vec![1, 2, 3],
            caption: Some("Todistus".into()),
        });
        let json = doc.to_json().unwrap();
        assert!(
            !json.contains("bytes"),
            "bytes stay out of the JSON: {json}"
        );
        let back = Payload::from_stored(&json, doc.document_bytes().map(<[u8]>::to_vec)).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn a_plain_text_payload_is_small() {
        assert_eq!(
            Payload::text("hei").to_json().unwrap(),
            r#"{"kind":"text","text":"hei"}"#
        );
        assert_eq!(
            Payload::from(Reply::text("hei")),
            Payload::text("hei"),
            "a service's reply converts as is"
        );
    }

    #[test]
    fn an_email_keeps_its_attachment_out_of_the_json() {
        let email = Payload::email(
            "anna@example.org",
            super::super::Lang::Fi,
            "Todistus",
            "Hei",
            Some(Document {
                file_name: "todistus.pdf".into(),
                bytes: vec![7, 8],
                caption: None,
            }),
        );
        assert_eq!(email.channel(), Channel::Email);
        assert_eq!(Payload::text("x").channel(), Channel::Telegram);
        let json = email.to_json().unwrap();
        assert!(
            json.contains(r#""kind":"email""#) && !json.contains("bytes"),
            "{json}"
        );
        let back = Payload::from_stored(&json, email.document_bytes().map(<[u8]>::to_vec)).unwrap();
        assert_eq!(back, email);
        let plain = Payload::email("a@example.org", super::super::Lang::En, "s", "b", None);
        assert_eq!(plain.document_bytes(), None);
    }

    #[test]
    fn email_retries_wait_longer_and_give_up_later() {
        let secs: Vec<Option<u64>> = (0..12)
            .map(|n| match email_after_transient(n) {
                AfterTransient::RetryIn { delay, .. } => Some(delay.as_secs()),
                AfterTransient::GiveUp { .. } => None,
            })
            .collect();
        assert_eq!(
            secs,
            vec![
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(960),
                Some(1920),
                Some(3600),
                Some(3600),
                Some(3600),
                Some(3600),
                Some(3600),
                None
            ]
        );
    }

    #[test]
    fn statuses_parse_back() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("lost"), None);
    }

    #[test]
    fn transient_errors_back_off_exponentially_then_give_up() {
        let delays: Vec<AfterTransient> = (0..6).map(after_transient).collect();
        let secs = |a: &AfterTransient| match a {
            AfterTransient::RetryIn { delay, .. } => Some(delay.as_secs()),
            AfterTransient::GiveUp { .. } => None,
        };
        assert_eq!(
            delays.iter().map(secs).collect::<Vec<_>>(),
            vec![Some(5), Some(10), Some(20), Some(40), Some(80), None]
        );
        assert_eq!(
            after_transient(0),
            AfterTransient::RetryIn {
                attempts: 1,
                delay: Duration::from_secs(5)
            }
        );
        assert_eq!(after_transient(5), AfterTransient::GiveUp { attempts: 6 });
        assert!(matches!(after_transient(40), AfterTransient::GiveUp { .. }));
    }
}
