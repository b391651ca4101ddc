//! Coordinators' attendance lists: `/attendance` picks the series and the session with buttons (or takes a
//! session id), then shows everyone enrolled with a toggle button each, and a CSV export. Participants check themselves in with the button sent at the start of a session.
use super::{Effects, Turn, csv, labels, programme};
use crate::db::programme as store;
use crate::db::{DbError, Tx, audit};
use crate::domain::{Button, CallbackData, Document, Reply};

pub async fn command(tx: &mut Tx, turn: &mut Turn<'_>, args: &str) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let content = turn.content.clone();
    let session_id = args.split_whitespace().next().unwrap_or("");
    // A typed session id still works; without one (or with a wrong one) the session is picked with buttons.
    if !session_id.is_empty() && content.session(session_id).is_some() {
        out.push(list(tx, turn, session_id).await?);
        return Ok(out.ask_again());
    }
    if !session_id.is_empty() {
        out.push(Reply::text(
            turn.fill("attendance.unknown_session", &[("session", session_id)]),
        ));
    }
    let lang = turn.lang();
    let rows: Vec<Vec<Button>> = content
        .series
        .iter()
        .filter(|s| !s.sessions.is_empty())
        .map(|s| {
            vec![Button::callback(
                s.name.get(lang),
                CallbackData::AttendanceSeries {
                    series: s.id.clone(),
                }
                .encode(),
            )]
        })
        .collect();
    if rows.is_empty() {
        out.push(Reply::text(turn.text("attendance.no_sessions")));
    } else {
        out.push(Reply::with_buttons(
            turn.text("attendance.choose_series"),
            rows,
        ));
    }
    Ok(out.ask_again())
}

/// A series was chosen: its sessions as buttons.
pub fn pick_session(turn: &Turn<'_>, series_id: &str) -> Effects {
    let content = turn.content.clone();
    let lang = turn.lang();
    let Some(series) = content.series(series_id) else {
        return Effects::toast(turn.text("problem.button_expired"));
    };
    let rows: Vec<Vec<Button>> = series
        .sessions_in_order()
        .into_iter()
        .map(|s| {
            vec![Button::callback(
                labels::session(s, lang),
                CallbackData::AttendanceList {
                    session: s.id.clone(),
                }
                .encode(),
            )]
        })
        .collect();
    let mut out = Effects::reply(Reply::with_buttons(
        turn.fill(
            "attendance.choose_session",
            &[("series", series.name.get(lang))],
        ),
        rows,
    ));
    out.mark_pressed = Some(format!("✅ {}", series.name.get(lang)));
    out
}

/// A session was chosen: its attendance list.
pub async fn show(tx: &mut Tx, turn: &mut Turn<'_>, session_id: &str) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let content = turn.content.clone();
    let Some((_, session)) = content.session(session_id) else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    out.mark_pressed = Some(format!("✅ {}", labels::session(session, turn.lang())));
    out.push(list(tx, turn, session_id).await?);
    Ok(out)
}

async fn list(tx: &mut Tx, turn: &Turn<'_>, session_id: &str) -> Result<Reply, DbError> {
    let content = turn.content.clone();
    let Some((series, session)) = content.session(session_id) else {
        return Ok(Reply::text(
            turn.fill("attendance.unknown_session", &[("session", session_id)]),
        ));
    };
    let rows = store::attendance_list(tx, &series.id, session_id).await?;
    let present = rows.iter().filter(|r| r.marked_at.is_some()).count();
    let heading = format!(
        "{} ({})",
        session.title.get(turn.lang()),
        programme::when(&content, turn.lang(), session)
    );
    let text = turn.fill(
        "attendance.title",
        &[
            ("session", &heading),
            ("present", &present.to_string()),
            ("total", &rows.len().to_string()),
        ],
    );
    let mut buttons: Vec<Vec<Button>> = rows
        .iter()
        .map(|r| {
            let mark = if r.marked_at.is_some() { "✅" } else { "⬜" };
            let name: String = r.name.chars().take(26).collect();
            vec![Button::callback(
                format!("{mark} {name}"),
                CallbackData::Attendance {
                    session: session_id.to_string(),
                    user: r.telegram_user_id,
                }
                .encode(),
            )]
        })
        .collect();
    buttons.push(vec![Button::callback(
        turn.text("button.programme.attendance_csv"),
        CallbackData::AttendanceCsv {
            session: session_id.to_string(),
        }
        .encode(),
    )]);
    Ok(Reply::with_buttons(text, buttons))
}

/// Marks or unmarks one person, then shows the list again in the same message.
pub async fn toggle(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    session_id: &str,
    user: i64,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let Some((series, _)) = turn
        .content
        .session(session_id)
        .map(|(s, x)| (s.clone(), x.clone()))
    else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let coordinator = turn.user.telegram_user_id;
    let now = turn.now;
    if set(tx, &series.id, session_id, user, None, coordinator, now)
        .await?
        .is_none()
    {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    }
    out.replace_pressed = Some(list(tx, turn, session_id).await?);
    Ok(out)
}

/// Marks `user` present at `session_id` (`Some(true)`), absent (`Some(false)`) or the other way round
/// (`None`, the chat's toggle button), with an audit line naming `coordinator`. The chat's buttons and the
/// console's matrix both change attendance here. Returns whether they are now marked present, or None if
/// they are not on the session's list (not enrolled in `series_id` and not marked).
pub(crate) async fn set(
    tx: &mut Tx,
    series_id: &str,
    session_id: &str,
    user: i64,
    present: Option<bool>,
    coordinator: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<bool>, DbError> {
    let rows = store::attendance_list(tx, series_id, session_id).await?;
    let Some(row) = rows.iter().find(|r| r.telegram_user_id == user) else {
        return Ok(None);
    };
    let was = row.marked_at.is_some();
    let want = present.unwrap_or(!was);
    if want == was {
        return Ok(Some(was));
    }
    if want {
        store::mark_attended(tx, session_id, user, coordinator, now).await?;
    } else {
        store::unmark_attended(tx, session_id, user).await?;
    }
    // The person by their registration's row id, which is deleted with them (never their Telegram id).
    let person = match crate::db::participants::row_id(tx, user).await? {
        Some(row) => format!("participant #{row}"),
        None => "a person not registered".to_string(),
    };
    audit::record(
        tx,
        coordinator,
        "attendance_changed",
        &format!("{session_id} {person}"),
        now,
    )
    .await?;
    Ok(Some(want))
}

pub const ATTENDANCE_COLUMNS: &[&str] = &[
    "session_id",
    "telegram_user_id",
    "name",
    "organisation",
    "present",
    "marked_at",
    "marked_by",
];

pub async fn export(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    session_id: &str,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let Some((series, _)) = turn
        .content
        .session(session_id)
        .map(|(s, x)| (s.clone(), x.clone()))
    else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let tz = turn.tz();
    let rows = store::attendance_list(tx, &series.id, session_id).await?;
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                session_id.to_string(),
                r.telegram_user_id.to_string(),
                r.name.clone(),
                r.organisation.clone().unwrap_or_default(),
                if r.marked_at.is_some() { "1" } else { "0" }.to_string(),
                r.marked_at
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                match r.marked_by {
                    Some(by) if by == r.telegram_user_id => "self".to_string(),
                    Some(by) => by.to_string(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    audit::record(
        tx,
        turn.user.telegram_user_id,
        "attendance_export",
        session_id,
        turn.now,
    )
    .await?;
    out.push(Reply::Document(Document {
        file_name: format!("milava-attendance-{session_id}.csv"),
        bytes: csv::table(ATTENDANCE_COLUMNS, &table),
        caption: None,
    }));
    Ok(out)
}
