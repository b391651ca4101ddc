//! The workshop programme for participants: enrolment and waitlist, `/next`, `/schedule`, calendar files,
//! `/reminders`, `/leave`, check-in, and `/certificate`.
use super::{Effects, Turn};
use crate::content::Content;
use crate::db::programme::{self as store};
use crate::db::{DbError, Tx};
use crate::documents::{CalendarEvent, ics};
use crate::domain::callback::ReminderChoice;
use crate::domain::enrolment::{Enrolment, EnrolmentStatus, check_in_open, has_room};
use crate::domain::programme::{Series, Session};
use crate::domain::reminders::ReminderOffset;
use crate::domain::time::utc_to_local;
use crate::domain::{Button, CallbackData, Document, Lang, Reply};
use chrono::{Datelike, NaiveDateTime};

/// "ke 27.3.2024 klo 8.00–12.00" / "Wed 27.3.2024, 8:00–12:00".
pub fn when(content: &Content, lang: Lang, session: &Session) -> String {
    let weekdays: Vec<&str> = content
        .text(lang, "programme.weekdays")
        .split(',')
        .collect();
    let weekday = weekdays
        .get(session.start.weekday().num_days_from_monday() as usize)
        .copied()
        .unwrap_or("");
    let clock = |t: NaiveDateTime| match lang {
        Lang::Fi => t.format("%-H.%M").to_string(),
        Lang::En => t.format("%-H:%M").to_string(),
    };
    content.fill(
        lang,
        "programme.time_range",
        &[
            ("weekday", weekday),
            ("date", &super::present::date(session.start.date())),
            ("start", &clock(session.start)),
            ("end", &clock(session.end)),
        ],
    )
}

/// Where the session is: the place, the join link, or a note that the link comes from the organisers.
pub fn place(content: &Content, lang: Lang, session: &Session) -> String {
    match (&session.place, &session.link) {
        (Some(place), _) => content.fill(lang, "programme.place", &[("place", place.get(lang))]),
        (None, Some(link)) => content.fill(lang, "programme.online_link", &[("link", link)]),
        (None, None) => content.text(lang, "programme.online_no_link").to_string(),
    }
}

/// Title, theme, time and place of a session, in the given language.
pub fn describe(content: &Content, lang: Lang, session: &Session) -> String {
    let theme = session.theme.as_ref().map(|t| t.get(lang)).unwrap_or("");
    let text = content.fill(
        lang,
        "programme.session",
        &[
            ("title", session.title.get(lang)),
            ("theme", theme),
            ("when", &when(content, lang, session)),
            ("where", &place(content, lang, session)),
        ],
    );
    if theme.is_empty() {
        text.replacen(" – \n", "\n", 1)
    } else {
        text
    }
}

/// Enrols a new participant in a series, or puts them on its waitlist when it is full. Returns the line to
/// tell them.
pub async fn enrol(tx: &mut Tx, turn: &Turn<'_>, series: &Series) -> Result<String, DbError> {
    let user = turn.user.telegram_user_id;
    let now = turn.now;
    if let Some(existing) = store::enrolment_of(tx, user, &series.id)
        .await?
        .filter(|e| e.status != EnrolmentStatus::Left)
    {
        return status_line(tx, turn, series, &existing).await;
    }
    let taken = store::places_taken(tx, &series.id).await?;
    let status = if has_room(series.capacity, taken) {
        EnrolmentStatus::Enrolled
    } else {
        EnrolmentStatus::Waitlisted
    };
    let enrolment = Enrolment {
        telegram_user_id: user,
        series_id: series.id.clone(),
        status,
        offered_until: None,
        queued_at: now,
    };
    store::put_enrolment(tx, &enrolment, now).await?;
    turn.wake_after_commit();
    log::info!("user {user}: {} in series {}", status.as_str(), series.id);
    status_line(tx, turn, series, &enrolment).await
}

/// Whether the user waits on the series' waitlist (no place, no reminders).
pub async fn is_waitlisted(tx: &mut Tx, turn: &Turn<'_>, series_id: &str) -> Result<bool, DbError> {
    Ok(
        store::enrolment_of(tx, turn.user.telegram_user_id, series_id)
            .await?
            .is_some_and(|e| e.status == EnrolmentStatus::Waitlisted),
    )
}

/// Whether the user is in the series (with a place, offered one, or waiting), not having left it.
pub async fn is_active_in(tx: &mut Tx, turn: &Turn<'_>, series_id: &str) -> Result<bool, DbError> {
    Ok(
        store::enrolment_of(tx, turn.user.telegram_user_id, series_id)
            .await?
            .is_some_and(|e| e.status != EnrolmentStatus::Left),
    )
}

/// "You are on the waitlist (position N): no reminders until you have a place", for `/next` and `/schedule`.
async fn waitlist_note(
    tx: &mut Tx,
    turn: &Turn<'_>,
    series: &Series,
) -> Result<Option<String>, DbError> {
    if !is_waitlisted(tx, turn, &series.id).await? {
        return Ok(None);
    }
    let position = store::waitlist_position(tx, turn.user.telegram_user_id, &series.id).await?;
    Ok(Some(turn.fill(
        "timeline.waitlist_note",
        &[
            ("series", series.name.get(turn.lang())),
            ("position", &position.to_string()),
        ],
    )))
}

/// `/next` and `/schedule` for a registered professional in no series: the open series to join, as the
/// profile's series question (a button), or nothing when none is open.
fn join_offer(turn: &Turn<'_>) -> Option<Vec<Vec<Button>>> {
    let step = turn
        .content
        .registration
        .step_for(crate::domain::Field::Series)?;
    if super::window::open_series(turn).is_empty() {
        return None;
    }
    Some(vec![vec![Button::callback(
        turn.text("button.timeline.join_series"),
        CallbackData::Edit {
            step: step.id.clone(),
        }
        .encode(),
    )]])
}

async fn not_enrolled(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let registered = crate::db::participants::get(tx, turn.user.telegram_user_id)
        .await?
        .is_some_and(|p| p.role == crate::domain::Role::Professional);
    match join_offer(turn) {
        Some(buttons) if registered => out.push(Reply::with_buttons(
            turn.text("timeline.not_enrolled_join"),
            buttons,
        )),
        // A registered professional is not told to register again: nothing is open now.
        None if registered => out.push(Reply::text(turn.text("timeline.not_enrolled_none_open"))),
        _ => out.push(Reply::text(turn.text("programme.not_enrolled"))),
    }
    Ok(out.ask_again())
}

/// Moves a participant from one series to another (from `/profile`): the old place is freed for the
/// waitlist, and the new series takes them in or puts them on its waitlist.
pub async fn switch_series(
    tx: &mut Tx,
    turn: &Turn<'_>,
    old: Option<&str>,
    new: &str,
) -> Result<String, DbError> {
    let now = turn.now;
    if let Some(old) = old {
        leave_series(tx, turn, old, now).await?;
    }
    match turn.content.series(new).cloned() {
        Some(series) => enrol(tx, turn, &series).await,
        None => Ok(String::new()),
    }
}

/// Leaves every series the user is in (before `/forget` erases them), so their places go to the waitlist.
pub async fn leave_all(tx: &mut Tx, turn: &Turn<'_>) -> Result<(), DbError> {
    let now = turn.now;
    for enrolment in store::active_enrolments(tx, turn.user.telegram_user_id).await? {
        leave_series(tx, turn, &enrolment.series_id, now).await?;
    }
    Ok(())
}

/// Marks the user as having left a series and, if they held a place, offers it to the waitlist.
async fn leave_series(
    tx: &mut Tx,
    turn: &Turn<'_>,
    series_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbError> {
    let user = turn.user.telegram_user_id;
    let Some(mut enrolment) = store::enrolment_of(tx, user, series_id)
        .await?
        .filter(|e| e.status != EnrolmentStatus::Left)
    else {
        return Ok(());
    };
    let held_place = enrolment.status.holds_place();
    enrolment.status = EnrolmentStatus::Left;
    enrolment.offered_until = None;
    store::put_enrolment(tx, &enrolment, now).await?;
    // Their profile no longer names the series as theirs.
    crate::db::participants::clear_series(tx, user, series_id, now).await?;
    log::info!("user {user}: left series {series_id}");
    if let (true, Some(series)) = (held_place, turn.content.series(series_id)) {
        super::waitlist::offer_freed_place(tx, &turn.content, turn.tz(), series, now, None).await?;
    }
    turn.wake_after_commit();
    Ok(())
}

async fn status_line(
    tx: &mut Tx,
    turn: &Turn<'_>,
    series: &Series,
    e: &Enrolment,
) -> Result<String, DbError> {
    let name = series.name.get(turn.lang());
    Ok(match e.status {
        EnrolmentStatus::Waitlisted => {
            let position = store::waitlist_position(tx, e.telegram_user_id, &series.id).await?;
            turn.fill(
                "programme.waitlisted",
                &[("series", name), ("position", &position.to_string())],
            )
        }
        _ => turn.fill("programme.enrolled", &[("series", name)]),
    })
}

/// The series the user takes part in (enrolled or offered a place), if any.
async fn my_series(tx: &mut Tx, turn: &Turn<'_>) -> Result<Option<Series>, DbError> {
    let enrolments = store::active_enrolments(tx, turn.user.telegram_user_id).await?;
    Ok(enrolments
        .iter()
        .filter(|e| e.status.holds_place())
        .chain(enrolments.iter())
        .find_map(|e| turn.content.series(&e.series_id).cloned()))
}

pub async fn next(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let Some(series) = my_series(tx, turn).await? else {
        return not_enrolled(tx, turn).await;
    };
    let mut out = Effects::default();
    let note = waitlist_note(tx, turn, &series).await?;
    let now = utc_to_local(turn.tz(), turn.now);
    let lang = turn.lang();
    let name = series.name.get(lang);
    match series
        .sessions_in_order()
        .into_iter()
        .find(|s| s.end >= now)
    {
        Some(session) => {
            let key = if session.start <= now {
                "programme.running"
            } else {
                "programme.next"
            };
            let mut text = turn.fill(
                key,
                &[
                    ("series", name),
                    ("session", &describe(&turn.content, lang, session)),
                ],
            );
            if let Some(note) = &note {
                text = format!("{note}\n\n{text}");
            }
            let button = Button::callback(
                turn.text("button.programme.add_to_calendar"),
                CallbackData::Calendar {
                    session: session.id.clone(),
                }
                .encode(),
            );
            out.push(Reply::with_buttons(text, vec![vec![button]]));
        }
        None => out.push(Reply::text(
            turn.fill("programme.no_next", &[("series", name)]),
        )),
    }
    Ok(out.ask_again())
}

pub async fn schedule(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let Some(series) = my_series(tx, turn).await? else {
        return not_enrolled(tx, turn).await;
    };
    let mut out = Effects::default();
    let note = waitlist_note(tx, turn, &series).await?;
    let now = utc_to_local(turn.tz(), turn.now);
    let lang = turn.lang();
    let mut lines = vec![turn.fill(
        "programme.schedule_title",
        &[("series", series.name.get(lang))],
    )];
    for session in series.sessions_in_order() {
        let mut entry = describe(&turn.content, lang, session);
        if session.end < now {
            entry = format!("{} {entry}", turn.text("programme.held"));
        }
        lines.push(String::new());
        lines.push(entry);
    }
    if let Some(note) = note {
        lines.push(String::new());
        lines.push(note);
    }
    let button = Button::callback(
        turn.text("button.programme.calendar_all"),
        CallbackData::CalendarAll {
            series: series.id.clone(),
        }
        .encode(),
    );
    out.push(Reply::with_buttons(lines.join("\n"), vec![vec![button]]));
    Ok(out.ask_again())
}

/// Offset ids the user gets reminders for (all of the content's when nothing was chosen).
fn chosen_offsets(content: &Content, chosen: &Option<Vec<String>>) -> Vec<ReminderOffset> {
    content
        .reminder_offsets
        .iter()
        .filter(|o| chosen.as_ref().is_none_or(|ids| ids.contains(&o.id())))
        .cloned()
        .collect()
}

pub fn offset_label(content: &Content, lang: Lang, offset: &ReminderOffset) -> String {
    match offset {
        ReminderOffset::DayBefore(time) => {
            let time = match lang {
                Lang::Fi => time.format("%-H.%M").to_string(),
                Lang::En => time.format("%-H:%M").to_string(),
            };
            content.fill(lang, "reminders.offset_day_before", &[("time", &time)])
        }
        ReminderOffset::Before(lead) if lead.num_minutes() % 60 == 0 => content.fill(
            lang,
            "reminders.offset_hours",
            &[("n", &(lead.num_minutes() / 60).to_string())],
        ),
        ReminderOffset::Before(lead) => content.fill(
            lang,
            "reminders.offset_minutes",
            &[("n", &lead.num_minutes().to_string())],
        ),
    }
}

pub async fn reminders_menu(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let menu = reminders_reply(tx, turn).await?;
    out.push(menu);
    Ok(out)
}

/// The reminder settings with a toggle button per offset.
async fn reminders_reply(tx: &mut Tx, turn: &Turn<'_>) -> Result<Reply, DbError> {
    let (enabled, chosen) = store::reminder_settings(tx, turn.user.telegram_user_id).await?;
    let content = turn.content.clone();
    let lang = turn.lang();
    let active = chosen_offsets(&content, &chosen);
    let text = if enabled {
        let labels: Vec<String> = active
            .iter()
            .map(|o| offset_label(&content, lang, o))
            .collect();
        let offsets = if labels.is_empty() {
            turn.text("reminders.none_chosen")
        } else {
            labels.join(", ")
        };
        turn.fill("reminders.status_on", &[("offsets", &offsets)])
    } else {
        turn.text("reminders.status_off")
    };
    let mut rows = Vec::new();
    if enabled {
        for offset in &content.reminder_offsets {
            let mark = if active.contains(offset) {
                "✅"
            } else {
                "⬜"
            };
            let label = format!("{mark} {}", offset_label(&content, lang, offset));
            rows.push(vec![Button::callback(
                label,
                CallbackData::Reminders(ReminderChoice::Toggle(offset.id())).encode(),
            )]);
        }
        if let Some(by_email) = email_reminders(tx, turn).await? {
            let (mark, next) = if by_email {
                ("✅", false)
            } else {
                ("⬜", true)
            };
            rows.push(vec![Button::callback(
                format!("{mark} {}", turn.text("button.programme.email_reminders")),
                CallbackData::Reminders(ReminderChoice::Email(next)).encode(),
            )]);
        }
        rows.push(vec![Button::callback(
            turn.text("button.programme.reminders_off"),
            CallbackData::Reminders(ReminderChoice::Off).encode(),
        )]);
    } else {
        rows.push(vec![Button::callback(
            turn.text("button.programme.reminders_on"),
            CallbackData::Reminders(ReminderChoice::On).encode(),
        )]);
    }
    Ok(Reply::with_buttons(text, rows))
}

/// Whether the person gets session reminders by email too — None when that cannot be offered (email is off,
/// or they gave no address).
async fn email_reminders(tx: &mut Tx, turn: &Turn<'_>) -> Result<Option<bool>, DbError> {
    if !turn.config.email_on() {
        return Ok(None);
    }
    let user = turn.user.telegram_user_id;
    let has_address = crate::db::participants::get(tx, user)
        .await?
        .and_then(|p| p.email)
        .is_some_and(|e| !e.trim().is_empty());
    if !has_address {
        return Ok(None);
    }
    Ok(Some(store::email_reminders(tx, user).await?))
}

/// Applies a `/reminders` button; the scheduler re-plans that person's reminders afterwards.
pub async fn reminders_choice(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    choice: ReminderChoice,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    let (enabled, chosen) = store::reminder_settings(tx, user).await?;
    let content = turn.content.clone();
    let all: Vec<String> = content
        .reminder_offsets
        .iter()
        .map(ReminderOffset::id)
        .collect();
    match choice {
        ReminderChoice::On => {
            store::set_reminder_settings(tx, user, true, chosen.as_deref()).await?
        }
        ReminderChoice::Off => {
            store::set_reminder_settings(tx, user, false, chosen.as_deref()).await?
        }
        ReminderChoice::Toggle(id) if all.contains(&id) && enabled => {
            let mut ids: Vec<String> = chosen.unwrap_or_else(|| all.clone());
            if ids.contains(&id) {
                ids.retain(|i| *i != id);
            } else {
                ids.push(id);
            }
            let ids: Vec<String> = all.iter().filter(|i| ids.contains(i)).cloned().collect();
            let stored = if ids.len() == all.len() {
                None
            } else {
                Some(ids)
            };
            store::set_reminder_settings(tx, user, true, stored.as_deref()).await?;
        }
        ReminderChoice::Email(on) if enabled && email_reminders(tx, turn).await?.is_some() => {
            store::set_email_reminders(tx, user, on).await?;
        }
        ReminderChoice::Toggle(_) | ReminderChoice::Email(_) => {
            out.toast = Some(turn.text("problem.button_expired"));
            return Ok(out);
        }
    }
    turn.wake_after_commit();
    out.toast = Some(turn.text("reminders.updated"));
    // The menu is updated in place, so the person sees their choice where they tapped.
    out.replace_pressed = Some(reminders_reply(tx, turn).await?);
    Ok(out)
}

pub async fn leave_question(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let Some(series) = my_series(tx, turn).await? else {
        out.push(Reply::text(turn.text("programme.not_enrolled")));
        return Ok(out.ask_again());
    };
    let name = series.name.get(turn.lang()).to_string();
    let buttons = vec![
        vec![Button::callback(
            turn.text("button.programme.leave_yes"),
            CallbackData::Leave {
                series: series.id.clone(),
                confirm: true,
            }
            .encode(),
        )],
        vec![Button::callback(
            turn.text("button.programme.leave_no"),
            CallbackData::Leave {
                series: series.id.clone(),
                confirm: false,
            }
            .encode(),
        )],
    ];
    out.push(Reply::with_buttons(
        turn.fill("leave.question", &[("series", &name)]),
        buttons,
    ));
    Ok(out)
}

/// Check-in during a session ("I'm here").
pub async fn check_in(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    session_id: &str,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let content = turn.content.clone();
    let user = turn.user.telegram_user_id;
    let Some((series, session)) = content.session(session_id) else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let enrolled = store::enrolment_of(tx, user, &series.id)
        .await?
        .is_some_and(|e| e.status == EnrolmentStatus::Enrolled);
    let now = utc_to_local(turn.tz(), turn.now);
    let title = session.title.get(turn.lang());
    if !enrolled {
        out.push(Reply::text(turn.text("programme.not_enrolled")));
    } else if !check_in_open(session.start, session.end, now) {
        out.push(Reply::text(turn.fill(
            "checkin.closed",
            &[("when", &when(&content, turn.lang(), session))],
        )));
    } else if store::mark_attended(tx, session_id, user, user, turn.now).await? {
        // The prompt keeps the session's name next to the mark (not a lone "✅").
        out.mark_pressed = Some(turn.fill("checkin.pressed", &[("title", title)]));
        out.push(Reply::text(turn.fill("checkin.done", &[("title", title)])));
    } else {
        out.push(Reply::text(
            turn.fill("checkin.already", &[("title", title)]),
        ));
    }
    Ok(out)
}

pub async fn leave(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    series_id: &str,
    confirm: bool,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    let Some(series) = turn.content.series(series_id).cloned() else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let name = series.name.get(turn.lang()).to_string();
    let current = store::enrolment_of(tx, user, series_id)
        .await?
        .filter(|e| e.status != EnrolmentStatus::Left);
    if current.is_none() {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    }
    if !confirm {
        out.mark_pressed = Some(format!("✅ {}", turn.text("button.programme.leave_no")));
        out.push(Reply::text(turn.fill("leave.kept", &[("series", &name)])));
        return Ok(out);
    }
    leave_series(tx, turn, series_id, turn.now).await?;
    out.mark_pressed = Some(format!("✅ {}", turn.text("button.programme.leave_yes")));
    out.push(Reply::text(turn.fill("leave.done", &[("series", &name)])));
    Ok(out)
}

/// An .ics file of one session (`Some(session)`) or of a whole series, for someone in that series (enrolled,
/// offered a place or waiting: whoever `/schedule` shows it to) or a coordinator. The file carries online
/// sessions' join links, so a button with made-up data gets a refusal, not the file.
pub async fn calendar(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    session_id: Option<&str>,
    series_id: Option<&str>,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let content = turn.content.clone();
    let lang = turn.lang();
    let (series, sessions): (&Series, Vec<&Session>) = match (session_id, series_id) {
        (Some(id), _) => match content.session(id) {
            Some((series, session)) => (series, vec![session]),
            None => return expired(turn),
        },
        (None, Some(id)) => match content.series(id) {
            Some(series) => (series, series.sessions_in_order()),
            None => return expired(turn),
        },
        (None, None) => return expired(turn),
    };
    let user = turn.user.telegram_user_id;
    let in_series = store::enrolment_of(tx, user, &series.id)
        .await?
        .is_some_and(|e| e.status != EnrolmentStatus::Left);
    if !in_series && !turn.is_coordinator() {
        log::warn!(
            "refused a calendar of series {} to user {user}: not in it",
            series.id
        );
        out.toast = Some(turn.text("access.calendar_not_in_series"));
        return Ok(out);
    }
    let events: Vec<CalendarEvent> = sessions
        .iter()
        .map(|s| CalendarEvent::from_session(&content, lang, series, s))
        .collect();
    let bytes = ics::calendar(&events, turn.tz(), ics::PROD_ID, turn.now);
    let name = session_id.or(series_id).unwrap_or("milava");
    out.push(Reply::Document(Document {
        file_name: format!("milava-{name}.ics"),
        bytes,
        caption: Some(turn.text("programme.calendar_caption")),
    }));
    Ok(out)
}

fn expired(turn: &Turn<'_>) -> Result<Effects, DbError> {
    Ok(Effects::toast(turn.text("problem.button_expired")))
}

/// `/certificate`: the PDF again, for someone who qualifies once the series has ended.
pub async fn certificate(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let Some(series) = my_series(tx, turn).await? else {
        out.push(Reply::text(turn.text("programme.not_enrolled")));
        return Ok(out.ask_again());
    };
    let tz = turn.tz();
    let now = turn.now;
    let ended = series
        .last_end()
        .is_some_and(|end| crate::domain::time::local_to_utc(tz, end) <= now);
    let attended = super::certificates::attended(tx, &series, turn.user.telegram_user_id).await?;
    let name = crate::db::participants::get(tx, turn.user.telegram_user_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    if !ended {
        out.push(Reply::text(turn.text("certificate.not_finished")));
    } else if let Some(document) = super::certificates::document(
        &turn.content,
        turn.lang(),
        &name,
        &series,
        &attended,
        now,
        tz,
    ) {
        out.push(Reply::Document(document));
    } else {
        let required = series.required_sessions().to_string();
        out.push(Reply::text(turn.fill(
            "certificate.not_qualified",
            &[
                ("required", &required),
                ("attended", &attended.len().to_string()),
            ],
        )));
    }
    Ok(out.ask_again())
}
