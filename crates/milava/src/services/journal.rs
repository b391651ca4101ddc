//! A father's coaching journal: his next text in private chat while a step's question is open is his
//! reflection, stored for him only, listed by `/journal` (newest first, paged), shown by `/mydata` and erased
//! by `/forget`.
use super::coaching::{clock, weekday_name};
use super::{Effects, Turn};
use crate::db::coaching::{self as store, Coaching};
use crate::db::{DbError, Tx};
use crate::domain::{Button, CallbackData, Reply};
use chrono::{DateTime, Utc};

/// Reflections per `/journal` page.
const PAGE: i64 = 5;
/// The longest reflection stored (Telegram's own limit is 4096 characters).
const MAX_REFLECTION_CHARS: usize = 4000;

/// A text in private chat while a reflection question is open (`Conversation::WritingReflection`): stored as
/// his reflection.
pub async fn on_reflection(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    mut c: Coaching,
    text: &str,
) -> Result<Effects, DbError> {
    let user = turn.user.telegram_user_id;
    let Some(step) = c.open_step.clone() else {
        return Ok(Effects::default());
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(Effects::text(turn.text("problem.empty")));
    }
    if text.chars().count() > MAX_REFLECTION_CHARS {
        return Ok(Effects::text(turn.fill(
            "problem.too_long",
            &[("max", &MAX_REFLECTION_CHARS.to_string())],
        )));
    }
    let now = turn.now;
    store::add_reflection(tx, user, &step, text, now).await?;
    c.open_step = None;
    store::put(tx, &c, now).await?;
    Ok(Effects::text(turn.text("coaching.saved")))
}

/// `/journal` (page 0) or a paging button: the father's reflections, newest first.
pub async fn show(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    page: u32,
    in_place: bool,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    let total = store::count_reflections(tx, user).await?;
    if total == 0 {
        out.push(Reply::text(turn.text("coaching.journal_empty")));
        return Ok(out.ask_again());
    }
    let pages = (total + PAGE - 1) / PAGE;
    let page = i64::from(page).min(pages - 1);
    let entries = store::reflections(tx, user, PAGE, page * PAGE).await?;
    let mut lines = vec![turn.fill(
        "coaching.journal_title",
        &[
            ("page", &(page + 1).to_string()),
            ("pages", &pages.to_string()),
        ],
    )];
    for entry in entries {
        lines.push(entry_text(turn, &entry.step_id, &entry.text, entry.at));
    }
    let mut buttons = Vec::new();
    if page > 0 {
        buttons.push(Button::callback(
            turn.text("button.coaching.newer"),
            CallbackData::Journal((page - 1) as u32).encode(),
        ));
    }
    if page + 1 < pages {
        buttons.push(Button::callback(
            turn.text("button.coaching.older"),
            CallbackData::Journal((page + 1) as u32).encode(),
        ));
    }
    let reply = Reply::with_buttons(
        lines.join("\n\n"),
        vec![buttons]
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect(),
    );
    if in_place {
        out.replace_pressed = Some(reply);
        Ok(out)
    } else {
        out.push(reply);
        // A registration or edit in progress continues at its question.
        Ok(out.ask_again())
    }
}

fn entry_text(turn: &Turn<'_>, step_id: &str, text: &str, at: DateTime<Utc>) -> String {
    let title = turn
        .content
        .coaching
        .iter()
        .find(|s| s.id == step_id)
        .map(|s| s.title.get(turn.lang()).to_string())
        .unwrap_or_else(|| step_id.to_string());
    turn.fill(
        "coaching.journal_entry",
        &[
            ("date", &turn.local_time(at)),
            ("title", &title),
            ("text", text),
        ],
    )
}

/// /mydata lines: the coaching choice and every reflection.
pub async fn my_data_lines(tx: &mut Tx, turn: &Turn<'_>) -> Result<Vec<String>, DbError> {
    let user = turn.user.telegram_user_id;
    let mut lines = Vec::new();
    if let Some(c) = store::get(tx, user).await? {
        let lang = turn.lang();
        let when = format!(
            "{} {}",
            weekday_name(&turn.content, lang, c.weekday),
            clock(lang, c.minute_of_day)
        );
        let status = turn.text(&format!("coaching.state_{}", c.status.as_str()));
        lines.push(turn.fill(
            "coaching.mydata",
            &[
                ("when", &when),
                ("status", &status),
                ("step", &c.next_step.to_string()),
            ],
        ));
    }
    let total = store::count_reflections(tx, user).await?;
    for entry in store::reflections(tx, user, total.max(1), 0).await? {
        lines.push(entry_text(turn, &entry.step_id, &entry.text, entry.at));
    }
    Ok(lines)
}
