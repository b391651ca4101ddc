//! The outbox's pure parts: what a delivery carries, its channel and status, and the retry policies for
//! transient errors (Telegram's and email's).
use super::message::{Button, Document, Reply};
use serde::{Deserialize, Serialize};
use std::time::Duration;

mod family;
mod key;
pub use family::{KEY_FAMILIES, key_family};
pub use key::{KeyPrefix, OutboxKey, SessionItem, broadcast_batch};

/// What one delivery sends: a Telegram message (the one outgoing message type, `Reply`) or an email.
/// Stored as JSON in `deliveries.payload`, tagged by `kind` (`text`, `copy`, `document`, `photo`, `edit`,
/// `email`); a document's or attachment's bytes are not part of the JSON but live in their own BLOB column
/// (see `db::outbox`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Telegram(Reply),
    Email(Email),
}

/// An email (the `email` channel): plain text in the person's language, with an optional attachment whose
/// bytes live in the BLOB column like a document's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    /// The person's language code (`fi`, `en`): the `Content-Language` header.
    pub language: String,
    pub subject: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// An email's stored form: its fields with `"kind":"email"`, beside the Telegram kinds.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredEmail<'a> {
    Email(&'a Email),
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredEmailOwned {
    Email(Email),
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
        Payload::Telegram(Reply::text(text))
    }

    pub fn with_buttons(text: impl Into<String>, buttons: Vec<Vec<Button>>) -> Self {
        Payload::Telegram(Reply::with_buttons(text, buttons))
    }

    pub fn copy(from_chat_id: i64, message_id: i64) -> Self {
        Payload::Telegram(Reply::Copy {
            from_chat_id,
            message_id,
        })
    }

    pub fn document(document: Document) -> Self {
        Payload::Telegram(Reply::Document(document))
    }

    /// New text for the message `message_id` the bot sent to the row's chat earlier.
    pub fn edit(message_id: i64, text: impl Into<String>) -> Self {
        Payload::Telegram(Reply::Edit {
            message_id,
            text: text.into(),
            buttons: Vec::new(),
        })
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
        Payload::Email(Email {
            to: to.into(),
            language: language.code().to_string(),
            subject: subject.into(),
            body: body.into(),
            file_name,
            bytes,
        })
    }

    pub fn channel(&self) -> Channel {
        match self {
            Payload::Email(_) => Channel::Email,
            Payload::Telegram(_) => Channel::Telegram,
        }
    }

    /// The JSON stored in `deliveries.payload` (without a document's bytes).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        match self {
            Payload::Telegram(message) => serde_json::to_string(message),
            Payload::Email(email) => serde_json::to_string(&StoredEmail::Email(email)),
        }
    }

    /// Rebuilds a payload from its stored JSON and the document bytes stored beside it.
    pub fn from_stored(json: &str, document: Option<Vec<u8>>) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Kind<'a> {
            #[serde(borrow)]
            kind: std::borrow::Cow<'a, str>,
        }
        let kind: Kind = serde_json::from_str(json)?;
        let mut payload = if kind.kind == "email" {
            let StoredEmailOwned::Email(email) = serde_json::from_str(json)?;
            Payload::Email(email)
        } else {
            Payload::Telegram(serde_json::from_str(json)?)
        };
        if let (
            Payload::Telegram(
                Reply::Document(Document { bytes, .. }) | Reply::Photo(Document { bytes, .. }),
            )
            | Payload::Email(Email { bytes, .. }),
            Some(stored),
        ) = (&mut payload, document)
        {
            *bytes = stored;
        }
        Ok(payload)
    }

    /// A document's bytes, for the BLOB column.
    pub fn document_bytes(&self) -> Option<&[u8]> {
        match self {
            Payload::Telegram(Reply::Document(document) | Reply::Photo(document)) => {
                Some(&document.bytes)
            }
            Payload::Email(Email {
                bytes, file_name, ..
            }) => file_name.is_some().then_some(bytes.as_slice()),
            Payload::Telegram(_) => None,
        }
    }
}

impl From<Reply> for Payload {
    fn from(message: Reply) -> Self {
        Payload::Telegram(message)
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

    /// Rows stored by earlier versions (before `Reply` and `Payload` were one message type) still decode
    /// after an upgrade, each as the message it was.
    #[test]
    fn rows_in_the_earlier_json_form_still_decode() {
        let buttons = vec![vec![Button::callback("Tulen", "a:1")]];
        let old = [
            (
                r#"{"kind":"text","text":"Muistutus"}"#,
                None,
                Payload::text("Muistutus"),
            ),
            (
                r#"{"kind":"text","text":"Muistutus","buttons":[[{"label":"Tulen","action":{"callback":"a:1"}}]]}"#,
                None,
                Payload::with_buttons("Muistutus", buttons),
            ),
            (
                r#"{"kind":"copy","from_chat_id":-100,"message_id":42}"#,
                None,
                Payload::copy(-100, 42),
            ),
            (
                r#"{"kind":"document","file_name":"todistus.pdf","caption":"Todistus"}"#,
                Some(vec![1, 2, 3]),
                Payload::document(Document {
                    file_name: "todistus.pdf".into(),
                    bytes: vec![1, 2, 3],
                    caption: Some("Todistus".into()),
                }),
            ),
            (
                r#"{"kind":"document","file_name":"kalenteri.ics"}"#,
                Some(vec![4]),
                Payload::document(Document {
                    file_name: "kalenteri.ics".into(),
                    bytes: vec![4],
                    caption: None,
                }),
            ),
            (
                r#"{"kind":"email","to":"a@example.org","language":"fi","subject":"S","body":"B","file_name":"t.pdf"}"#,
                Some(vec![9]),
                Payload::email(
                    "a@example.org",
                    super::super::Lang::Fi,
                    "S",
                    "B",
                    Some(Document {
                        file_name: "t.pdf".into(),
                        bytes: vec![9],
                        caption: None,
                    }),
                ),
            ),
            (
                r#"{"kind":"email","to":"a@example.org","language":"en","subject":"S","body":"B"}"#,
                None,
                Payload::email("a@example.org", super::super::Lang::En, "S", "B", None),
            ),
        ];
        for (json, bytes, expected) in old {
            let stored = bytes.clone();
            assert_eq!(
                Payload::from_stored(json, stored).unwrap(),
                expected,
                "{json}"
            );
            // And the same JSON is written for it today.
            assert_eq!(expected.to_json().unwrap(), json);
        }
        assert!(Payload::from_stored(r#"{"kind":"fax","text":"x"}"#, None).is_err());
    }

    #[test]
    fn an_edit_is_stored_with_its_message() {
        let edit = Payload::edit(77, "3/10");
        let json = edit.to_json().unwrap();
        assert_eq!(json, r#"{"kind":"edit","message_id":77,"text":"3/10"}"#);
        assert_eq!(Payload::from_stored(&json, None).unwrap(), edit);
        assert_eq!(edit.channel(), Channel::Telegram);
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
