//! Answering a survey: one message per question (buttons for Likert and choices, a typed reply for text),
//! progress saved after every answer, a summary to check and change, then one submission.
use super::super::{Response, Turn};
use super::screens::{ask, button, summary};
use crate::db::outbox;
use crate::db::surveys::{self as store, Invitation, InvitationStatus, NewResponse};
use crate::db::{DbError, Tx};
use crate::domain::callback::SurveyAction;
use crate::domain::survey::{
    Answer, Answers, Question, QuestionKind, Survey, TextProblem, Trigger, likert_value,
    reminder_key, toggle,
};
use crate::domain::{Button, Reply};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Shows the question `next` (or the summary) and remembers it as the one on screen.
async fn show(
    tx: &mut Tx,
    turn: &Turn<'_>,
    survey: &Survey,
    inv: &mut Invitation,
    next: Option<&Question>,
    now: DateTime<Utc>,
    out: &mut Response,
) -> Result<(), DbError> {
    inv.current_question = next.map(|q| q.id.clone());
    inv.status = InvitationStatus::Answering;
    store::save_progress(
        tx,
        inv.id,
        &inv.answers,
        inv.current_question.as_deref(),
        now,
    )
    .await?;
    out.push(match next {
        Some(q) => ask(turn, survey, inv, q),
        None => summary(turn, survey, inv),
    });
    Ok(())
}

/// Where to go after answering `q`: the next question if still unanswered, else the first unanswered one,
/// else the summary (so changing one answer from the summary comes straight back to it).
fn after_answer<'s>(survey: &'s Survey, answers: &Answers, q: &Question) -> Option<&'s Question> {
    match survey.after(&q.id) {
        Some(next) if !answers.contains_key(&next.id) => Some(next),
        _ => survey.first_unanswered(answers),
    }
}

/// The invitation behind a button, if it is this person's and still open; otherwise the answer is given.
async fn open_invitation(
    tx: &mut Tx,
    turn: &Turn<'_>,
    id: i64,
    now: DateTime<Utc>,
    out: &mut Response,
) -> Result<Option<(Invitation, Arc<crate::content::Content>)>, DbError> {
    let content = turn.content.clone();
    let inv = store::get(tx, id).await?;
    let Some(inv) = inv.filter(|i| i.telegram_user_id == turn.user.telegram_user_id) else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(None);
    };
    if content.survey(&inv.survey_id).is_none() {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(None);
    }
    if inv.status == InvitationStatus::Submitted {
        out.push(Reply::text(turn.text("survey.already_submitted")));
        return Ok(None);
    }
    if now >= inv.closes_at {
        out.push(Reply::text(turn.text("survey.closed")));
        return Ok(None);
    }
    Ok(Some((inv, content)))
}

pub async fn on_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    action: SurveyAction,
    out: &mut Response,
) -> Result<(), DbError> {
    let now = turn.ctx.clock.now();
    let id = match &action {
        SurveyAction::Start(id) | SurveyAction::Change(id) | SurveyAction::Submit(id) => *id,
        SurveyAction::Answer { invitation, .. }
        | SurveyAction::Toggle { invitation, .. }
        | SurveyAction::Done { invitation, .. }
        | SurveyAction::Skip { invitation, .. }
        | SurveyAction::Back { invitation, .. }
        | SurveyAction::Goto { invitation, .. } => *invitation,
        _ => return Ok(()),
    };
    let Some((mut inv, content)) = open_invitation(tx, turn, id, now, out).await? else {
        return Ok(());
    };
    let Some(survey) = content.survey(&inv.survey_id) else {
        return Ok(());
    };
    let lang = turn.lang();
    // Buttons of a question work only while it is the one on screen; older messages get a toast.
    let on_screen = |q: &str| {
        inv.status == InvitationStatus::Answering && inv.current_question.as_deref() == Some(q)
    };
    match action {
        SurveyAction::Start(_) => {
            let next = match (&inv.status, &inv.current_question) {
                // (A question removed from the content since: the first one still unanswered.)
                (InvitationStatus::Answering, Some(q)) => survey
                    .question(q)
                    .or_else(|| survey.first_unanswered(&inv.answers)),
                _ => survey.first_unanswered(&inv.answers),
            };
            show(tx, turn, survey, &mut inv, next, now, out).await
        }
        SurveyAction::Answer { question, code, .. } => {
            let Some(q) = survey
                .question(&question)
                .filter(|q| on_screen(&q.id) && q.accepts(&code))
            else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            let answer = match q.kind {
                QuestionKind::Likert => likert_value(&code).map(Answer::Likert),
                QuestionKind::Single => Some(Answer::Single(code)),
                _ => None,
            };
            let Some(answer) = answer else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            out.mark_pressed = Some(format!("✅ {}", q.describe(&answer, lang)));
            inv.answers.insert(q.id.clone(), answer);
            let next = after_answer(survey, &inv.answers, q);
            show(tx, turn, survey, &mut inv, next, now, out).await
        }
        SurveyAction::Toggle { question, code, .. } => {
            let Some(q) = survey.question(&question).filter(|q| {
                on_screen(&q.id) && q.kind == QuestionKind::Multiple && q.accepts(&code)
            }) else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            let chosen = toggle(q, inv.answers.get(&q.id), &code);
            inv.answers.insert(q.id.clone(), chosen);
            store::save_progress(tx, inv.id, &inv.answers, Some(&q.id), now).await?;
            out.replace_pressed = Some(ask(turn, survey, &inv, q));
            Ok(())
        }
        SurveyAction::Done { question, .. } => {
            let Some(q) = survey.question(&question).filter(|q| on_screen(&q.id)) else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            match (q.kind, inv.answers.get(&q.id)) {
                (QuestionKind::Multiple, Some(Answer::Multiple(codes))) if !codes.is_empty() => {}
                (QuestionKind::Multiple, _) if q.optional => {
                    inv.answers.insert(q.id.clone(), Answer::Skipped);
                }
                (QuestionKind::Multiple, _) => {
                    out.toast = Some(turn.text("survey.need_choice"));
                    return Ok(());
                }
                (QuestionKind::Text, Some(Answer::Text(_))) => {}
                _ => {
                    out.toast = Some(turn.text("survey.stale"));
                    return Ok(());
                }
            }
            let shown = q.describe(&inv.answers[&q.id], lang);
            out.mark_pressed = Some(format!("✅ {shown}"));
            let next = after_answer(survey, &inv.answers, q);
            show(tx, turn, survey, &mut inv, next, now, out).await
        }
        SurveyAction::Skip { question, .. } => {
            let Some(q) = survey
                .question(&question)
                .filter(|q| on_screen(&q.id) && q.optional)
            else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            out.mark_pressed = Some(format!("⏭ {}", turn.text("survey.skipped")));
            inv.answers.insert(q.id.clone(), Answer::Skipped);
            let next = after_answer(survey, &inv.answers, q);
            show(tx, turn, survey, &mut inv, next, now, out).await
        }
        SurveyAction::Back { question, .. } => {
            let Some(previous) = survey.before(&question).filter(|_| on_screen(&question)) else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            out.mark_pressed = Some(format!("↩ {}", turn.text("button.survey.back")));
            show(tx, turn, survey, &mut inv, Some(previous), now, out).await
        }
        SurveyAction::Change(_) => {
            if inv.current_question.is_some() || inv.status != InvitationStatus::Answering {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            }
            let buttons: Vec<Button> = survey
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    button(
                        (i + 1).to_string(),
                        SurveyAction::Goto {
                            invitation: inv.id,
                            question: q.id.clone(),
                        },
                    )
                })
                .collect();
            let rows = buttons.chunks(5).map(|c| c.to_vec()).collect();
            out.push(Reply::with_buttons(
                turn.text("survey.change_question"),
                rows,
            ));
            Ok(())
        }
        SurveyAction::Goto { question, .. } => {
            let Some(q) = survey
                .question(&question)
                .filter(|_| inv.current_question.is_none())
            else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(());
            };
            show(tx, turn, survey, &mut inv, Some(q), now, out).await
        }
        SurveyAction::Submit(_) => submit(tx, turn, survey, &inv, now, out).await,
        _ => Ok(()),
    }
}

async fn submit(
    tx: &mut Tx,
    turn: &Turn<'_>,
    survey: &Survey,
    inv: &Invitation,
    now: DateTime<Utc>,
    out: &mut Response,
) -> Result<(), DbError> {
    if inv.current_question.is_some() || !survey.complete(&inv.answers) {
        out.toast = Some(turn.text("survey.stale"));
        return Ok(());
    }
    let user = turn.user.telegram_user_id;
    let trigger = Trigger::parse(&inv.trigger_key);
    let (pseudonym, consent, submitted_at, marked_at) = if survey.anonymous {
        // No link at all: the consent as it is now, the day only, and the invitation keeps its own time.
        let consent = store::research_consent(tx, user).await?.unwrap_or(false);
        (
            None,
            Some(consent),
            start_of_local_day(turn, now),
            inv.invited_at,
        )
    } else {
        (Some(store::pseudonym(tx, user, now).await?), None, now, now)
    };
    let mut answers = inv.answers.clone();
    for q in &survey.questions {
        answers.entry(q.id.clone()).or_insert(Answer::Skipped);
    }
    if !store::mark_submitted(tx, inv.id, marked_at).await? {
        out.push(Reply::text(turn.text("survey.already_submitted")));
        return Ok(());
    }
    store::insert_response(
        tx,
        &NewResponse {
            survey_id: &survey.id,
            survey_version: survey.version,
            trigger_key: &inv.trigger_key,
            series_id: trigger.as_ref().and_then(|t| t.series()),
            session_id: trigger.as_ref().and_then(|t| t.session()),
            pseudonym: pseudonym.as_deref(),
            research_consent: consent,
            answers: &answers,
            submitted_at,
        },
    )
    .await?;
    if let Some(trigger) = &trigger {
        let key = reminder_key(&survey.id, trigger, user);
        if let Some(id) = outbox::pending_by_key(tx, &key).await? {
            outbox::cancel(tx, id, "survey submitted").await?;
        }
    }
    out.mark_pressed = Some(format!("✅ {}", turn.text("button.survey.submit")));
    out.push(Reply::text(turn.fill(
        "survey.submitted",
        &[("title", survey.title.get(turn.lang()))],
    )));
    Ok(())
}

fn start_of_local_day(turn: &Turn<'_>, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = turn.ctx.config.timezone;
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    crate::domain::time::local_to_utc(tz, midnight)
}

/// A typed reply (or a sticker, photo… as `None`) goes to the survey in progress when its question on screen
/// is a text question; returns false when it is not meant for a survey (registration and the rest handle it).
pub async fn on_text(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    text: Option<&str>,
    out: &mut Response,
) -> Result<bool, DbError> {
    let now = turn.ctx.clock.now();
    let Some(mut inv) = store::answering(tx, turn.user.telegram_user_id).await? else {
        return Ok(false);
    };
    // A dialogue (registration, editing the profile) begun after this question was shown (or at the same
    // instant) gets the text.
    if turn
        .state
        .as_ref()
        .is_some_and(|state| state.updated_at >= inv.updated_at)
    {
        return Ok(false);
    }
    let content = turn.content.clone();
    let Some(survey) = content.survey(&inv.survey_id) else {
        return Ok(false);
    };
    let Some(q) = inv
        .current_question
        .as_deref()
        .and_then(|id| survey.question(id))
        .filter(|q| q.kind == QuestionKind::Text)
    else {
        return Ok(false);
    };
    if now >= inv.closes_at {
        out.push(Reply::text(turn.text("survey.closed")));
        return Ok(true);
    }
    let Some(text) = text else {
        out.push(Reply::text(
            turn.fill("survey.need_text", &[("max", &q.max_text().to_string())]),
        ));
        return Ok(true);
    };
    match q.text_answer(text) {
        Ok(answer) => {
            inv.answers.insert(q.id.clone(), Answer::Text(answer));
            let next = after_answer(survey, &inv.answers, q);
            show(tx, turn, survey, &mut inv, next, now, out).await?;
        }
        Err(TextProblem::TooLong { max }) => {
            out.push(Reply::text(turn.fill(
                "survey.too_long",
                &[
                    ("length", &text.trim().chars().count().to_string()),
                    ("max", &max.to_string()),
                ],
            )));
        }
        Err(TextProblem::Empty) => out.push(Reply::text(turn.text("problem.empty"))),
    }
    Ok(true)
}
