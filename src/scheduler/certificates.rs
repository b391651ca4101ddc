//! Certificates of participation: once the last session of a series has ended, everyone who attended at least
//! the number of sessions the content requires gets a PDF in their language, through the outbox, once.
use crate::content::Content;
use crate::db::outbox::{self, NewDelivery};
use crate::db::programme::{self as store, Member};
use crate::db::{DbError, Tx};
use crate::documents::{CertificateData, certificate};
use crate::domain::outbox::Payload;
use crate::domain::programme::{Series, Session};
use crate::domain::time::{local_to_utc, utc_to_local};
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
    let data = CertificateData::from_content(
        content,
        lang,
        name,
        series,
        attended,
        utc_to_local(tz, issued).date(),
    );
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
            log::error!(
                "certificate for {name} ({}) could not be made: {e}",
                series.id
            );
            None
        }
    }
}

/// After the series' last session: queues the certificates, once per series. Returns how many.
pub async fn send_if_due(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    series: &Series,
    members: &[Member],
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let Some(end) = series.last_end().map(|end| local_to_utc(tz, end)) else {
        return Ok(0);
    };
    let mark = format!("certificates:{}", series.id);
    if now < end || store::is_marked(tx, &mark).await? {
        return Ok(0);
    }
    let mut sent = 0;
    for member in members {
        let sessions = attended(tx, series, member.telegram_user_id).await?;
        let Some(doc) = document(
            content,
            member.language,
            &member.name,
            series,
            &sessions,
            now,
            tz,
        ) else {
            continue;
        };
        let key = format!("certificate:{}:{}", series.id, member.telegram_user_id);
        let delivery = NewDelivery::new(key, member.chat_id, Payload::document(doc), now)
            .for_user(member.telegram_user_id);
        if outbox::enqueue(tx, &delivery).await? {
            sent += 1;
        }
    }
    store::mark(tx, &mark, now).await?;
    log::info!("series {}: {sent} certificates queued", series.id);
    Ok(sent)
}
