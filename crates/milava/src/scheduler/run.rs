//! The scheduler: turns the programme and the time into outbox rows — reminders and check-in prompts (planned
//! `plan::HORIZON` ahead), notices about changed sessions, waitlist offers that ran out, and certificates after
//! a series ends, survey invitations (`surveys`) — and erases participants' data once a series' retention
//! time is over. `run_once(now)` does one pass and says when the next is needed; `spawn` sleeps until then on
//! the injected clock, or until woken early (a registration, `/reload`, `/reminders`).
//!
//! Catch-up after downtime: a reminder whose session has not started is still sent, late; one whose session
//! has begun is not planned any more, and a row already in the outbox expires at the session start (the
//! delivery worker skips it and logs it).
use super::plan::{self, Planned, PlannedKind, Wants};
use crate::content::Content;
use crate::db::outbox::{self, NewDelivery};
use crate::db::programme::{self as store, Member};
use crate::db::{self, DbError};
use crate::domain::enrolment::EnrolmentStatus;
use crate::domain::outbox::{OutboxKey, Payload, SessionItem, Status};
use crate::domain::programme::Series;
use crate::domain::{Button, CallbackData, Lang, Reply};
use crate::services::changes::{self, Change};
use crate::services::{Ctx, programme};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Outbox rows written per transaction when planning, at most: 500 held the write lock (and replies) for over
/// 100 ms on a slow day. A transaction also ends once it has held the turn for `db::BACKGROUND_SLICE`.
const PLAN_BATCH: usize = 200;
/// Change notices queued per transaction, at most (and never longer than `db::BACKGROUND_SLICE`).
const NOTICE_BATCH: usize = 200;

/// What one pass did (for logs, tests and the benchmark).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub planned: usize,
    pub withdrawn: usize,
    pub notices: usize,
    pub offers_expired: usize,
    pub certificates: usize,
    /// People whose data was erased by the retention rules (a series ended long enough ago, the programme
    /// is over, a registration never finished).
    pub purged: usize,
    pub survey_invitations: usize,
    /// Peer-group prompts and coaching steps queued.
    pub prompts: usize,
    pub coaching_steps: usize,
    /// When the next pass is needed, if ever.
    pub next_run: Option<DateTime<Utc>>,
}

/// What the scheduler task carries from one pass to the next, so that a pass woken by a registration (many a
/// second at busy times) does not repeat work that only time can change.
#[derive(Default)]
pub struct Memory {
    unfinished: Option<Quiet>,
}

/// Nobody can be due under the unfinished-registration rule before `until` (checked with `content`).
struct Quiet {
    content: Arc<Content>,
    until: DateTime<Utc>,
}

impl Memory {
    /// Until when the unfinished-registration rule needs no look, if the last look still holds.
    fn unfinished_quiet_until(
        &self,
        content: &Arc<Content>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.unfinished
            .as_ref()
            .filter(|quiet| Arc::ptr_eq(&quiet.content, content) && now < quiet.until)
            .map(|quiet| quiet.until)
    }
}

/// One pass on its own (tools, tests, `bench plan`): everything is looked at.
pub async fn run_once(ctx: &Ctx, now: DateTime<Utc>) -> Result<PassReport, DbError> {
    run_pass(ctx, now, &mut Memory::default()).await
}

/// One pass of the scheduler task, which keeps `memory` between passes.
pub async fn run_pass(
    ctx: &Ctx,
    now: DateTime<Utc>,
    memory: &mut Memory,
) -> Result<PassReport, DbError> {
    let content = ctx.content.get();
    let tz = ctx.config.timezone;
    crate::services::groups::seed_facilitators(&ctx.pool, &content, now).await?;
    let mut report = PassReport {
        notices: announce_changes(&ctx.pool, &content, tz, now).await?,
        offers_expired: crate::services::waitlist::expire_offers(&ctx.pool, &content, tz, now)
            .await?,
        survey_invitations: super::surveys::plan(&ctx.pool, &content, tz, now).await?,
        ..Default::default()
    };
    for series in &content.series {
        let members = store::members(&ctx.pool, &series.id).await?;
        let (planned, withdrawn) = plan_series(
            &ctx.pool,
            &content,
            tz,
            series,
            &members,
            now,
            ctx.config.email_on(),
        )
        .await?;
        report.planned += planned;
        report.withdrawn += withdrawn;
        report.certificates += super::certificates::send_if_due(
            &ctx.pool,
            &content,
            tz,
            series,
            &members,
            now,
            ctx.config.email_on(),
        )
        .await?;
    }
    let days = ctx.config.personal_data_retention_days;
    report.purged = crate::services::retention::purge(&ctx.pool, &content, tz, days, now, false)
        .await?
        .iter()
        .map(|series| series.erased.len())
        .sum::<usize>();
    let coordinators = &ctx.config.coordinator_ids;
    let retention = crate::services::retention::purge_programme_end;
    if let Some(done) = retention(&ctx.pool, &content, tz, coordinators, now, false).await? {
        report.purged += done.fathers + done.others;
    }
    // People who never registered become due only as time passes: someone who writes now is due `days`
    // from now, after whoever was due already. So once a look has found the earliest due, nobody is due
    // before it, and passes until then (woken by registrations, many a second at busy times) skip two
    // queries that read every user. New content (`/reload`) looks again; so does every pass while nobody
    // is waiting to be due (as before: no wake-up of its own then).
    let unfinished_due = match memory.unfinished_quiet_until(&content, now) {
        Some(until) => Some(until),
        None => {
            let keep =
                crate::services::retention::never_unfinished(&ctx.pool, &ctx.config, &content)
                    .await?;
            let days = ctx.config.unfinished_retention_days;
            let retention = crate::services::retention::purge_unfinished;
            report.purged += retention(&ctx.pool, &keep, days, now, false).await?;
            let next = crate::services::retention::next_unfinished_due(&ctx.pool, &keep, days, now)
                .await?;
            memory.unfinished = next.map(|until| Quiet {
                content: content.clone(),
                until,
            });
            next
        }
    };
    let (prompts, steps) = super::groups::plan(ctx, &content, tz, now).await?;
    report.prompts = prompts;
    report.coaching_steps = steps;
    report.next_run = next_run(ctx, &content, tz, now, unfinished_due).await?;
    ctx.outbox.wake();
    Ok(report)
}

async fn next_run(
    ctx: &Ctx,
    content: &Content,
    tz: Tz,
    now: DateTime<Utc>,
    unfinished: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let planning = content
        .series
        .iter()
        .filter_map(|s| plan::next_planning_time(s, &content.reminder_offsets, tz, now));
    let certificates = content
        .series
        .iter()
        .filter_map(|s| super::certificates::due(content, tz, s))
        .filter(|due| *due > now);
    let offers = store::next_offer_expiry(&ctx.pool, now)
        .await?
        .filter(|t| *t > now);
    let retention = crate::services::retention::next_due(
        content,
        tz,
        ctx.config.personal_data_retention_days,
        now,
    );
    // Every end date the programme has had can erase those who were told of it.
    let programme_end = content
        .season_extra
        .ends
        .iter()
        .map(|e| crate::content::day_over_at(e.ends, tz))
        .chain(Some(content.programme_over_at(tz)))
        .filter(|at| *at > now)
        .min();
    let others = programme_end.into_iter().chain(unfinished);
    let surveys = super::surveys::next_due(&ctx.pool, content, tz, now).await?;
    let groups = super::groups::next_run(ctx, content, tz).await?;
    Ok(planning
        .chain(certificates)
        .chain(offers)
        .chain(retention)
        .chain(others)
        .chain(surveys)
        .chain(groups)
        .min())
}

fn wants(member: &Member) -> Wants {
    Wants {
        user: member.telegram_user_id,
        reminders: member.reminders_enabled,
        offsets: member.reminder_offsets.clone(),
    }
}

/// Puts the series' due reminders and check-ins into the outbox and withdraws pending ones nobody wants any
/// more (a moved or cancelled session, someone who left or turned reminders off). With `email` on, a
/// reminder of someone who chose reminders by email (`/reminders`) is also an email (key `{reminder}:email`).
async fn plan_series(
    pool: &crate::db::Db,
    content: &Content,
    tz: Tz,
    series: &Series,
    members: &[Member],
    now: DateTime<Utc>,
    email: bool,
) -> Result<(usize, usize), DbError> {
    let wanted: Vec<Wants> = members.iter().map(wants).collect();
    let mut planned = plan::plan(series, &wanted, &content.reminder_offsets, tz, now);
    let by_email: HashSet<i64> = members
        .iter()
        .filter(|m| email && m.email_reminders && m.email.is_some())
        .map(|m| m.telegram_user_id)
        .collect();
    let emails: Vec<Planned> = planned
        .iter()
        .filter(|p| matches!(p.kind, PlannedKind::Reminder(_)) && by_email.contains(&p.user))
        .filter_map(|p| {
            let mut key = p.key.clone();
            match &mut key {
                OutboxKey::Session {
                    item: SessionItem::Reminder { email, .. },
                    ..
                } => *email = true,
                _ => return None,
            }
            Some(Planned { key, ..p.clone() })
        })
        .collect();
    planned.extend(emails);
    let keys: HashSet<String> = planned.iter().map(|p| p.key.encode()).collect();
    // Most of what is planned is already in the outbox from earlier passes (pending or sent): those keys are
    // read once per session, so a pass writes only what is new (not one insert attempt per row in the horizon).
    // A row withdrawn earlier (`cancelled`, never sent) and planned again is put back to wait. Only the
    // scheduler writes these keys, so reading them before taking the write lock is safe.
    let mut read = crate::db::begin_read(pool).await?;
    let mut existing: HashMap<String, Status> = HashMap::new();
    let sessions: HashSet<&str> = planned.iter().map(|p| p.session_id.as_str()).collect();
    for session in sessions {
        existing.extend(
            outbox::statuses_with_prefix(&mut read, &plan::session_prefix(series, session)).await?,
        );
    }
    let pending = outbox::pending_with_prefix(&mut read, &plan::series_prefix(series)).await?;
    read.commit().await?;

    // The withdrawals, then what is new in batches of short transactions, so that a large series does not
    // hold the write lock (and users' replies) for long. Anything that changes meanwhile (someone leaves)
    // rings the scheduler, and the next pass withdraws what is no longer wanted.
    let unwanted: Vec<i64> = pending
        .into_iter()
        .filter(|(_, key)| !keys.contains(key))
        .map(|(id, _)| id)
        .collect();
    let mut withdrawn = 0;
    let mut slices = db::Slices::new(pool, PLAN_BATCH);
    for &id in &unwanted {
        if outbox::cancel(slices.next().await?, id, "no longer planned").await? {
            withdrawn += 1;
        }
    }
    let by_user: HashMap<i64, &Member> = members.iter().map(|m| (m.telegram_user_id, m)).collect();
    let new: Vec<(&Planned, bool)> = planned
        .iter()
        .filter_map(|item| match existing.get(&item.key.encode()) {
            None => Some((item, false)),
            Some(Status::Cancelled) => Some((item, true)),
            Some(_) => None,
        })
        .collect();
    let mut added = 0;
    for &(item, withdrawn_before) in &new {
        let Some(member) = by_user.get(&item.user) else {
            continue;
        };
        let mut payload = payload(content, series, item, member.language);
        if let OutboxKey::Session {
            item: SessionItem::Reminder { email: true, .. },
            ..
        } = item.key
        {
            let Some(to) = member.email.as_deref() else {
                continue;
            };
            payload = email_reminder(content, series, item, member.language, to, payload);
        }
        let delivery = NewDelivery::new(item.key.clone(), member.chat_id, payload, now)
            .for_user(member.telegram_user_id)
            .due_at(item.due_at)
            .expires_at(item.expires_at);
        let tx = slices.next().await?;
        let put = if withdrawn_before {
            outbox::revive(tx, &delivery).await?
        } else {
            outbox::enqueue(tx, &delivery).await?
        };
        if put {
            added += 1;
        }
    }
    slices.finish().await?;
    Ok((added, withdrawn))
}

/// A reminder's chat text as an email: the subject names the session, the body is the reminder and a line on
/// how to stop these emails.
fn email_reminder(
    content: &Content,
    series: &Series,
    item: &Planned,
    lang: Lang,
    to: &str,
    chat: Payload,
) -> Payload {
    let text = match chat {
        Payload::Telegram(Reply::Text { text, .. }) => text,
        _ => String::new(),
    };
    let title = series
        .sessions
        .iter()
        .find(|s| s.id == item.session_id)
        .map(|s| s.title.get(lang))
        .unwrap_or_default();
    Payload::email(
        to,
        lang,
        content.fill(lang, "email.reminder.subject", &[("title", title)]),
        content.fill(lang, "email.reminder.body", &[("reminder", &text)]),
        None,
    )
}

fn payload(content: &Content, series: &Series, item: &Planned, lang: Lang) -> Payload {
    let Some(session) = series.sessions.iter().find(|s| s.id == item.session_id) else {
        return Payload::text(String::new());
    };
    let described = programme::describe(content, lang, session);
    match &item.kind {
        PlannedKind::Reminder(offset) => {
            let key = match offset {
                crate::domain::reminders::ReminderOffset::DayBefore(_) => "reminders.day_before",
                crate::domain::reminders::ReminderOffset::Before(_) => "reminders.before",
            };
            let start = match lang {
                Lang::Fi => session.start.format("%-H.%M").to_string(),
                Lang::En => session.start.format("%-H:%M").to_string(),
            };
            let text = content.fill(lang, key, &[("session", &described), ("start", &start)]);
            let calendar = Button::callback(
                content.text(lang, "button.programme.add_to_calendar"),
                CallbackData::Calendar {
                    session: session.id.clone(),
                }
                .encode(),
            );
            Payload::with_buttons(text, vec![vec![calendar]])
        }
        PlannedKind::CheckIn => {
            let text = content.fill(
                lang,
                "checkin.prompt",
                &[("title", session.title.get(lang))],
            );
            let button = Button::callback(
                content.text(lang, "button.programme.check_in"),
                CallbackData::CheckIn {
                    session: session.id.clone(),
                }
                .encode(),
            );
            Payload::with_buttons(text, vec![vec![button]])
        }
    }
}

/// One notice per changed session to everyone enrolled in its series; then the snapshot is brought up to date.
/// The first pass on an empty snapshot table only records the programme. The notices go in short
/// transactions (`db::Slices`); a crash between them only means the next pass sees the same change again
/// and queues what is missing (each notice's key names the change and the person).
async fn announce_changes(
    pool: &crate::db::Db,
    content: &Content,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    // Only the scheduler writes the snapshots, so reading them outside the write turn is safe.
    let mut read = db::begin_read(pool).await?;
    let before = store::snapshots(&mut read).await?;
    read.commit().await?;
    let after = changes::current(content, tz);
    let mut notices = 0;
    let mut slices = db::Slices::new(pool, NOTICE_BATCH);
    for change in changes::diff(&before, &after) {
        let (series_id, session_id) = match &change {
            Change::Cancelled { snapshot } => {
                (snapshot.series_id.clone(), snapshot.session_id.clone())
            }
            Change::Moved { session_id, .. }
            | Change::Link { session_id }
            | Change::Place { session_id } => match content.session(session_id) {
                Some((series, _)) => (series.id.clone(), session_id.clone()),
                None => continue,
            },
        };
        let change_id = changes::change_id(&change, &after);
        let mut read = db::begin_read(pool).await?;
        let recipients = store::enrolled_recipients(&mut read, &series_id).await?;
        read.commit().await?;
        for (user, chat_id, lang) in recipients {
            let Some(text) = notice_text(content, tz, &change, lang) else {
                continue;
            };
            let key = OutboxKey::Change {
                session: session_id.clone(),
                kind: change_kind(&change).to_string(),
                change: change_id.clone(),
                user,
            };
            // A moved session's notice carries the calendar button, so the new time is one tap away.
            let payload = match &change {
                Change::Moved { .. } => Payload::with_buttons(
                    text,
                    vec![vec![Button::callback(
                        content.text(lang, "button.programme.add_to_calendar"),
                        CallbackData::Calendar {
                            session: session_id.clone(),
                        }
                        .encode(),
                    )]],
                ),
                _ => Payload::text(text),
            };
            let delivery = NewDelivery::new(key, chat_id, payload, now).for_user(user);
            let tx = slices.next().await?;
            // Someone who left the series or was erased (`/forget`) since the list was read gets nothing.
            let enrolled = store::enrolment_of(tx, user, &series_id)
                .await?
                .is_some_and(|e| e.status == EnrolmentStatus::Enrolled);
            if enrolled && outbox::enqueue(tx, &delivery).await? {
                notices += 1;
            }
        }
        log::info!("programme change: {change:?}");
    }
    // Only what changed is written: most passes take no write turn here at all.
    for snapshot in after.iter().filter(|a| !before.contains(a)) {
        store::put_snapshot(slices.next().await?, snapshot).await?;
    }
    for old in before
        .iter()
        .filter(|b| !after.iter().any(|a| a.session_id == b.session_id))
    {
        store::delete_snapshot(slices.next().await?, &old.session_id).await?;
    }
    slices.finish().await?;
    Ok(notices)
}

fn change_kind(change: &Change) -> &'static str {
    match change {
        Change::Moved { .. } => "moved",
        Change::Cancelled { .. } => "cancelled",
        Change::Link { .. } => "link",
        Change::Place { .. } => "place",
    }
}

fn notice_text(content: &Content, tz: Tz, change: &Change, lang: Lang) -> Option<String> {
    match change {
        Change::Cancelled { snapshot } => {
            let session = told(tz, snapshot);
            let title = session.title.get(lang).to_string();
            Some(content.fill(
                lang,
                "changes.cancelled",
                &[
                    ("title", &title),
                    ("when", &programme::when(content, lang, &session)),
                ],
            ))
        }
        Change::Moved { session_id, before } => {
            let (_, session) = content.session(session_id)?;
            Some(content.fill(
                lang,
                "changes.moved",
                &[
                    ("title", session.title.get(lang)),
                    ("old", &programme::when(content, lang, &told(tz, before))),
                    ("when", &programme::when(content, lang, session)),
                ],
            ))
        }
        Change::Link { session_id } => {
            let (_, session) = content.session(session_id)?;
            Some(content.fill(
                lang,
                "changes.link",
                &[
                    ("title", session.title.get(lang)),
                    ("link", session.link.as_deref()?),
                ],
            ))
        }
        Change::Place { session_id } => {
            let (_, session) = content.session(session_id)?;
            let place = session.place.as_ref()?.get(lang);
            Some(content.fill(
                lang,
                "changes.place",
                &[("title", session.title.get(lang)), ("place", place)],
            ))
        }
    }
}

/// A session as participants were last told of it (its snapshot), for the time in a notice.
fn told(tz: Tz, snapshot: &crate::db::programme::Snapshot) -> crate::domain::programme::Session {
    crate::domain::programme::Session {
        id: snapshot.session_id.clone(),
        start: crate::domain::time::utc_to_local(tz, snapshot.starts_at),
        end: crate::domain::time::utc_to_local(tz, snapshot.ends_at),
        place: None,
        online: snapshot.online,
        link: None,
        title: serde_json::from_str(&snapshot.title).unwrap_or_default(),
        theme: None,
    }
}
