//! What a person is in the middle of, loaded once per text or media message and routed on with one `match`
//! (`services::handle_on`). Commands and buttons do not depend on it: they say what they are for.
use super::Turn;
use crate::db::broadcasts::{self, Broadcast};
use crate::db::coaching::{self, Coaching};
use crate::db::dialogues::{self, DialogueState, FlowKind};
use crate::db::surveys::{self, Invitation};
use crate::db::{DbError, Tx};
use crate::domain::Answers;
use crate::domain::survey::QuestionKind;

pub(crate) enum Conversation {
    /// A coordinator writing a broadcast: the draft waits for its message or its time.
    ComposingBroadcast(Broadcast, BroadcastStep),
    /// A survey whose question on screen is an open text question.
    AnsweringSurvey(Invitation),
    /// A father's coaching step whose reflection question is open (and no other dialogue is).
    WritingReflection(Coaching),
    /// Registering (the step whose question is pending is `Turn::state`, which the registration moves on).
    Registering,
    /// Changing one answer of the profile (likewise in `Turn::state`).
    EditingField,
    Idle,
}

/// What a broadcast draft expects in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BroadcastStep {
    /// The message to copy to everyone (any kind).
    Message,
    /// When to send it ("10.4. klo 12.30").
    Time,
}

impl Conversation {
    /// In order of precedence: a coordinator's broadcast draft; a survey's text question (the person tapped
    /// into it, unless a registration or profile edit began after it was shown); a coaching reflection
    /// (only when no registration or edit is in progress); a registration or edit; nothing.
    pub async fn load(
        tx: &mut Tx,
        turn: &Turn<'_>,
        message_id: Option<i64>,
    ) -> Result<Conversation, DbError> {
        let user = turn.user.telegram_user_id;
        if turn.is_coordinator()
            && let Some(draft) = broadcasts::draft_of(tx, user).await?
        {
            let step = match draft.step.as_str() {
                "message" if message_id.is_some() => Some(BroadcastStep::Message),
                "time" => Some(BroadcastStep::Time),
                _ => None,
            };
            if let Some(step) = step {
                return Ok(Conversation::ComposingBroadcast(draft, step));
            }
        }
        if let Some(invitation) = surveys::answering(tx, user).await?
            && takes_text(turn, &invitation)
        {
            return Ok(Conversation::AnsweringSurvey(invitation));
        }
        Ok(match &turn.state {
            None => match coaching::get(tx, user).await? {
                Some(c) if c.open_step.is_some() => Conversation::WritingReflection(c),
                _ => Conversation::Idle,
            },
            Some(state) if state.flow == FlowKind::Edit => Conversation::EditingField,
            Some(_) => Conversation::Registering,
        })
    }
}

/// Whether a message goes to the survey: its question on screen takes text, and no dialogue (registration,
/// editing the profile) began after it was shown, or at the same instant.
fn takes_text(turn: &Turn<'_>, invitation: &Invitation) -> bool {
    let newer_dialogue = turn
        .state
        .as_ref()
        .is_some_and(|state| state.updated_at >= invitation.updated_at);
    !newer_dialogue
        && turn
            .content
            .survey(&invitation.survey_id)
            .and_then(|survey| survey.question(invitation.current_question.as_deref()?))
            .is_some_and(|q| q.kind == QuestionKind::Text)
}

/// Saves where the person is in a dialogue (registration, a profile edit) and makes it the turn's state.
pub(super) async fn save(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    flow: FlowKind,
    step: String,
    answers: Answers,
) -> Result<(), DbError> {
    let state = DialogueState {
        flow,
        step,
        answers,
        content_version: turn.content.flow_version(),
        updated_at: turn.now,
    };
    dialogues::put(tx, turn.user.telegram_user_id, &state).await?;
    turn.state = Some(state);
    Ok(())
}
