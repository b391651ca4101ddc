//! One-to-one digital coaching: a weekly step (a short text and one reflection question) in private chat on
//! the weekday and local time the father picks (`/coaching` changes, pauses, resumes or stops it). His
//! answers are his journal (`journal.rs`).
use super::{Effects, Turn};
use crate::content::Content;
use crate::db::coaching::{self as store, Coaching, CoachingStatus};
use crate::db::outbox::{self, NewDelivery};
use crate::db::{DbError, Tx, participants};
use crate::domain::callback::CoachingAction;
use crate::domain::outbox::{OutboxKey, Payload};
use crate::domain::schedule::LocalSchedule;
use crate::domain::{Button, CallbackData, Lang, Participant, Reply, Role};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Local times offered for the weekly step (minutes after midnight).
const TIMES: [u32; 6] = [
    7 * 60,
    12 * 60,
    17 * 60,
    19 * 60,
    20 * 60 + 30,
    21 * 60 + 30,
];

pub(crate) fn schedule(c: &Coaching) -> LocalSchedule {
    LocalSchedule::weekly(c.weekday, c.minute_of_day)
}

fn wants_coaching(p: &Participant) -> bool {
    p.role == Role::Father && matches!(p.wants.as_deref(), Some("coaching" | "both"))
}

pub(super) fn clock(lang: Lang, minute: u32) -> String {
    match lang {
        Lang::Fi => format!("{}.{:02}", minute / 60, minute % 60),
        Lang::En => format!("{}:{:02}", minute / 60, minute % 60),
    }
}

pub(super) fn weekday_name(content: &Content, lang: Lang, day: u32) -> String {
    content
        .text(lang, "coaching.weekdays")
        .split(',')
        .nth(day.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn days_menu(turn: &Turn<'_>) -> Reply {
    let buttons = (1..=7)
        .map(|day| {
            Button::callback(
                weekday_name(&turn.content, turn.lang(), day),
                CallbackData::Coaching(CoachingAction::Day(day)).encode(),
            )
        })
        .collect::<Vec<_>>();
    let rows = buttons.chunks(4).map(|c| c.to_vec()).collect();
    Reply::with_buttons(turn.text("coaching.choose_day"), rows)
}

/// After registration: a father who chose coaching is asked when his weekly step should come.
pub fn after_registration(turn: &Turn<'_>, p: &Participant) -> Effects {
    match wants_coaching(p) {
        true => Effects::reply(days_menu(turn)),
        false => Effects::default(),
    }
}

/// After `/profile` changed his interest to coaching: the weekday question, unless his coaching runs already.
pub(crate) async fn after_profile_change(
    tx: &mut Tx,
    turn: &Turn<'_>,
    p: &Participant,
) -> Result<Effects, DbError> {
    let running = store::get(tx, p.telegram_user_id)
        .await?
        .is_some_and(|c| c.status != CoachingStatus::Stopped);
    Ok(match running {
        true => Effects::default(),
        false => after_registration(turn, p),
    })
}

/// `/coaching`: the current choice with buttons to change, pause, resume or stop; or the weekday menu.
pub async fn menu(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    if participants::get(tx, user).await?.is_none() {
        out.push(Reply::text(turn.text("problem.not_registered")));
        return Ok(out.ask_again());
    }
    match store::get(tx, user)
        .await?
        .filter(|c| c.status != CoachingStatus::Stopped)
    {
        None => out.push(days_menu(turn)),
        Some(c) => out.push(status(turn, &c)),
    }
    Ok(out.ask_again())
}

fn status(turn: &Turn<'_>, c: &Coaching) -> Reply {
    let lang = turn.lang();
    let total = turn.content.coaching.len();
    let when = format!(
        "{} {}",
        weekday_name(&turn.content, lang, c.weekday),
        clock(lang, c.minute_of_day)
    );
    let step = (c.next_step + 1).min(total).to_string();
    let key = match c.status {
        CoachingStatus::Paused => "coaching.status_paused",
        _ if c.next_step >= total => "coaching.status_finished",
        _ => "coaching.status_active",
    };
    let text = turn.fill(
        key,
        &[
            ("when", &when),
            ("step", &step),
            ("total", &total.to_string()),
        ],
    );
    let button = |label: &str, action: CoachingAction| {
        Button::callback(turn.text(label), CallbackData::Coaching(action).encode())
    };
    let pause_or_resume = match c.status {
        CoachingStatus::Paused => button("button.coaching.resume", CoachingAction::Resume),
        _ => button("button.coaching.pause", CoachingAction::Pause),
    };
    Reply::with_buttons(
        text,
        vec![
            vec![button("button.coaching.change", CoachingAction::Change)],
            vec![
                pause_or_resume,
                button("button.coaching.stop", CoachingAction::Stop),
            ],
        ],
    )
}

pub async fn on_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    action: CoachingAction,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    let now = turn.now;
    if participants::get(tx, user).await?.is_none() {
        out.toast = Some(turn.text("problem.not_registered"));
        return Ok(out);
    }
    let current = store::get(tx, user).await?;
    match action {
        CoachingAction::Change => out.push(days_menu(turn)),
        CoachingAction::Day(day) => {
            out.mark_pressed = Some(format!(
                "✅ {}",
                weekday_name(&turn.content, turn.lang(), day)
            ));
            let buttons = TIMES
                .iter()
                .map(|m| {
                    Button::callback(
                        clock(turn.lang(), *m),
                        CallbackData::Coaching(CoachingAction::Time { day, minute: *m }).encode(),
                    )
                })
                .collect::<Vec<_>>();
            let rows = buttons.chunks(3).map(|c| c.to_vec()).collect();
            out.push(Reply::with_buttons(turn.text("coaching.choose_time"), rows));
        }
        CoachingAction::Time { day, minute } => {
            let mut c = current.unwrap_or(Coaching {
                telegram_user_id: user,
                weekday: day,
                minute_of_day: minute,
                status: CoachingStatus::Active,
                next_step: 0,
                open_step: None,
                last_slot: now,
            });
            c.weekday = day;
            c.minute_of_day = minute;
            c.status = CoachingStatus::Active;
            // A new time counts from now: a slot earlier today is not sent late.
            c.last_slot = now;
            store::put(tx, &c, now).await?;
            turn.wake_after_commit();
            out.mark_pressed = Some(format!("✅ {}", clock(turn.lang(), minute)));
            let next = schedule(&c)
                .next_after(turn.tz(), now)
                .map(|at| super::present::local_when(&turn.content, turn.tz(), turn.lang(), at))
                .unwrap_or_default();
            out.push(Reply::text(
                turn.fill("coaching.scheduled", &[("next", &next)]),
            ));
        }
        CoachingAction::Pause | CoachingAction::Resume | CoachingAction::Stop => {
            let Some(mut c) = current.filter(|c| c.status != CoachingStatus::Stopped) else {
                out.toast = Some(turn.text("problem.button_expired"));
                return Ok(out);
            };
            let (status, key) = match action {
                CoachingAction::Pause => (CoachingStatus::Paused, "coaching.paused"),
                CoachingAction::Resume => (CoachingStatus::Active, "coaching.resumed"),
                _ => (CoachingStatus::Stopped, "coaching.stopped"),
            };
            if c.status == CoachingStatus::Paused && status == CoachingStatus::Active {
                // Weeks that passed while paused are not sent late.
                c.last_slot = now;
            }
            c.status = status;
            if status == CoachingStatus::Stopped {
                c.open_step = None;
            }
            store::put(tx, &c, now).await?;
            turn.wake_after_commit();
            out.push(Reply::text(turn.text(key)));
        }
    }
    Ok(out)
}

/// The scheduler's part: if the father's weekly slot has come (and was not handled), his next step goes to the
/// outbox (key `coaching:{user}:{step}`) and its question opens. Slots passing while paused, or missed by more
/// than `CATCH_UP` during downtime, are passed over. Returns whether a step was queued.
pub(crate) async fn send_if_due(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    c: &Coaching,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    const CATCH_UP: chrono::Duration = chrono::Duration::hours(12);
    let Some(slot) = schedule(c).latest_in(tz, c.last_slot, now) else {
        return Ok(false);
    };
    let mut c = c.clone();
    c.last_slot = slot;
    let step = content
        .coaching
        .get(c.next_step)
        .filter(|_| c.status == CoachingStatus::Active && now - slot <= CATCH_UP);
    let Some(step) = step else {
        store::put(tx, &c, now).await?;
        return Ok(false);
    };
    let Some((chat, lang)) = crate::db::programme::recipient(tx, c.telegram_user_id).await? else {
        store::put(tx, &c, now).await?;
        return Ok(false);
    };
    let total = content.coaching.len();
    let text = content.fill(
        lang,
        "coaching.step",
        &[
            ("number", &(c.next_step + 1).to_string()),
            ("total", &total.to_string()),
            ("title", step.title.get(lang)),
            ("text", step.text.get(lang)),
            ("question", step.question.get(lang)),
        ],
    );
    let key = OutboxKey::Coaching {
        user: c.telegram_user_id,
        step: step.id.clone(),
    };
    let delivery = NewDelivery::new(key, chat, Payload::text(text), now)
        .for_user(c.telegram_user_id)
        .due_at(slot);
    let queued = outbox::enqueue(tx, &delivery).await?;
    c.next_step += 1;
    c.open_step = Some(step.id.clone());
    store::put(tx, &c, now).await?;
    Ok(queued)
}

/// When the father's next step is due, if another is to come.
pub(crate) fn next_due(content: &Content, tz: Tz, c: &Coaching) -> Option<DateTime<Utc>> {
    if c.status == CoachingStatus::Stopped
        || (c.status == CoachingStatus::Active && c.next_step >= content.coaching.len())
    {
        return None;
    }
    schedule(c).next_after(tz, c.last_slot)
}
