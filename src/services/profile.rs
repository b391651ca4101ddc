//! `/profile` (show and edit answers), `/privacy` and `/mydata`.
use super::registration::{remind, save};
use super::{Response, Turn, render};
use crate::db::dialogues::{self, FlowKind};
use crate::db::{DbError, Tx, participants, users};
use crate::domain::flow::NO_SERIES;
use crate::domain::programme::Series;
use crate::domain::{Answers, Button, CallbackData, Field, Lang, Participant, Reply, Role};
use chrono::{DateTime, Utc};

/// Fields a participant may change after registering (role and consent are changed by re-registering).
const EDITABLE: &[Field] = &[
    Field::Name,
    Field::Area,
    Field::Wants,
    Field::Organisation,
    Field::Profession,
    Field::Email,
    Field::Series,
    Field::ResearchConsent,
];

/// The profile with an edit button for each answer the flow can ask again.
pub fn render(turn: &Turn<'_>, participant: &Participant) -> Reply {
    let answers = participant.answers();
    let mut text = turn.text("profile.title");
    for line in render::answer_lines(turn, &answers) {
        text.push('\n');
        text.push_str(&line);
    }
    let flow = &turn.content.registration;
    // A professional may choose a series whenever one is open (also after leaving one or registering
    // when none was open); with none open there is nothing to choose.
    let series_open = !super::window::open_series(turn).is_empty();
    let buttons: Vec<Button> = EDITABLE
        .iter()
        .filter(|field| match field {
            Field::Series => series_open && participant.role == Role::Professional,
            _ => answers.contains_key(field),
        })
        .filter_map(|field| flow.step_for(*field).map(|step| (field, step)))
        .map(|(field, step)| {
            let label = format!(
                "{} {}",
                turn.text("button.edit_prefix"),
                turn.text(&format!("profile.field.{}", field.name()))
            );
            Button::callback(
                label,
                CallbackData::Edit {
                    step: step.id.clone(),
                }
                .encode(),
            )
        })
        .collect();
    if !buttons.is_empty() {
        text.push_str("\n\n");
        text.push_str(&turn.text("profile.edit_hint"));
    }
    Reply::with_buttons(text, render::layout(buttons))
}

pub async fn show(tx: &mut Tx, turn: &mut Turn<'_>, out: &mut Response) -> Result<(), DbError> {
    match participants::get(tx, turn.user.telegram_user_id).await? {
        Some(participant) => out.push(render(turn, &participant)),
        None => out.push(Reply::text(turn.text("problem.not_registered"))),
    }
    remind(tx, turn, out).await
}

pub async fn start_edit(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    step_id: &str,
    out: &mut Response,
) -> Result<(), DbError> {
    let participant = participants::get(tx, turn.user.telegram_user_id).await?;
    let step = turn.content.registration.step(step_id).cloned();
    let editable = step
        .as_ref()
        .and_then(|s| s.field())
        .is_some_and(|f| EDITABLE.contains(&f));
    let (Some(participant), Some(step), true) = (participant, step, editable) else {
        out.toast = Some(turn.text("problem.button_expired"));
        return remind(tx, turn, out).await;
    };
    save(
        tx,
        turn,
        FlowKind::Edit,
        step.id.clone(),
        participant.answers(),
    )
    .await?;
    out.push(render::ask(turn, &step.id));
    Ok(())
}

/// The edited answer passed validation: store it and show the profile again.
pub async fn finish_edit(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    step_id: &str,
    answers: &Answers,
    out: &mut Response,
) -> Result<(), DbError> {
    let user_id = turn.user.telegram_user_id;
    let field = turn
        .content
        .registration
        .step(step_id)
        .and_then(|s| s.field());
    let before = participants::get(tx, user_id).await?;
    if field == Some(Field::Series)
        && answers.get(&Field::Series).map(String::as_str) == Some(NO_SERIES)
    {
        // No series was open: nothing changes.
        dialogues::delete(tx, user_id).await?;
        turn.state = None;
        out.push(Reply::text(turn.text("timeline.no_series_open")));
        return Ok(());
    }
    let mut updated = turn.text("profile.updated");
    let mut interest_changed = None;
    if let Some((field, value)) = field.and_then(|f| answers.get(&f).map(|v| (f, v))) {
        participants::update_field(tx, user_id, field, value, turn.ctx.clock.now()).await?;
        let old = before.as_ref().map(|p| p.answers().get(&field).cloned());
        if matches!(field, Field::Area | Field::Wants) && old != Some(Some(value.clone())) {
            interest_changed = Some(field);
        }
        let old_series = before.and_then(|p| p.series_id);
        if field == Field::Series {
            let rejoining = !super::programme::is_active_in(tx, turn, value).await?;
            if old_series.as_deref() != Some(value.as_str()) || rejoining {
                let old = old_series.as_deref().filter(|old| *old != value.as_str());
                let line = super::programme::switch_series(tx, turn, old, value).await?;
                updated = format!("{updated}\n{line}");
            }
        }
    }
    dialogues::delete(tx, user_id).await?;
    turn.state = None;
    out.push(Reply::text(updated));
    if let Some(participant) = participants::get(tx, user_id).await? {
        out.push(render(turn, &participant));
        if let Some(field) = interest_changed {
            super::groups::after_profile_change(tx, turn, field == Field::Area, out).await?;
            if field == Field::Wants {
                super::coaching::after_profile_change(tx, turn, &participant, out).await?;
            }
        }
    }
    Ok(())
}

/// `/start <series code>` from a registered professional: joins the series (again, after leaving it, or
/// on its waitlist when full) if it takes registrations, else says it is closed and offers the open ones.
pub async fn join_series(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    participant: &Participant,
    series: &Series,
    out: &mut Response,
) -> Result<(), DbError> {
    let user_id = turn.user.telegram_user_id;
    if super::programme::is_active_in(tx, turn, &series.id).await? {
        let line = super::programme::enrol(tx, turn, series).await?;
        out.push(Reply::text(line));
        return Ok(());
    }
    if let Some(line) = super::window::not_open_line(turn, series) {
        out.push(Reply::text(line));
        out.push(render(turn, participant));
        return Ok(());
    }
    let now = turn.ctx.clock.now();
    participants::update_field(tx, user_id, Field::Series, &series.id, now).await?;
    let old = participant
        .series_id
        .as_deref()
        .filter(|old| *old != series.id);
    let line = super::programme::switch_series(tx, turn, old, &series.id).await?;
    out.push(Reply::text(line));
    Ok(())
}

/// A date and time in the bot's time zone, the Finnish way (3.4.2024 klo 8.00 / 3.4.2024 at 08:00).
pub fn local_time(turn: &Turn<'_>, at: DateTime<Utc>) -> String {
    format_local(turn.ctx.config.timezone, turn.lang(), at)
}

/// `local_time` for any time zone and language (the console's pages).
pub fn format_local(tz: chrono_tz::Tz, lang: Lang, at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    match lang {
        Lang::Fi => local.format("%-d.%-m.%Y klo %-H.%M").to_string(),
        Lang::En => local.format("%-d.%-m.%Y at %H:%M").to_string(),
    }
}

pub async fn privacy(tx: &mut Tx, turn: &mut Turn<'_>, out: &mut Response) -> Result<(), DbError> {
    let content = turn.content.clone();
    let mut text = turn.fill(
        "privacy.show",
        &[
            ("version", &content.privacy_version),
            ("notice", &super::privacy_notice(turn)),
        ],
    );
    text.push_str("\n\n");
    match participants::get(tx, turn.user.telegram_user_id).await? {
        Some(p) => {
            text.push_str(&turn.fill(
                "privacy.consent_given",
                &[
                    ("version", &p.privacy_version),
                    ("date", &local_time(turn, p.consent_at)),
                ],
            ));
            text.push('\n');
            text.push_str(
                &match p.research_consent_at.filter(|_| p.research_consent) {
                    Some(at) => {
                        turn.fill("privacy.research_yes", &[("date", &local_time(turn, at))])
                    }
                    None => turn.text("privacy.research_no"),
                },
            );
        }
        None => text.push_str(&turn.text("privacy.consent_none")),
    }
    out.push(Reply::text(text));
    Ok(())
}

/// Everything stored about the user, readable.
pub async fn my_data(tx: &mut Tx, turn: &mut Turn<'_>, out: &mut Response) -> Result<(), DbError> {
    let user_id = turn.user.telegram_user_id;
    let mut lines = vec![
        turn.text("mydata.title"),
        turn.fill("mydata.telegram", &[("id", &user_id.to_string())]),
        turn.fill("mydata.language", &[("language", turn.lang().code())]),
    ];
    let participant = participants::get(tx, user_id).await?;
    if let Some(p) = &participant {
        lines.push(turn.fill(
            "mydata.registered",
            &[("date", &local_time(turn, p.registered_at))],
        ));
        let mut answers = p.answers();
        answers.remove(&Field::ResearchConsent);
        lines.extend(render::answer_lines(turn, &answers));
        lines.push(turn.fill(
            "mydata.consent",
            &[
                ("version", &p.privacy_version),
                ("date", &local_time(turn, p.consent_at)),
            ],
        ));
        let research = match p.research_consent_at.filter(|_| p.research_consent) {
            Some(at) => format!("{} ({})", turn.text("mydata.yes"), local_time(turn, at)),
            None => turn.text("mydata.no"),
        };
        lines.push(turn.fill("mydata.research", &[("value", &research)]));
    }
    if let Some(state) = &turn.state {
        lines.push(turn.fill(
            "mydata.in_progress",
            &[
                ("step", &state.step),
                ("date", &local_time(turn, state.updated_at)),
            ],
        ));
        lines.extend(render::answer_lines(turn, &state.answers));
    }
    let surveys = super::surveys::my_data_lines(tx, turn).await?;
    let nothing = surveys.is_empty();
    lines.extend(surveys);
    let groups = super::groups::my_data_lines(tx, turn).await?;
    let journal = super::journal::my_data_lines(tx, turn).await?;
    let nothing = nothing && groups.is_empty() && journal.is_empty();
    lines.extend(groups);
    lines.extend(journal);
    if participant.is_none() && turn.state.is_none() && nothing {
        lines.push(turn.text("mydata.nothing"));
    }
    if users::seen(tx, user_id).await?.is_none() {
        log::warn!("user {user_id}: /mydata without a user record");
    }
    out.push(Reply::text(lines.join("\n")));
    Ok(())
}
