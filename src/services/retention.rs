//! Retention, as the privacy notice promises:
//! - the personal data of a workshop series' participants is erased `PERSONAL_DATA_RETENTION_DAYS` after the
//!   series' last session; someone who also belongs to a series that is not that far past yet is kept until
//!   that one is;
//! - fathers and others (everything of theirs) are erased when the programme is over (content.toml
//!   `programme_ends`); coordinators never;
//! - people who never registered (an unfinished registration, a join request, the language they chose) are
//!   erased `UNFINISHED_RETENTION_DAYS` after they last wrote; coordinators and facilitators never.
//!
//! The scheduler purges when due; `milava-bot purge --dry-run` shows what would go now.
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

/// Who of a series may go now (everyone whose every series is `over`) and who stays, by Telegram id.
fn split_by(people: Vec<(i64, Vec<String>)>, over: impl Fn(&str) -> bool) -> (Vec<i64>, Vec<i64>) {
    let (going, staying): (Vec<_>, Vec<_>) = people
        .into_iter()
        .partition(|(_, theirs)| theirs.iter().all(|s| over(s)));
    let ids = |list: Vec<(i64, Vec<String>)>| list.into_iter().map(|(user, _)| user).collect();
    (ids(going), ids(staying))
}

/// People erased per transaction, so that a large series does not hold the write lock (and everyone's
/// replies) for long: erasing a person is a delete in every personal table.
const PURGE_BATCH: usize = 50;

/// Erases (or with `dry_run` only lists) the people of every series past its retention time, in transactions
/// of `PURGE_BATCH` people, each recorded in the audit log by counts (never names). Who may go is read again
/// in each transaction, so someone who enrols in a new series meanwhile is kept.
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
    let split = |people| split_by(people, over);
    let mut report = Vec::new();
    for series in &content.series {
        let (Some(ended), true) = (series.last_end(), over(&series.id)) else {
            continue;
        };
        let mut item = SeriesPurge {
            series_id: series.id.clone(),
            ended,
            erased: Vec::new(),
            kept: Vec::new(),
        };
        // A look without the write turn first: most passes find nobody to erase (all kept).
        let mut read = db::begin_read(pool).await?;
        let (going, staying) = split(maintenance::people_of_series(&mut read, &series.id).await?);
        read.commit().await?;
        item.kept = staying;
        if dry_run {
            item.erased = going;
        } else {
            let mut left = going.len();
            while left > 0 {
                // Read again under the turn: someone may have enrolled elsewhere meanwhile.
                let mut tx = db::begin_write(pool).await?;
                let (going, staying) =
                    split(maintenance::people_of_series(&mut tx, &series.id).await?);
                item.kept = staying;
                if going.len() > left {
                    // Erasing did not take them out of the series: stop rather than go round for ever.
                    return Err(DbError::Corrupt(format!(
                        "retention: people erased from {} are still listed in it",
                        series.id
                    )));
                }
                let batch = &going[..going.len().min(PURGE_BATCH)];
                for &user in batch {
                    db::erase_user(&mut tx, user).await?;
                }
                let detail = format!(
                    "series {} ended {days} days ago: {} participant(s) erased",
                    series.id,
                    batch.len()
                );
                if !batch.is_empty() {
                    audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
                }
                tx.commit().await?;
                if !batch.is_empty() {
                    log::info!("retention: {detail}");
                }
                item.erased.extend_from_slice(batch);
                left = going.len() - batch.len();
            }
        }
        if !item.erased.is_empty() || !item.kept.is_empty() {
            report.push(item);
        }
    }
    Ok(report)
}

/// What the programme's end erases (or, in a dry run, would erase): counts, never names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgrammePurge {
    /// The programme's last day.
    pub ended: chrono::NaiveDate,
    pub fathers: usize,
    pub others: usize,
}

/// Ids as the JSON array the purge queries take for the people they must leave alone.
fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// Erases (or with `dry_run` only counts) every father and other once the programme is over at `now`, in
/// transactions of `PURGE_BATCH` people, each in the audit log by counts; `coordinators` are never erased.
/// None while the programme is not over.
pub async fn purge_programme_end(
    pool: &SqlitePool,
    content: &Content,
    tz: Tz,
    coordinators: &std::collections::BTreeSet<i64>,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Option<ProgrammePurge>, DbError> {
    if !content.programme_over(tz, now) {
        return Ok(None);
    }
    let keep = id_list(coordinators.iter().copied());
    let mut report = ProgrammePurge {
        ended: content.programme_ends,
        ..Default::default()
    };
    let count = |report: &mut ProgrammePurge, people: &[(i64, String)]| {
        for (_, role) in people {
            match role.as_str() {
                "father" => report.fathers += 1,
                _ => report.others += 1,
            }
        }
    };
    // A look without the write turn first: after the first pass there is nobody left.
    let mut read = db::begin_read(pool).await?;
    let everyone = maintenance::programme_people(&mut read, &keep, i64::MAX).await?;
    read.commit().await?;
    if dry_run || everyone.is_empty() {
        count(&mut report, &everyone);
        return Ok(Some(report));
    }
    loop {
        let mut tx = db::begin_write(pool).await?;
        let batch = maintenance::programme_people(&mut tx, &keep, PURGE_BATCH as i64).await?;
        if batch.is_empty() {
            break;
        }
        for (user, _) in &batch {
            db::erase_user(&mut tx, *user).await?;
        }
        let mut this = ProgrammePurge::default();
        count(&mut this, &batch);
        let detail = format!(
            "programme ended {}: {} father(s) and {} other(s) erased",
            content.programme_ends, this.fathers, this.others
        );
        audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
        tx.commit().await?;
        log::info!("retention: {detail}");
        report.fathers += this.fathers;
        report.others += this.others;
        if batch.len() < PURGE_BATCH {
            break;
        }
    }
    Ok(Some(report))
}

/// People who are never erased for not having registered: coordinators and the peer groups' facilitators
/// (the database's lists, and the shipped file's before it seeds them).
pub async fn never_unfinished(
    pool: &SqlitePool,
    config: &crate::config::Config,
    content: &Content,
) -> Result<Vec<i64>, DbError> {
    let chosen = crate::db::groups::facilitators(pool).await?;
    let facilitators = content
        .groups
        .iter()
        .flat_map(|g| g.facilitators.iter().filter_map(|f| f.id()));
    Ok(config
        .coordinator_ids
        .iter()
        .copied()
        .chain(facilitators)
        .chain(chosen.into_iter().map(|(_, id)| id))
        .collect())
}

/// Erases (or with `dry_run` only counts) everyone who never registered and has left no trace for `days`
/// (an unfinished registration, a join request, their users row), except `keep`, in transactions of
/// `PURGE_BATCH` people read under the write turn (someone who writes meanwhile is kept), each in the audit
/// log by count. Returns how many.
pub async fn purge_unfinished(
    pool: &SqlitePool,
    keep: &[i64],
    days: u32,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<usize, DbError> {
    let keep = id_list(keep.iter().copied());
    let cutoff = now - Duration::days(i64::from(days));
    let mut read = db::begin_read(pool).await?;
    let everyone = maintenance::unfinished_people(&mut read, cutoff, &keep, i64::MAX).await?;
    read.commit().await?;
    if dry_run || everyone.is_empty() {
        return Ok(everyone.len());
    }
    let mut erased = 0;
    loop {
        let mut tx = db::begin_write(pool).await?;
        let batch =
            maintenance::unfinished_people(&mut tx, cutoff, &keep, PURGE_BATCH as i64).await?;
        if batch.is_empty() {
            break;
        }
        for &user in &batch {
            db::erase_user(&mut tx, user).await?;
        }
        let detail = format!(
            "never registered, no message for {days} days: {} person(s) erased",
            batch.len()
        );
        audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
        tx.commit().await?;
        log::info!("retention: {detail}");
        erased += batch.len();
        if batch.len() < PURGE_BATCH {
            break;
        }
    }
    Ok(erased)
}

/// When the programme-end or unfinished-registration rules next have something to do after `now`.
pub async fn next_other_due(
    pool: &SqlitePool,
    content: &Content,
    tz: Tz,
    keep: &[i64],
    days: u32,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let span = Duration::days(i64::from(days));
    let unfinished =
        maintenance::oldest_unfinished_after(pool, now - span, &id_list(keep.iter().copied()))
            .await?
            .map(|t| t + span);
    let programme = Some(content.programme_over_at(tz)).filter(|at| *at > now);
    Ok(unfinished.into_iter().chain(programme).min())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enrolment::{Enrolment, EnrolmentStatus};
    use chrono::TimeZone;

    async fn enrol(pool: &SqlitePool, user: i64, series: &str, at: DateTime<Utc>) {
        let mut tx = db::begin_write(pool).await.unwrap();
        crate::db::users::touch(&mut tx, user, user, crate::domain::Lang::Fi, at)
            .await
            .unwrap();
        let enrolment = Enrolment {
            telegram_user_id: user,
            series_id: series.into(),
            status: EnrolmentStatus::Enrolled,
            offered_until: None,
            queued_at: at,
        };
        crate::db::programme::put_enrolment(&mut tx, &enrolment, at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// A series larger than one batch is erased in several short transactions, each in the audit log, and
    /// someone who still has a series running is kept.
    #[tokio::test]
    async fn a_large_series_goes_in_batches_and_keeps_whoever_still_has_a_series() {
        let (pool, _dir) = crate::db::temp_pool().await;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialogues");
        let content = crate::content::load(&root).unwrap();
        let tz = chrono_tz::Europe::Helsinki;
        // Oulu's data is due to go 13.6.2024 9.00 UTC, Rovaniemi's a day later.
        let now = Utc.with_ymd_and_hms(2024, 6, 13, 12, 0, 0).unwrap();
        let people = 2 * PURGE_BATCH as i64 + 20;
        for user in 1..=people {
            enrol(&pool, user, "oulu-2024", now).await;
        }
        enrol(&pool, 7, "rovaniemi-2024", now).await;

        let dry = purge(&pool, &content, tz, 30, now, true).await.unwrap();
        assert_eq!(dry[0].erased.len() as i64, people - 1);
        assert_eq!(dry[0].kept, vec![7]);

        let done = purge(&pool, &content, tz, 30, now, false).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].erased.len() as i64, people - 1);
        assert!(!done[0].erased.contains(&7));
        assert_eq!(done[0].kept, vec![7]);
        let mut read = db::begin_read(&pool).await.unwrap();
        let left = maintenance::people_of_series(&mut read, "oulu-2024")
            .await
            .unwrap();
        read.commit().await.unwrap();
        assert_eq!(
            left,
            vec![(7, vec!["oulu-2024".into(), "rovaniemi-2024".into()])]
        );
        let audit = audit::details(&pool, "retention purge").await;
        let counts: Vec<String> = [PURGE_BATCH, PURGE_BATCH, 19]
            .iter()
            .map(|n| format!("series oulu-2024 ended 30 days ago: {n} participant(s) erased"))
            .collect();
        assert_eq!(audit, counts);
    }
}
