//! Certificates of participation: who qualifies, and the PDF in their language. The scheduler queues them
//! after a series ends; `/certificate` sends one again.
use crate::content::Content;
use crate::db::outbox::{self, NewDelivery};
use crate::db::programme::{self as store, Member};
use crate::db::{DbError, Tx};
use crate::documents::{CertificateData, certificate};
use crate::domain::outbox::{OutboxKey, Payload};
use crate::domain::programme::{Series, Session};
use crate::domain::time::utc_to_local;
use crate::domain::{Document, Lang};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The sessions of `series` that `user` attended, in time order.
pub async fn attended<'a>(
    tx: &mut Tx,
    series: &'a Series,
    user: i64,
) -> Result<Vec<&'a Session>, DbError> {
    let ids = store::attended_sessions(tx, user).await?;
    Ok(series
        .sessions_in_order()
        .into_iter()
        .filter(|s| ids.contains(&s.id))
        .collect())
}

/// The certificate file for one person, or None if they do not qualify.
pub fn document(
    content: &Content,
    lang: Lang,
    name: &str,
    series: &Series,
    attended: &[&Session],
    issued: DateTime<Utc>,
    tz: Tz,
) -> Option<Document> {
    if attended.len() < series.required_sessions() {
        return None;
    }
    // Dated the day the series ended, so the same certificate made again is the same document.
    let ended = series
        .last_end()
        .map_or_else(|| utc_to_local(tz, issued).date(), |end| end.date());
    let data = CertificateData::from_content(content, lang, name, series, attended, ended);
    match certificate(&data) {
        Ok(bytes) => Some(Document {
            file_name: content.fill(lang, "certificate.file_name", &[("series", &series.id)]),
            bytes,
            caption: Some(content.fill(
                lang,
                "certificate.caption",
                &[("series", series.name.get(lang))],
            )),
        }),
        Err(e) => {
            // Never the name: logs hold no personal data.
            log::error!(
                "a certificate of series {} could not be made: {e}",
                series.id
            );
            None
        }
    }
}

/// Queues `member`'s certificate under `key`: in the chat, and by email as well (key `{key}:email`) when
/// `email` is on and they gave an address. The scheduler's pass after a series and the console's "issue"
/// both send this way. Returns whether the chat's copy was queued (false: `key` was used before).
#[allow(clippy::too_many_arguments)]
pub async fn queue(
    tx: &mut Tx,
    content: &Content,
    series: &Series,
    member: &Member,
    doc: Document,
    again: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    email: bool,
) -> Result<bool, DbError> {
    // The first certificate has one key per person and series (the scheduler's and the console's are the
    // same row); one issued again is keyed by when.
    let key = |email| match again {
        None => OutboxKey::Certificate {
            series: series.id.clone(),
            user: member.telegram_user_id,
            email,
        },
        Some(at) => OutboxKey::CertificateAgain {
            series: series.id.clone(),
            user: member.telegram_user_id,
            at: at.timestamp_millis(),
            email,
        },
    };
    if let Some(to) = member.email.as_deref().filter(|_| email) {
        let lang = member.language;
        let series_name = series.name.get(lang);
        let mail = Payload::email(
            to,
            lang,
            content.fill(
                lang,
                "email.certificate.subject",
                &[("series", series_name)],
            ),
            content.fill(
                lang,
                "email.certificate.body",
                &[("name", member.name.trim()), ("series", series_name)],
            ),
            Some(doc.clone()),
        );
        let delivery = NewDelivery::new(key(true), member.chat_id, mail, now)
            .for_user(member.telegram_user_id);
        outbox::enqueue(tx, &delivery).await?;
    }
    let delivery = NewDelivery::new(key(false), member.chat_id, Payload::document(doc), now)
        .for_user(member.telegram_user_id);
    outbox::enqueue(tx, &delivery).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The certificate made at the series' end and the one `/certificate` makes months later are the same
    /// document, dated the day the series ended.
    #[test]
    fn a_certificate_made_again_keeps_its_date() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/dialogues");
        let content = crate::content::load(&dir).unwrap();
        let series = content.series("rovaniemi-2024").unwrap();
        let attended: Vec<&Session> = series.sessions.iter().collect();
        let tz = chrono_tz::Europe::Helsinki;
        let make = |issued| {
            document(
                &content,
                Lang::Fi,
                "Liisa Laine",
                series,
                &attended,
                issued,
                tz,
            )
            .unwrap()
            .bytes
        };
        let first = make(Utc.with_ymd_and_hms(2024, 5, 15, 9, 0, 0).unwrap());
        let again = make(Utc.with_ymd_and_hms(2024, 9, 2, 12, 0, 0).unwrap());
        assert_eq!(first, again, "the same document");
        let text = String::from_utf8_lossy(&first).to_string();
        assert!(text.starts_with("%PDF"));
    }
}
