//! Coordinators' attendance lists: `/attendance <session>` shows everyone enrolled with a toggle button each,
//! and a CSV export. Participants check themselves in with the button sent at the start of a session.
use super::registration::remind;
use super::{Response, Turn, csv, programme};
use crate::db::programme::{self as store, AttendanceRow};
use crate::db::{DbError, Tx, audit};
use crate::domain::{Button, CallbackData, Document, Reply};

pub async fn command(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    args: &str,
    out: &mut Response,
) -> Result<(), DbError> {
    let content = turn.content.clone();
    let session_id = args.split_whitespace().next().unwrap_or("");
    if session_id.is_empty() || content.session(session_id).is_none() {
        let lines: Vec<String> = content
            .series
            .iter()
            .flat_map(|series| series.sessions_in_order())
            .map(|s| {
                format!(
                    "{} – {}, {}",
                    s.id,
                    s.title.get(turn.lang()),
                    programme::when(&content, turn.lang(), s)
                )
            })
            .collect();
        if !session_id.is_empty() {
            out.push(Reply::text(
                turn.fill("attendance.unknown_session", &[("session", session_id)]),
            ));
        }
        out.push(Reply::text(
            turn.fill("attendance.usage", &[("sessions", &lines.join("\n"))]),
        ));
        return remind(tx, turn, out).await;
    }
    out.push(list(tx, turn, session_id).await?);
    remind(tx, turn, out).await
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
    out: &mut Response,
) -> Result<(), DbError> {
    let Some((series, _)) = turn
        .content
        .session(session_id)
        .map(|(s, x)| (s.clone(), x.clone()))
    else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(());
    };
    let coordinator = turn.user.telegram_user_id;
    let now = turn.ctx.clock.now();
    let rows = store::attendance_list(tx, &series.id, session_id).await?;
    match rows.iter().find(|r| r.telegram_user_id == user) {
        Some(AttendanceRow {
            marked_at: Some(_), ..
        }) => store::unmark_attended(tx, session_id, user).await?,
        Some(_) => {
            store::mark_attended(tx, session_id, user, coordinator, now).await?;
        }
        None => {
            out.toast = Some(turn.text("problem.button_expired"));
            return Ok(());
        }
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
    out.replace_pressed = Some(list(tx, turn, session_id).await?);
    Ok(())
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
    out: &mut Response,
) -> Result<(), DbError> {
    let Some((series, _)) = turn
        .content
        .session(session_id)
        .map(|(s, x)| (s.clone(), x.clone()))
    else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(());
    };
    let tz = turn.ctx.config.timezone;
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
        turn.ctx.clock.now(),
    )
    .await?;
    out.push(Reply::Document(Document {
        file_name: format!("milava-attendance-{session_id}.csv"),
        bytes: csv::table(ATTENDANCE_COLUMNS, &table),
        caption: None,
    }));
    Ok(())
}
