//! Registration: `/start`, deep links, answering steps, resuming, and finishing with consent.
use super::conversation::save;
use super::effects::FollowUp;
use super::{Effects, Turn, profile, programme, render};
use crate::db::dialogues::{self, FlowKind};
use crate::db::{DbError, Tx, participants};
use crate::domain::flow::{DONE, Mode, NO_SERIES, advance};
use crate::domain::validate::is_deep_link_payload;
use crate::domain::{Answers, Field, Input, Outcome, Participant, Reply, Role};

pub async fn on_start(tx: &mut Tx, turn: &mut Turn<'_>, payload: &str) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user_id = turn.user.telegram_user_id;
    if let Some(participant) = participants::get(tx, user_id).await? {
        if turn.state.is_some() {
            dialogues::delete(tx, user_id).await?;
            turn.state = None;
        }
        if let Some(series) = turn
            .content
            .series
            .iter()
            .find(|s| s.code == payload && participant.role == Role::Professional)
            .cloned()
        {
            return profile::join_series(tx, turn, &participant, &series).await;
        }
        out.push(Reply::text(turn.fill(
            "start.already_registered",
            &[("name", &participant.name)],
        )));
        out.push(profile::render(turn, &participant));
        return Ok(out);
    }
    if let Some(state) = turn
        .state
        .clone()
        .filter(|s| s.flow == FlowKind::Registration)
    {
        if let Some(closed) = closed_for(tx, turn, &state.answers).await? {
            return Ok(closed);
        }
        if !version_changed(turn) {
            out.push(Reply::text(turn.text("start.resume")));
        }
        return Ok(out.ask_again());
    }
    let mut answers = Answers::new();
    let notes = match payload.is_empty() {
        true => None,
        false => Some(apply_deep_link(turn, payload, &mut answers)),
    };
    if let Some(closed) = closed_for(tx, turn, &answers).await? {
        return Ok(closed);
    }
    out.push(Reply::text(
        turn.fill("start.welcome", &[("first_name", turn.first_name)]),
    ));
    out.replies.extend(notes);
    let flow = &turn.content.registration;
    let step = flow.first_open_step(&answers, &flow.start);
    save(tx, turn, FlowKind::Registration, step, answers).await?;
    // The scheduler learns of someone new who may never finish (erased after UNFINISHED_RETENTION_DAYS).
    turn.wake_after_commit();
    Ok(out.ask_again())
}

/// After the programme is over, fathers and others are not registered (their data would be erased at once):
/// once the answers say father or other, the person is told so kindly and whatever the bot holds of them
/// (the dialogue, their users row) is erased. Returns what to answer when that happened.
async fn closed_for(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    answers: &Answers,
) -> Result<Option<Effects>, DbError> {
    let role = answers.get(&Field::Role).and_then(|r| Role::parse(r));
    let now = turn.now;
    if !matches!(role, Some(Role::Father | Role::Other))
        || !turn.content.programme_over(turn.tz(), now)
    {
        return Ok(None);
    }
    let user_id = turn.user.telegram_user_id;
    if turn.is_coordinator() {
        dialogues::delete(tx, user_id).await?;
    } else {
        crate::db::erase_user(tx, user_id).await?;
    }
    turn.state = None;
    log::info!("user {user_id}: not registered, the programme is over");
    let ended = turn.content.programme_ends_text(turn.lang());
    Ok(Some(Effects::text(
        turn.fill("erasure.programme_ended", &[("ended", &ended)]),
    )))
}

/// A series or group code preselects the role and the series or group; anything else gets a friendly note.
/// Returns the note to show after the welcome.
fn apply_deep_link(turn: &Turn<'_>, payload: &str, answers: &mut Answers) -> Reply {
    let content = &turn.content;
    let series = content.series.iter().find(|s| s.code == payload);
    let group = content.groups.iter().find(|g| g.code == payload);
    if let (true, Some(series)) = (is_deep_link_payload(payload), series) {
        answers.insert(Field::Role, Role::Professional.as_str().into());
        match super::window::not_open_line(turn, series) {
            // Closed or not open yet: say so; the series question then offers the open ones.
            Some(line) => Reply::text(line),
            None => {
                answers.insert(Field::Series, series.id.clone());
                Reply::text(turn.fill(
                    "start.deep_link_series",
                    &[("series", series.name.get(turn.lang()))],
                ))
            }
        }
    } else if let (true, Some(group)) = (is_deep_link_payload(payload), group) {
        answers.insert(Field::Role, Role::Father.as_str().into());
        answers.insert(Field::Group, group.id.clone());
        answers.insert(Field::Area, group.area.clone());
        Reply::text(turn.fill(
            "start.deep_link_group",
            &[("group", group.name.get(turn.lang()))],
        ))
    } else {
        let shown: String = payload.chars().take(64).collect();
        log::info!(
            "user {}: unknown deep-link code",
            turn.user.telegram_user_id
        );
        Reply::text(turn.fill("start.unknown_code", &[("code", &shown)]))
    }
}

/// Text, media or a step's button. Without a dialogue, an unregistered user is started on registration.
pub async fn on_answer(tx: &mut Tx, turn: &mut Turn<'_>, input: Input) -> Result<Effects, DbError> {
    let Some(state) = turn.state.clone() else {
        return without_dialogue(tx, turn, &input).await;
    };
    if state.flow == FlowKind::Registration && version_changed(turn) {
        return Ok(Effects::default().ask_again());
    }
    let mut out = Effects::default();
    let content = turn.content.clone();
    let mut answers = state.answers.clone();
    let mode = if state.flow == FlowKind::Edit {
        Mode::EditOne
    } else {
        Mode::Register
    };
    let open = super::window::open_ids(turn);
    let open: Vec<&str> = open.iter().map(String::as_str).collect();
    let outcome = advance(
        &content.registration,
        &open,
        &mut answers,
        &state.step,
        &input,
        mode,
    );
    if let (Input::Button { step, value }, false) =
        (&input, matches!(outcome, Outcome::Reask { .. }))
    {
        out.mark_pressed = render::pressed_label(turn, step, value);
    }
    if state.flow == FlowKind::Registration
        && let Some(closed) = closed_for(tx, turn, &answers).await?
    {
        return Ok(out.and(closed));
    }
    match outcome {
        Outcome::Ask(next) => {
            save(tx, turn, state.flow, next, answers).await?;
            Ok(out.ask_again())
        }
        Outcome::Reask { step, problem } => {
            if matches!(input, Input::Button { .. }) {
                out.toast = Some(turn.text("problem.button_expired"));
            }
            out.push(Reply::text(render::problem(turn, &problem)));
            out.push(render::ask(turn, &step));
            Ok(out)
        }
        Outcome::Complete if state.flow == FlowKind::Edit => {
            Ok(out.and(profile::finish_edit(tx, turn, &state.step, &answers).await?))
        }
        Outcome::Complete => Ok(out.and(finish(tx, turn, answers).await?)),
        Outcome::Declined => {
            dialogues::delete(tx, turn.user.telegram_user_id).await?;
            turn.state = None;
            out.push(Reply::text(turn.text("registration.declined")));
            Ok(out)
        }
    }
}

async fn without_dialogue(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    input: &Input,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let registered = participants::get(tx, turn.user.telegram_user_id)
        .await?
        .is_some();
    if turn.notify_flow_changed && !registered {
        turn.notify_flow_changed = false;
        out.push(Reply::text(turn.text("start.flow_changed")));
        return Ok(out.and(on_start(tx, turn, "").await?));
    }
    match input {
        Input::Button { .. } => out.toast = Some(turn.text("problem.button_expired")),
        Input::Media(_) => out.push(Reply::text(turn.text("problem.media"))),
        Input::Text(_) if registered => out.push(Reply::text(turn.text("problem.idle"))),
        // Coordinators need not register: a stray text gets their help, not the registration.
        Input::Text(_) if turn.is_coordinator() => {
            out.push(Reply::text(turn.text("help.coordinator")))
        }
        Input::Text(_) => return Ok(out.and(on_start(tx, turn, "").await?)),
    }
    Ok(out)
}

/// When the flow changed since the state was saved: keep answers the new flow still asks for, tell the
/// user, and move them to the first open step. Returns whether that happened.
fn version_changed(turn: &mut Turn<'_>) -> bool {
    let content = turn.content.clone();
    let current = content.flow_version();
    let Some(state) = turn
        .state
        .as_mut()
        .filter(|s| s.flow == FlowKind::Registration && s.content_version != current)
    else {
        return false;
    };
    let flow = &content.registration;
    let asked: Vec<Field> = flow.steps.iter().filter_map(|s| s.field()).collect();
    state
        .answers
        .retain(|field, _| asked.contains(field) || *field == Field::Group);
    state.step = flow.first_open_step(&state.answers, &flow.start);
    state.content_version = current;
    log::info!(
        "user {}: registration flow changed; resuming at {}",
        turn.user.telegram_user_id,
        state.step
    );
    turn.notify_flow_changed = true;
    true
}

/// Re-asks the current step of the user's dialogue, if any (after a command, an edit or a stale button):
/// the dispatcher calls it when a handler's effects say `ask_again`.
pub async fn remind(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let Some(state) = turn.state.clone() else {
        return Ok(out);
    };
    if turn.notify_flow_changed {
        // The flow changed: persist the moved state once and say so.
        turn.notify_flow_changed = false;
        out.push(Reply::text(turn.text("start.flow_changed")));
        if state.step == DONE {
            return Ok(out.and(finish(tx, turn, state.answers).await?));
        }
        save(tx, turn, state.flow, state.step.clone(), state.answers).await?;
    }
    out.push(render::ask(turn, &state.step));
    Ok(out)
}

/// All steps answered: store the participant with the consent version and time, and confirm.
async fn finish(tx: &mut Tx, turn: &mut Turn<'_>, answers: Answers) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user_id = turn.user.telegram_user_id;
    let now = turn.now;
    let get = |field: Field| answers.get(&field).cloned();
    let (Some(role), Some(name)) = (
        get(Field::Role).as_deref().and_then(Role::parse),
        get(Field::Name),
    ) else {
        // Cannot happen with a validated flow; restart rather than store half a person.
        log::error!("user {user_id}: registration finished without role or name; restarting");
        let start = turn.content.registration.start.clone();
        save(
            tx,
            turn,
            FlowKind::Registration,
            start.clone(),
            Answers::new(),
        )
        .await?;
        out.push(render::ask(turn, &start));
        return Ok(out);
    };
    let research_consent = get(Field::ResearchConsent).as_deref() == Some("yes");
    // The series chosen, if it still takes registrations (it may have closed while they answered).
    let mut closed_meanwhile = None;
    let series_id = get(Field::Series)
        .filter(|id| id != NO_SERIES)
        .filter(|id| match turn.content.series(id) {
            Some(series) => {
                closed_meanwhile = super::window::not_open_line(turn, series);
                closed_meanwhile.is_none()
            }
            None => false,
        });
    let participant = Participant {
        telegram_user_id: user_id,
        role,
        name: name.clone(),
        area: get(Field::Area),
        wants: get(Field::Wants),
        organisation: get(Field::Organisation),
        profession: get(Field::Profession),
        email: get(Field::Email),
        series_id,
        group_id: get(Field::Group),
        privacy_version: turn.content.privacy_version.clone(),
        consent_at: now,
        research_consent,
        research_consent_at: research_consent.then_some(now),
        registered_at: now,
        updated_at: now,
    };
    participants::insert(tx, &participant).await?;
    dialogues::delete(tx, user_id).await?;
    turn.state = None;
    log::info!("user {user_id}: registered as {}", role.as_str());
    let series = participant
        .series_id
        .as_deref()
        .and_then(|id| turn.content.series(id))
        .cloned();
    let done = match (role, series) {
        (Role::Professional, Some(series)) => {
            let line = programme::enrol(tx, turn, &series).await?;
            let waitlisted = programme::is_waitlisted(tx, turn, &series.id).await?;
            let key = if waitlisted {
                "timeline.done_waitlisted"
            } else {
                "timeline.done_enrolled"
            };
            let name_of_series = series.name.get(turn.lang());
            let done = turn.fill(key, &[("name", &name), ("series", name_of_series)]);
            format!("{done}\n\n{line}")
        }
        (Role::Professional, None) => {
            let done = turn.fill("timeline.done_no_series", &[("name", &name)]);
            match closed_meanwhile {
                Some(closed) => format!("{closed}\n\n{done}"),
                None => done,
            }
        }
        _ => turn.fill(
            &format!("registration.done.{}", role.as_str()),
            &[("name", &name)],
        ),
    };
    out.push(Reply::text(done));
    // The menu, the peer group and coaching follow (`FollowUp::Registered`).
    out.follow_ups.push(FollowUp::Registered(participant));
    Ok(out)
}
