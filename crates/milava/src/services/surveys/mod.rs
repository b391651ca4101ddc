//! Feedback surveys: invitations (from the scheduler and `/survey`), answering with buttons and typed replies
//! (`answer`), and the coordinators' `/survey`, `/results` and `/export` (`coordinator`, `results`, `export`).
pub(crate) mod anonymity;
mod answer;
mod coordinator;
pub mod export;
pub(crate) mod results;
pub mod round;
mod screens;
pub mod texts;

pub(crate) use answer::{on_button as on_answer_button, on_text};
pub(crate) use coordinator::{
    export_menu, on_button as on_coordinator_button, results_menu, start_round,
};

use crate::content::Content;
use crate::db::outbox::{self, NewDelivery};
use crate::db::surveys as store;
use crate::db::{DbError, Tx};
use crate::domain::callback::SurveyAction;
use crate::domain::outbox::Payload;
use crate::domain::survey::{Survey, Trigger, invitation_key, reminder_key};
use crate::domain::{Button, CallbackData, Lang};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Someone to invite.
#[derive(Clone, Copy, Debug)]
pub struct Invitee {
    pub user: i64,
    pub chat_id: i64,
    pub lang: Lang,
}

/// A survey opened by a trigger at a moment (it closes `closes_after` later).
#[derive(Clone, Debug)]
pub struct Occasion<'a> {
    pub survey: &'a Survey,
    pub trigger: Trigger,
    pub opened_at: DateTime<Utc>,
}

/// Invites one person (once per survey and trigger): records the invitation and puts the invitation and its
/// one reminder into the outbox, both expiring when the survey closes. Returns whether it was new.
pub async fn invite(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    occasion: &Occasion<'_>,
    who: Invitee,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let (survey, trigger) = (occasion.survey, &occasion.trigger);
    let closes_at = occasion.opened_at + survey.closes_after();
    if now >= closes_at {
        return Ok(false);
    }
    let Some(id) = store::invite(tx, &survey.id, &trigger.key(), who.user, now, closes_at).await?
    else {
        return Ok(false);
    };
    let closes = crate::services::present::local_date(tz, closes_at);
    let invitation = NewDelivery::new(
        invitation_key(&survey.id, trigger, who.user),
        who.chat_id,
        invitation_payload(content, who.lang, survey, id, &closes, false),
        now,
    )
    .for_user(who.user)
    .expires_at(closes_at);
    outbox::enqueue(tx, &invitation).await?;
    if let Some(after) = survey.remind_after() {
        let due = now + after;
        if due < closes_at {
            let reminder = NewDelivery::new(
                reminder_key(&survey.id, trigger, who.user),
                who.chat_id,
                invitation_payload(content, who.lang, survey, id, &closes, true),
                now,
            )
            .for_user(who.user)
            .due_at(due)
            .expires_at(closes_at);
            outbox::enqueue(tx, &reminder).await?;
        }
    }
    Ok(true)
}

fn invitation_payload(
    content: &Content,
    lang: Lang,
    survey: &Survey,
    invitation: i64,
    closes: &str,
    reminder: bool,
) -> Payload {
    let (key, button) = if reminder {
        ("survey.reminder", "button.survey.continue")
    } else {
        ("survey.invitation", "button.survey.start")
    };
    let text = content.fill(
        lang,
        key,
        &[
            ("title", survey.title.get(lang)),
            ("intro", survey.intro.get(lang)),
            ("closes", closes),
        ],
    );
    let start = Button::callback(
        content.text(lang, button),
        CallbackData::Survey(SurveyAction::Start(invitation)).encode(),
    );
    Payload::with_buttons(text, vec![vec![start]])
}

/// `/mydata`: the survey pseudonym and each invitation with where it stands.
pub(crate) async fn my_data_lines(
    tx: &mut Tx,
    turn: &super::Turn<'_>,
) -> Result<Vec<String>, DbError> {
    let user = turn.user.telegram_user_id;
    let mut lines = Vec::new();
    if let Some(pseudonym) = store::pseudonym_of(tx, user).await? {
        lines.push(turn.fill("survey.mydata_pseudonym", &[("pseudonym", &pseudonym)]));
        for (survey_id, answers, at) in store::responses_of(tx, &pseudonym).await? {
            let Some(survey) = turn.content.survey(&survey_id) else {
                continue;
            };
            let shown: Vec<String> = survey
                .questions
                .iter()
                .enumerate()
                .filter_map(|(i, q)| {
                    let answer = answers.get(&q.id)?;
                    (*answer != crate::domain::survey::Answer::Skipped)
                        .then(|| format!("{}. {}", i + 1, q.describe(answer, turn.lang())))
                })
                .collect();
            lines.push(turn.fill(
                "survey.mydata_answers",
                &[
                    ("title", survey.title.get(turn.lang())),
                    ("date", &turn.local_time(at)),
                    ("answers", &shown.join("; ")),
                ],
            ));
        }
    }
    for inv in store::of_user(tx, user).await? {
        let title = turn
            .content
            .survey(&inv.survey_id)
            .map(|s| s.title.get(turn.lang()).to_string())
            .unwrap_or_else(|| inv.survey_id.clone());
        let status = turn.text(&format!("survey.status_{}", inv.status.as_str()));
        lines.push(turn.fill(
            "survey.mydata_invitation",
            &[
                ("title", &title),
                ("date", &turn.local_time(inv.invited_at)),
                ("status", &status),
            ],
        ));
    }
    Ok(lines)
}
