//! Answering a survey: one message per question (buttons for Likert and choices, a typed reply for text),
//! progress saved after every answer, a summary to check and change, then one submission.
use super::super::{Effects, Turn};
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
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
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
    Ok(out)
}

/// Where to go after answering `q`: the next question if still unanswered, else the first unanswered one,
/// else the summary (so changing one answer from the summary comes straight back to it).
fn after_answer<'s>(survey: &'s Survey, answers: &Answers, q: &Question) -> Option<&'s Question> {
    match survey.after(&q.id) {
        Some(next) if !answers.contains_key(&next.id) => Some(next),
        _ => survey.first_unanswered(answers),
    }
}

/// The invitation behind a button, if it is this person's and still open; otherwise what to answer.
async fn open_invitation(
    tx: &mut Tx,
    turn: &Turn<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Result<(Invitation, Arc<crate::content::Content>), Effects>, DbError> {
    let content = turn.content.clone();
    let inv = store::get(tx, id).await?;
    let Some(inv) = inv.filter(|i| i.telegram_user_id == turn.user.telegram_user_id) else {
        return Ok(Err(Effects::toast(turn.text("problem.button_expired"))));
    };
    if content.survey(&inv.survey_id).is_none() {
        return Ok(Err(Effects::toast(turn.text("problem.button_expired"))));
    }
    if inv.status == InvitationStatus::Submitted {
        return Ok(Err(Effects::text(turn.text("survey.already_submitted"))));
    }
    if now >= inv.closes_at {
        return Ok(Err(Effects::text(turn.text("survey.closed"))));
    }
    Ok(Ok((inv, content)))
}

pub async fn on_button(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    action: SurveyAction,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let now = turn.now;
    let id = match &action {
        SurveyAction::Start(id) | SurveyAction::Change(id) | SurveyAction::Submit(id) => *id,
        SurveyAction::Answer { invitation, .. }
        | SurveyAction::Toggle { invitation, .. }
        | SurveyAction::Done { invitation, .. }
        | SurveyAction::Skip { invitation, .. }
        | SurveyAction::Back { invitation, .. }
        | SurveyAction::Goto { invitation, .. } => *invitation,
        _ => return Ok(out),
    };
    let (mut inv, content) = match open_invitation(tx, turn, id, now).await? {
        Ok(open) => open,
        Err(refusal) => return Ok(refusal),
    };
    let Some(survey) = content.survey(&inv.survey_id) else {
        return Ok(out);
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
            Ok(out.and(show(tx, turn, survey, &mut inv, next, now).await?))
        }
        SurveyAction::Answer { question, code, .. } => {
            let Some(q) = survey
                .question(&question)
                .filter(|q| on_screen(&q.id) && q.accepts(&code))
            else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            let answer = match q.kind {
                QuestionKind::Likert => likert_value(&code).map(Answer::Likert),
                QuestionKind::Single => Some(Answer::Single(code)),
                _ => None,
            };
            let Some(answer) = answer else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            out.mark_pressed = Some(format!("✅ {}", q.describe(&answer, lang)));
            inv.answers.insert(q.id.clone(), answer);
            let next = after_answer(survey, &inv.answers, q);
            Ok(out.and(show(tx, turn, survey, &mut inv, next, now).await?))
        }
        SurveyAction::Toggle { question, code, .. } => {
            let Some(q) = survey.question(&question).filter(|q| {
                on_screen(&q.id) && q.kind == QuestionKind::Multiple && q.accepts(&code)
            }) else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            let chosen = toggle(q, inv.answers.get(&q.id), &code);
            inv.answers.insert(q.id.clone(), chosen);
            store::save_progress(tx, inv.id, &inv.answers, Some(&q.id), now).await?;
            out.replace_pressed = Some(ask(turn, survey, &inv, q));
            Ok(out)
        }
        SurveyAction::Done { question, .. } => {
            let Some(q) = survey.question(&question).filter(|q| on_screen(&q.id)) else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            match (q.kind, inv.answers.get(&q.id)) {
                (QuestionKind::Multiple, Some(Answer::Multiple(codes))) if !codes.is_empty() => {}
                (QuestionKind::Multiple, _) if q.optional => {
                    inv.answers.insert(q.id.clone(), Answer::Skipped);
                }
                (QuestionKind::Multiple, _) => {
                    out.toast = Some(turn.text("survey.need_choice"));
                    return Ok(out);
                }
                (QuestionKind::Text, Some(Answer::Text(_))) => {}
                _ => {
                    out.toast = Some(turn.text("survey.stale"));
                    return Ok(out);
                }
            }
            let shown = q.describe(&inv.answers[&q.id], lang);
            out.mark_pressed = Some(format!("✅ {shown}"));
            let next = after_answer(survey, &inv.answers, q);
            Ok(out.and(show(tx, turn, survey, &mut inv, next, now).await?))
        }
        SurveyAction::Skip { question, .. } => {
            let Some(q) = survey
                .question(&question)
                .filter(|q| on_screen(&q.id) && q.optional)
            else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            out.mark_pressed = Some(format!("⏭ {}", turn.text("survey.skipped")));
            inv.answers.insert(q.id.clone(), Answer::Skipped);
            let next = after_answer(survey, &inv.answers, q);
            Ok(out.and(show(tx, turn, survey, &mut inv, next, now).await?))
        }
        SurveyAction::Back { question, .. } => {
            let Some(previous) = survey.before(&question).filter(|_| on_screen(&question)) else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            out.mark_pressed = Some(format!("↩ {}", turn.text("button.survey.back")));
            Ok(out.and(show(tx, turn, survey, &mut inv, Some(previous), now).await?))
        }
        SurveyAction::Change(_) => {
            if inv.current_question.is_some() || inv.status != InvitationStatus::Answering {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
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
            Ok(out)
        }
        SurveyAction::Goto { question, .. } => {
            let Some(q) = survey
                .question(&question)
                .filter(|_| inv.current_question.is_none())
            else {
                out.toast = Some(turn.text("survey.stale"));
                return Ok(out);
            };
            Ok(out.and(show(tx, turn, survey, &mut inv, Some(q), now).await?))
        }
        SurveyAction::Submit(_) => Ok(out.and(submit(tx, turn, survey, &inv, now).await?)),
        _ => Ok(out),
    }
}

async fn submit(
    tx: &mut Tx,
    turn: &Turn<'_>,
    survey: &Survey,
    inv: &Invitation,
    now: DateTime<Utc>,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    if inv.current_question.is_some() || !survey.complete(&inv.answers) {
        out.toast = Some(turn.text("survey.stale"));
        return Ok(out);
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
        return Ok(out);
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
    Ok(out)
}

fn start_of_local_day(turn: &Turn<'_>, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = turn.tz();
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    crate::domain::time::local_to_utc(tz, midnight)
}

/// A typed reply (or a sticker, photo… as `None`) to the survey whose text question is on screen (see
/// `Conversation::AnsweringSurvey`).
pub async fn on_text(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    mut inv: Invitation,
    text: Option<&str>,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let now = turn.now;
    let content = turn.content.clone();
    let Some((survey, q)) = content.survey(&inv.survey_id).and_then(|survey| {
        let q = survey.question(inv.current_question.as_deref()?)?;
        Some((survey, q))
    }) else {
        // Cannot happen: the conversation was loaded from this invitation and content a moment ago.
        return Ok(out);
    };
    if now >= inv.closes_at {
        out.push(Reply::text(turn.text("survey.closed")));
        return Ok(out);
    }
    let Some(text) = text else {
        out.push(Reply::text(
            turn.fill("survey.need_text", &[("max", &q.max_text().to_string())]),
        ));
        return Ok(out);
    };
    match q.text_answer(text) {
        Ok(answer) => {
            inv.answers.insert(q.id.clone(), Answer::Text(answer));
            let next = after_answer(survey, &inv.answers, q);
            out.extend(show(tx, turn, survey, &mut inv, next, now).await?);
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
    Ok(out)
}
