//! Certificates of participation: who qualifies, and the PDF in their language. The scheduler queues them
//! after a series ends; `/certificate` sends one again.
use crate::content::Content;
use crate::db::programme as store;
use crate::db::{DbError, Tx};
use crate::documents::{CertificateData, certificate};
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
            // Never the name: logs hold no personal data.
            log::error!(
                "a certificate of series {} could not be made: {e}",
                series.id
            );
            None
        }
    }
}
