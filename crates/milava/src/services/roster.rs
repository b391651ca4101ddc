//! The console's attendance matrix of a series (people × sessions), ticked through the same service as the
//! chat's buttons (`attendance::set`); who qualifies for the certificate by the series' rule; issuing it
//! through the outbox as the scheduler does (`certificates::queue`); and the matrix as a spreadsheet.
use super::{Ctx, attendance, certificates};
use crate::content::Content;
use crate::db::programme::{self as store, Member};
use crate::db::{self, DbError, audit, outbox, participants};
use crate::documents::DocumentError;
use crate::documents::table::{self, Cell, Table};
use crate::domain::Lang;
use crate::domain::programme::{Series, Session};
use std::collections::BTreeMap;

/// One person's line of the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterRow {
    pub telegram_user_id: i64,
    pub name: String,
    pub organisation: Option<String>,
    /// Present at each session of `Roster::sessions`, in that order.
    pub present: Vec<bool>,
    pub attended: usize,
    pub qualifies: bool,
    /// A certificate has been queued for them (by the scheduler or the console).
    pub issued: bool,
}

/// A series' matrix: its sessions in time order and everyone enrolled (or marked at one of its sessions).
#[derive(Clone, Debug)]
pub struct Roster {
    pub series: Series,
    pub sessions: Vec<Session>,
    pub required: usize,
    pub rows: Vec<RosterRow>,
}

fn certificate_key(series: &str, user: i64) -> String {
    crate::domain::outbox::OutboxKey::Certificate {
        series: series.to_string(),
        user,
        email: false,
    }
    .encode()
}

/// The matrix of `series_id`; None if the content has no such series.
pub async fn roster(ctx: &Ctx, series_id: &str) -> Result<Option<Roster>, DbError> {
    let content = ctx.content.get();
    let Some(series) = content.series(series_id).cloned() else {
        return Ok(None);
    };
    let sessions: Vec<Session> = series.sessions_in_order().into_iter().cloned().collect();
    let mut people: BTreeMap<i64, RosterRow> = BTreeMap::new();
    let mut tx = db::begin_read(&ctx.pool).await?;
    for (i, session) in sessions.iter().enumerate() {
        for row in store::attendance_list(&mut tx, &series.id, &session.id).await? {
            let line = people.entry(row.telegram_user_id).or_insert(RosterRow {
                telegram_user_id: row.telegram_user_id,
                name: row.name,
                organisation: row.organisation,
                present: vec![false; sessions.len()],
                attended: 0,
                qualifies: false,
                issued: false,
            });
            line.present[i] = row.marked_at.is_some();
        }
    }
    tx.commit().await?;
    let issued = outbox::keys_under(&ctx.pool, &format!("certificate:{}:", series.id)).await?;
    let required = series.required_sessions();
    let mut rows: Vec<RosterRow> = people
        .into_values()
        .map(|mut row| {
            row.attended = row.present.iter().filter(|p| **p).count();
            row.qualifies = row.attended >= required;
            row.issued = issued.contains(&certificate_key(&series.id, row.telegram_user_id));
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.name.to_lowercase(), a.telegram_user_id)
            .cmp(&(b.name.to_lowercase(), b.telegram_user_id))
    });
    Ok(Some(Roster {
        series,
        sessions,
        required,
        rows,
    }))
}

/// Marks `user` present or absent at `session_id` of `series_id` for `coordinator` (audited). None if that
/// session is not in the series or the person is not on its list.
pub async fn set_attendance(
    ctx: &Ctx,
    series_id: &str,
    session_id: &str,
    user: i64,
    present: bool,
    coordinator: i64,
) -> Result<Option<bool>, DbError> {
    let content = ctx.content.get();
    if content
        .session(session_id)
        .is_none_or(|(series, _)| series.id != series_id)
    {
        return Ok(None);
    }
    let mut tx = db::begin_write(&ctx.pool).await?;
    let done = attendance::set(
        &mut tx,
        series_id,
        session_id,
        user,
        Some(present),
        coordinator,
        ctx.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// What issuing a certificate did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issued {
    /// Queued for the first time.
    Issued,
    /// Queued again (one had been queued before).
    Reissued,
    /// They do not qualify (or are not enrolled in the series).
    NotQualified,
}

/// Issues (or issues again) `user`'s certificate of `series_id` through the outbox, the same way the
/// scheduler does after the series, with an audit line naming `coordinator`.
pub async fn issue(
    ctx: &Ctx,
    series_id: &str,
    user: i64,
    coordinator: i64,
) -> Result<Option<Issued>, DbError> {
    let content = ctx.content.get();
    let Some(series) = content.series(series_id).cloned() else {
        return Ok(None);
    };
    let member: Option<Member> = store::members(&ctx.pool, series_id)
        .await?
        .into_iter()
        .find(|m| m.telegram_user_id == user);
    let Some(member) = member else {
        return Ok(Some(Issued::NotQualified));
    };
    let mut read = db::begin_read(&ctx.pool).await?;
    let ids: Vec<String> = certificates::attended(&mut read, &series, user)
        .await?
        .into_iter()
        .map(|s| s.id.clone())
        .collect();
    read.commit().await?;
    let tz = ctx.config.timezone;
    let now = ctx.clock.now();
    // The PDF takes CPU time: made off the async workers, before the write transaction.
    let made = {
        let (content, series, member) = (content.clone(), series.clone(), member.clone());
        tokio::task::spawn_blocking(move || {
            let sessions: Vec<&Session> = series
                .sessions_in_order()
                .into_iter()
                .filter(|s| ids.contains(&s.id))
                .collect();
            certificates::document(
                &content,
                member.language,
                &member.name,
                &series,
                &sessions,
                now,
                tz,
            )
        })
        .await
        .unwrap_or_else(|e| {
            log::error!("a certificate of series {series_id} could not be made: {e}");
            None
        })
    };
    let Some(doc) = made else {
        return Ok(Some(Issued::NotQualified));
    };
    let email = ctx.config.email_on();
    let mut tx = db::begin_write(&ctx.pool).await?;
    let mut outcome = Issued::Issued;
    if !certificates::queue(
        &mut tx,
        &content,
        &series,
        &member,
        doc.clone(),
        None,
        now,
        email,
    )
    .await?
    {
        outcome = Issued::Reissued;
        let again = Some(now);
        certificates::queue(&mut tx, &content, &series, &member, doc, again, now, email).await?;
    }
    let person = match participants::row_id(&mut tx, user).await? {
        Some(row) => format!("participant #{row}"),
        None => "a person not registered".to_string(),
    };
    let action = match outcome {
        Issued::Reissued => "certificate_reissued",
        _ => "certificate_issued",
    };
    audit::record(
        &mut tx,
        coordinator,
        action,
        &format!("{series_id} {person}"),
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.outbox.wake();
    Ok(Some(outcome))
}

/// The matrix as an `.xlsx` workbook, headers in `lang`: Telegram id, name, organisation, one column per
/// session (1 = present), sessions attended, qualifies.
pub fn roster_xlsx(
    content: &Content,
    lang: Lang,
    roster: &Roster,
) -> Result<Vec<u8>, DocumentError> {
    let t = |key: &str| content.text(lang, key).to_string();
    let mut headers = vec![
        t("participants_csv.telegram_user_id"),
        t("participants_csv.name"),
        t("participants_csv.organisation"),
    ];
    headers.extend(
        roster
            .sessions
            .iter()
            .map(|s| format!("{} {}", s.start.format("%-d.%-m."), s.title.get(lang))),
    );
    headers.push(t("console.attendance.attended"));
    headers.push(t("console.attendance.qualifies"));
    let yes_no = [t("participants_csv.yes"), t("participants_csv.no")];
    let rows = roster
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                Cell::Number(r.telegram_user_id),
                Cell::Text(r.name.clone()),
                Cell::Text(r.organisation.clone().unwrap_or_default()),
            ];
            cells.extend(
                r.present
                    .iter()
                    .map(|p| if *p { Cell::Number(1) } else { Cell::Empty }),
            );
            cells.push(Cell::Number(r.attended as i64));
            cells.push(Cell::Text(yes_no[usize::from(!r.qualifies)].clone()));
            cells
        })
        .collect();
    table::xlsx(&roster.series.id, Table { headers, rows })
}
