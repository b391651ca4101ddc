//! Retention, as the privacy notice promises:
//! - the personal data of a workshop series' participants is erased `PERSONAL_DATA_RETENTION_DAYS` after the
//!   series' last session; someone who also belongs to a series that is not that far past yet is kept until
//!   that one is;
//! - fathers and others (everything of theirs) are erased when the programme is over (its end is in the
//!   database, `season`); someone who consented while an earlier end was stated is erased when that end is
//!   over, even if coordinators have moved the end later since (`domain::season::end_erasure`); coordinators
//!   never;
//! - people who never registered (an unfinished registration, a join request, the language they chose) are
//!   erased `UNFINISHED_RETENTION_DAYS` after they last wrote; coordinators and facilitators never.
//!
//! The scheduler purges when due; `milava-bot purge --dry-run` shows what would go now.
use crate::content::Content;
use crate::db::{self, DbError, audit, maintenance};
use crate::domain::programme::Series;
use crate::domain::season::{EndErasure, end_erasure};
use crate::domain::time::local_to_utc;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;

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

/// People erased per transaction at most, so that a large series does not hold the write lock (and everyone's
/// replies) for long: erasing a person is a delete in every personal table. A transaction also ends once it
/// has held the turn for `db::BACKGROUND_SLICE` (`db::Slice`), whatever its count.
const PURGE_BATCH: usize = 50;

/// Erases (or with `dry_run` only lists) the people of every series past its retention time, in transactions
/// of at most `PURGE_BATCH` people and `db::BACKGROUND_SLICE`, each recorded in the audit log by counts (never
/// names). Each person's series are read again under the write turn before they are erased, so someone who
/// enrols in a new series meanwhile is kept.
pub async fn purge(
    pool: &crate::db::Db,
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
            let mut rest = &going[..];
            while !rest.is_empty() {
                let mut tx = db::begin_write(pool).await?;
                let slice = db::Slice::start(PURGE_BATCH);
                let mut done = 0;
                let mut erased = Vec::new();
                while done < rest.len() && !slice.full(done) {
                    let user = rest[done];
                    done += 1;
                    // Read again under the turn: they may have enrolled elsewhere meanwhile.
                    let theirs = maintenance::series_of_person(&mut tx, user).await?;
                    if theirs.iter().all(|s| over(s)) {
                        db::erase_user(&mut tx, user).await?;
                        erased.push(user);
                    } else {
                        item.kept.push(user);
                    }
                }
                let detail = format!(
                    "series {} ended {days} days ago: {} participant(s) erased",
                    series.id,
                    erased.len()
                );
                if !erased.is_empty() {
                    audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
                }
                tx.commit().await?;
                item.erased.extend(erased);
                rest = &rest[done..];
            }
            // One line per series, not per transaction (thousands in a big purge).
            if !item.erased.is_empty() {
                log::info!(
                    "retention: series {} ended {days} days ago: {} participant(s) erased",
                    series.id,
                    item.erased.len()
                );
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
/// transactions of at most `PURGE_BATCH` people and `db::BACKGROUND_SLICE`, each in the audit log by counts;
/// `coordinators` are never erased.
/// None while the programme is not over.
pub async fn purge_programme_end(
    pool: &crate::db::Db,
    content: &Content,
    tz: Tz,
    coordinators: &std::collections::BTreeSet<i64>,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Option<ProgrammePurge>, DbError> {
    let over = |day: chrono::NaiveDate| crate::content::day_over_at(day, tz) <= now;
    let consented_before = match end_erasure(&content.season_extra.ends, over) {
        // Content without stored end dates (never the running bot's): its own end.
        EndErasure::Nobody
            if content.season_extra.ends.is_empty() && content.programme_over(tz, now) =>
        {
            None
        }
        EndErasure::Nobody => return Ok(None),
        EndErasure::ConsentedBefore(at) => Some(at),
        EndErasure::Everyone => None,
    };
    let ended = match consented_before {
        // The latest end that is over (one those people were told of).
        Some(_) => (content.season_extra.ends.iter())
            .map(|e| e.ends)
            .filter(|day| over(*day))
            .max()
            .unwrap_or(content.programme_ends),
        None => content.programme_ends,
    };
    let keep = id_list(coordinators.iter().copied());
    let mut report = ProgrammePurge {
        ended,
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
    let everyone =
        maintenance::programme_people(&mut read, &keep, consented_before, i64::MAX).await?;
    read.commit().await?;
    if dry_run || everyone.is_empty() {
        count(&mut report, &everyone);
        return Ok(Some(report));
    }
    loop {
        let mut tx = db::begin_write(pool).await?;
        let listed =
            maintenance::programme_people(&mut tx, &keep, consented_before, PURGE_BATCH as i64)
                .await?;
        // Counted from here, so a slow listing still leaves a slice's time for erasing.
        let slice = db::Slice::start(PURGE_BATCH);
        if listed.is_empty() {
            break;
        }
        let mut done = 0;
        while done < listed.len() && !slice.full(done) {
            db::erase_user(&mut tx, listed[done].0).await?;
            done += 1;
        }
        let batch = &listed[..done];
        let mut this = ProgrammePurge::default();
        count(&mut this, batch);
        let detail = format!(
            "programme ended {ended}: {} father(s) and {} other(s) erased",
            this.fathers, this.others
        );
        audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
        tx.commit().await?;
        log::info!("retention: {detail}");
        report.fathers += this.fathers;
        report.others += this.others;
        if listed.len() < PURGE_BATCH && done == listed.len() {
            break;
        }
    }
    Ok(Some(report))
}

/// People who are never erased for not having registered: coordinators and the peer groups' facilitators
/// (the database's lists, and the shipped file's before it seeds them).
pub async fn never_unfinished(
    pool: &crate::db::Db,
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
/// (an unfinished registration, a join request, their users row), except `keep`, in transactions of at most
/// `PURGE_BATCH` people and `db::BACKGROUND_SLICE`, read under the write turn (someone who writes meanwhile is
/// kept), each in the audit log by count. Returns how many.
pub async fn purge_unfinished(
    pool: &crate::db::Db,
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
        let listed =
            maintenance::unfinished_people(&mut tx, cutoff, &keep, PURGE_BATCH as i64).await?;
        // Counted from here, so a slow listing still leaves a slice's time for erasing.
        let slice = db::Slice::start(PURGE_BATCH);
        if listed.is_empty() {
            break;
        }
        let mut done = 0;
        while done < listed.len() && !slice.full(done) {
            db::erase_user(&mut tx, listed[done]).await?;
            done += 1;
        }
        let batch = &listed[..done];
        let detail = format!(
            "never registered, no message for {days} days: {} person(s) erased",
            batch.len()
        );
        audit::record(&mut tx, 0, "retention purge", &detail, now).await?;
        tx.commit().await?;
        log::info!("retention: {detail}");
        erased += batch.len();
        if listed.len() < PURGE_BATCH && done == listed.len() {
            break;
        }
    }
    Ok(erased)
}

/// When the unfinished-registration rule next has something to do after `now` (as far as is known now).
pub async fn next_unfinished_due(
    pool: &crate::db::Db,
    keep: &[i64],
    days: u32,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let span = Duration::days(i64::from(days));
    Ok(
        maintenance::oldest_unfinished_after(pool, now - span, &id_list(keep.iter().copied()))
            .await?
            .map(|t| t + span),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enrolment::{Enrolment, EnrolmentStatus};
    use chrono::TimeZone;

    async fn enrol(pool: &crate::db::Db, user: i64, series: &str, at: DateTime<Utc>) {
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
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/dialogues");
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
        // One audit line per transaction: at most PURGE_BATCH each (fewer when a transaction ran out of
        // time), so at least three.
        let audit = audit::details(&pool, "retention purge").await;
        let counts: Vec<usize> = audit
            .iter()
            .map(|line| {
                line.strip_prefix("series oulu-2024 ended 30 days ago: ")
                    .and_then(|rest| rest.strip_suffix(" participant(s) erased"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("unexpected audit line {line:?}"))
            })
            .collect();
        assert!(counts.len() >= 3, "{audit:?}");
        assert!(
            counts.iter().all(|n| (1..=PURGE_BATCH).contains(n)),
            "{audit:?}"
        );
        assert_eq!(counts.iter().sum::<usize>() as i64, people - 1);
    }
}
