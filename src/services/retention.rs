//! Retention: the personal data of a workshop series' participants is erased `PERSONAL_DATA_RETENTION_DAYS`
//! after the series' last session, as the privacy notice promises. Someone who also belongs to a series that
//! is not that far past yet is kept until that one is. The scheduler purges when due; `milava-bot purge
//! --dry-run` shows what would go now.
use crate::content::Content;
use crate::db::{self, DbError, audit, maintenance};
use crate::domain::programme::Series;
use crate::domain::time::local_to_utc;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use sqlx::SqlitePool;

/// One series whose retention time is over, and what happens (or would happen) to its people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesPurge {
    pub series_id: String,
    /// The end of its last session, local time.
    pub ended: NaiveDateTime,
    /// Telegram ids erased (or, in a dry run, to be erased).
    pub erased: Vec<i64>,
    /// Telegram ids kept because another series of theirs is not past its retention time yet.
    pub kept: Vec<i64>,
}

/// When a series' data is due to go: its last session's end plus `days`.
fn due_at(series: &Series, tz: Tz, days: u32) -> Option<DateTime<Utc>> {
    series
        .last_end()
        .map(|end| local_to_utc(tz, end) + Duration::days(i64::from(days)))
}

/// The next moment something becomes due after `now`, for the scheduler.
pub fn next_due(content: &Content, tz: Tz, days: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    content
        .series
        .iter()
        .filter_map(|s| due_at(s, tz, days))
        .filter(|due| *due > now)
        .min()
}

/// Erases (or with `dry_run` only lists) the people of every series past its retention time. Each series is
/// one transaction, recorded in the audit log by counts (never names).
pub async fn purge(
    pool: &SqlitePool,
    content: &Content,
    tz: Tz,
    days: u32,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Vec<SeriesPurge>, DbError> {
    let over = |series_id: &str| match content.series(series_id) {
        Some(series) => due_at(series, tz, days).is_some_and(|due| due <= now),
        // A series no longer in the programme has no end to wait for.
        None => true,
    };
    let mut report = Vec::new();
    for series in &content.series {
        let (Some(ended), true) = (series.last_end(), over(&series.id)) else {
            continue;
        };
        let mut tx = db::begin_write(pool).await?;
        let mut item = SeriesPurge {
            series_id: series.id.clone(),
            ended,
            erased: Vec::new(),
            kept: Vec::new(),
        };
        for (user, their_series) in maintenance::people_of_series(&mut tx, &series.id).await? {
            if their_series.iter().all(|s| over(s)) {
                if !dry_run {
                    db::erase_user(&mut tx, user).await?;
                }
                item.erased.push(user);
            } else {
                item.kept.push(user);
            }
        }
        if dry_run || item.erased.is_empty() {
            tx.rollback().await?;
        } else {
            let detail = format!(
                "series {} ended {days} days ago: {} participant(s) erased",
                series.id,
                item.erased.len()
            );
            audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
            tx.commit().await?;
            log::info!("retention: {detail}");
        }
        if !item.erased.is_empty() || !item.kept.is_empty() {
            report.push(item);
        }
    }
    Ok(report)
}
