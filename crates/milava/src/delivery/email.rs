//! The email channel: one outbox row of kind `email` as one SMTP message (lettre over tokio; TLS with rustls
//! for `smtps://` and `?tls=required`). The worker owns the sending, the budget and the outcomes; this module
//! builds the message and says what an SMTP error means for the row.
//!
//! Headers: `From` (`EMAIL_FROM`), `To`, `Subject`, `Date` (the injected clock), `Message-ID` — the same id on
//! every try of a row (`<milava.{row id}.{key hash}@{the From domain}>`), so a message that a crash made us
//! send twice is one message to the recipient's mail program — and `Content-Language`. The body is plain
//! text; an attachment makes it `multipart/mixed`.
use crate::db::outbox::Delivery;
use crate::domain::outbox::{Email, Payload};
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one SMTP conversation may take before it counts as failed (and is tried again).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("SMTP_URL: {0}")]
    Url(String),
    #[error("EMAIL_FROM: {0}")]
    From(String),
    /// The row cannot become a message (a bad address, a payload that is not an email): given up at once.
    #[error("the message cannot be built: {0}")]
    Build(String),
    /// The server or the connection: see `is_permanent`.
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl EmailError {
    /// A refusal that another try would not change: the message cannot be built, or the server says the
    /// mailbox does not exist or is not allowed (550, 551, 553). Everything else — the server down, timeouts,
    /// TLS trouble, 4xx, and other 5xx (a server refusing everything while misconfigured) — is tried again
    /// with the email backoff.
    pub fn is_permanent(&self) -> bool {
        match self {
            EmailError::Build(_) | EmailError::Url(_) | EmailError::From(_) => true,
            EmailError::Smtp(e) => {
                e.is_permanent()
                    && e.status().is_some_and(|code| {
                        matches!(code.to_string().as_str(), "550" | "551" | "553")
                    })
            }
        }
    }
}

/// The SMTP sender, built once from the settings.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For Message-IDs.
    domain: String,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: never printed.
        f.debug_struct("EmailSender")
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    /// `url` is `smtp://host:port` (plain, for a relay on this machine), `smtp://…?tls=required` (STARTTLS)
    /// or `smtps://user:pass@host` (TLS); `from` is an address, optionally with a name (`MILAVA <a@b.fi>`).
    pub fn new(url: &str, from: &str) -> Result<Self, EmailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| EmailError::From(e.to_string()))?;
        let domain = from.email.domain().to_string();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            // lettre's URL errors do not repeat the URL, so no password reaches the message.
            .map_err(|e| EmailError::Url(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(EmailSender {
            transport,
            from,
            domain,
        })
    }

    /// Sends one email row; `now` is its Date.
    pub async fn send(&self, delivery: &Delivery, now: DateTime<Utc>) -> Result<(), EmailError> {
        let message = self.message(delivery, now)?;
        self.transport.send(message).await?;
        Ok(())
    }

    /// The message of one email row (public for tests of its headers).
    pub fn message(&self, delivery: &Delivery, now: DateTime<Utc>) -> Result<Message, EmailError> {
        let Payload::Email(Email {
            to,
            language,
            subject,
            body,
            file_name,
            bytes,
        }) = &delivery.payload
        else {
            return Err(EmailError::Build("not an email".into()));
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| EmailError::Build(e.to_string()))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject.clone())
            .date(now.into())
            .message_id(Some(message_id(delivery, &self.domain)));
        let text = SinglePart::plain(body.clone());
        let built = match file_name {
            Some(name) => {
                let kind = if name.to_ascii_lowercase().ends_with(".pdf") {
                    "application/pdf"
                } else {
                    "application/octet-stream"
                };
                let kind =
                    ContentType::parse(kind).map_err(|e| EmailError::Build(e.to_string()))?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(text)
                        .singlepart(Attachment::new(name.clone()).body(bytes.clone(), kind)),
                )
            }
            None => builder.singlepart(text),
        };
        let mut message = built.map_err(|e| EmailError::Build(e.to_string()))?;
        if !language.is_empty() {
            message.headers_mut().insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                language.clone(),
            ));
        }
        Ok(message)
    }
}

/// The same id on every try of a row: the row id and a hash of its key (FNV-1a), at the sender's domain.
fn message_id(delivery: &Delivery, domain: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in delivery.idempotency_key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("<milava.{}.{hash:016x}@{domain}>", delivery.id)
}
