//! After a series' last session, everyone who attended at least the number of sessions the content requires
//! gets a PDF certificate in their language, through the outbox, once. A series with a series-end survey
//! gets its certificates once that survey has opened (`due`), after the invitations (the pass invites first). Each
//! goes in the chat, and by email as well to everyone who gave an address when email is on (`SMTP_URL`; key
//! `certificate:{series}:{user}:email`).
//!
//! Making a PDF takes CPU time, so the pass does not hold the database's write lock meanwhile: attendance is
//! read first, the PDFs are made on a blocking thread in batches, and each batch is queued in its own short
//! transaction. A crash in between only means the next pass makes them again; the idempotency keys keep
//! each person's certificate to one.
use crate::content::Content;
use crate::db::programme::{self as store, Member};
use crate::db::{self, DbError};
use crate::domain::Document;
use crate::domain::programme::Series;
use crate::domain::time::local_to_utc;
use crate::services::certificates::{attended, document, queue};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use std::sync::Arc;

/// Certificates made and queued per transaction.
const BATCH: usize = 50;

/// After the series' last session: queues the certificates, once per series. Returns how many.
pub async fn send_if_due(
    pool: &crate::db::Db,
    content: &Arc<Content>,
    tz: Tz,
    series: &Series,
    members: &[Member],
    now: DateTime<Utc>,
    email: bool,
) -> Result<usize, DbError> {
    let Some(end) = due(content, tz, series) else {
        return Ok(0);
    };
    let mark = format!("certificates:{}", series.id);
    if now < end {
        return Ok(0);
    }
    // A deferred (read) transaction: it takes no write lock.
    let mut read = crate::db::begin_read(pool).await?;
    if store::is_marked(&mut read, &mark).await? {
        return Ok(0);
    }
    let mut qualified = Vec::new();
    for member in members {
        let sessions: Vec<String> = attended(&mut read, series, member.telegram_user_id)
            .await?
            .into_iter()
            .map(|s| s.id.clone())
            .collect();
        if sessions.len() >= series.required_sessions() {
            qualified.push((member.clone(), sessions));
        }
    }
    read.commit().await?;

    let mut sent = 0;
    for batch in qualified.chunks(BATCH) {
        let documents = make_documents(content, tz, series, batch.to_vec(), now).await;
        // Queued in short transactions (`db::Slices`): a PDF is a large row, 50 of them a long turn.
        let mut slices = db::Slices::new(pool, BATCH);
        for (member, doc) in documents {
            let tx = slices.next().await?;
            if queue(tx, content, series, &member, doc, None, now, email).await? {
                sent += 1;
            }
        }
        slices.finish().await?;
    }
    let mut tx = db::begin_write(pool).await?;
    store::mark(&mut tx, &mark, now).await?;
    tx.commit().await?;
    log::info!("series {}: {sent} certificates queued", series.id);
    Ok(sent)
}

/// When the series' certificates are due: at its last session's end, or when its series-end survey opens if
/// that is later.
pub fn due(content: &Content, tz: Tz, series: &Series) -> Option<DateTime<Utc>> {
    let end = local_to_utc(tz, series.last_end()?);
    Some(super::surveys::series_end_opens(content, tz, series).map_or(end, |opens| opens.max(end)))
}

/// Makes the PDFs of one batch on a blocking thread (CPU work off the async workers).
async fn make_documents(
    content: &Arc<Content>,
    tz: Tz,
    series: &Series,
    batch: Vec<(Member, Vec<String>)>,
    now: DateTime<Utc>,
) -> Vec<(Member, Document)> {
    let content = Arc::clone(content);
    let series_id = series.id.clone();
    let series = series.clone();
    let made = tokio::task::spawn_blocking(move || {
        batch
            .into_iter()
            .filter_map(|(member, ids)| {
                let sessions: Vec<_> = series
                    .sessions_in_order()
                    .into_iter()
                    .filter(|s| ids.contains(&s.id))
                    .collect();
                let doc = document(
                    &content,
                    member.language,
                    &member.name,
                    &series,
                    &sessions,
                    now,
                    tz,
                )?;
                Some((member, doc))
            })
            .collect()
    })
    .await;
    made.unwrap_or_else(|e| {
        log::error!("certificates for {series_id} could not be made: {e}");
        Vec::new()
    })
}
