//! Coordinators' commands: `/stats` and `/participants` (CSV for Excel with Finnish settings).
use super::{Effects, Turn, csv, render};
use crate::db::{DbError, Tx, audit, participants, stats};
use crate::documents::table::{Cell, Table};
use crate::domain::{Document, Field, Participant, Reply};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub async fn stats(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let counts = stats::counts_on(tx).await?;
    let line = |label: String, count: i64| {
        turn.fill(
            "coordinator.stats_line",
            &[("label", &label), ("count", &count.to_string())],
        )
    };
    let mut lines = vec![turn.fill(
        "coordinator.stats_title",
        &[("total", &counts.total.to_string())],
    )];
    let sections = [
        ("coordinator.stats_roles", Field::Role, &counts.by_role),
        ("coordinator.stats_series", Field::Series, &counts.by_series),
        ("coordinator.stats_areas", Field::Area, &counts.by_area),
    ];
    for (title, field, rows) in sections {
        if rows.is_empty() {
            continue;
        }
        lines.push(String::new());
        lines.push(turn.text(title));
        lines.extend(
            rows.iter()
                .map(|(value, count)| line(render::value_label(turn, field, value), *count)),
        );
    }
    lines.push(String::new());
    lines.push(turn.fill(
        "coordinator.stats_in_progress",
        &[("count", &counts.in_progress.to_string())],
    ));
    if counts.unreachable > 0 {
        lines.push(turn.fill(
            "coordinator.stats_unreachable",
            &[("count", &counts.unreachable.to_string())],
        ));
    }
    out.push(Reply::text(lines.join("\n")));
    Ok(out.ask_again())
}

pub async fn participants(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let all = participants::all(tx, None).await?;
    let now = turn.now;
    let tz = turn.tz();
    audit::record(
        tx,
        turn.user.telegram_user_id,
        "participants_export",
        &format!("{} rows", all.len()),
        now,
    )
    .await?;
    let date = now.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let caption = turn.fill(
        "coordinator.participants_caption",
        &[
            ("date", &turn.local_time(now)),
            ("count", &all.len().to_string()),
        ],
    );
    // Headers and answers in the coordinator's language ("Rooli: Ammattilainen", not "role: professional");
    // the research export keeps the codes.
    let headers: Vec<String> = PARTICIPANT_COLUMNS
        .iter()
        .map(|c| turn.text(&format!("participants_csv.{c}")))
        .collect();
    let yes_no = [
        turn.text("participants_csv.yes"),
        turn.text("participants_csv.no"),
    ];
    let label = |field: Field, value: &str| render::value_label(turn, field, value);
    out.push(Reply::Document(Document {
        file_name: format!("milava-participants-{date}.csv"),
        bytes: participants_csv(&all, tz, &headers, &label, &yes_no),
        caption: Some(caption),
    }));
    Ok(out.ask_again())
}

/// The participant list's columns; each one's header is the text `participants_csv.<column>` in the
/// coordinator's language.
pub const PARTICIPANT_COLUMNS: &[&str] = &[
    "telegram_user_id",
    "role",
    "name",
    "area",
    "wants",
    "organisation",
    "profession",
    "email",
    "series_id",
    "group_id",
    "privacy_version",
    "consent_at",
    "research_consent",
    "registered_at",
];

/// Participants as CSV for Excel (see `csv::table`): `participant_table`'s rows as text.
pub fn participants_csv(
    rows: &[Participant],
    tz: Tz,
    headers: &[String],
    label: &dyn Fn(Field, &str) -> String,
    yes_no: &[String; 2],
) -> Vec<u8> {
    let table = participant_table(rows, tz, headers, label, yes_no);
    let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
    csv::table(&headers, &table.text_rows())
}

/// The participant list's rows, the one source of its columns for the chat's CSV and the console's xlsx:
/// one header per column of `PARTICIPANT_COLUMNS`, chosen answers as `label` shows them, the research
/// consent as `yes_no`, times in local time.
pub fn participant_table(
    rows: &[Participant],
    tz: Tz,
    headers: &[String],
    label: &dyn Fn(Field, &str) -> String,
    yes_no: &[String; 2],
) -> Table {
    let local = |at: DateTime<Utc>| Cell::Time(at.with_timezone(&tz).naive_local());
    let opt = |v: &Option<String>| Cell::Text(v.clone().unwrap_or_default());
    let shown = |field: Field, v: &Option<String>| {
        Cell::Text(
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| label(field, v))
                .unwrap_or_default(),
        )
    };
    let rows = rows
        .iter()
        .map(|p| {
            vec![
                Cell::Number(p.telegram_user_id),
                Cell::Text(label(Field::Role, p.role.as_str())),
                Cell::Text(p.name.clone()),
                shown(Field::Area, &p.area),
                shown(Field::Wants, &p.wants),
                opt(&p.organisation),
                shown(Field::Profession, &p.profession),
                opt(&p.email),
                shown(Field::Series, &p.series_id),
                shown(Field::Group, &p.group_id),
                Cell::Text(p.privacy_version.clone()),
                local(p.consent_at),
                Cell::Text(yes_no[usize::from(!p.research_consent)].clone()),
                local(p.registered_at),
            ]
        })
        .collect();
    Table {
        headers: headers.to_vec(),
        rows,
    }
}

/// `/reload`: reads `dialogues/` again. Broken content is refused (the old stays in use) with every problem
/// listed; good content is put in use as soon as this input is committed, and the scheduler announces changed
/// sessions and re-plans. The programme is the database's (`season`): the shipped file only seeds series the
/// database has never seen.
pub async fn reload(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let now = turn.now;
    let coordinator = turn.user.telegram_user_id;
    // The programme stays the database's (series new in the shipped file are seeded).
    let loaded = match crate::content::load(&turn.config.dialogues_dir) {
        Ok(shipped) => super::season::with_stored_programme(tx, shipped, now).await?,
        Err(e) => Err(e),
    };
    match loaded {
        Err(crate::content::ContentError(problems)) => {
            let listed: Vec<String> = problems.iter().take(20).map(|p| format!("• {p}")).collect();
            out.push(Reply::text(
                turn.fill("reload.failed", &[("problems", &listed.join("\n"))]),
            ));
            log::warn!(
                "/reload by {coordinator} refused: {} problem(s)",
                problems.len()
            );
        }
        Ok(content) => {
            let tz = turn.tz();
            let (changed, notices) = super::changes::notices_due(tx, &content, tz).await?;
            // Put in use once the transaction has committed (with the notices and the audit line).
            turn.reloaded = Some(content);
            audit::record(
                tx,
                coordinator,
                "content_reloaded",
                &format!("{changed} changed sessions"),
                now,
            )
            .await?;
            turn.wake_after_commit();
            out.push(Reply::text(
                turn.fill("reload.done", &[("notices", &notices.to_string())]),
            ));
        }
    }
    Ok(out)
}
