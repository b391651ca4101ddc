use super::{DbError, Tx};
use crate::domain::Answers;
use chrono::{DateTime, Utc};

/// Which dialogue a user is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    Registration,
    /// Editing one answer from `/profile`.
    Edit,
}

impl FlowKind {
    fn as_str(self) -> &'static str {
        match self {
            FlowKind::Registration => "registration",
            FlowKind::Edit => "edit",
        }
    }

    fn parse(raw: &str) -> Option<FlowKind> {
        match raw {
            "registration" => Some(FlowKind::Registration),
            "edit" => Some(FlowKind::Edit),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogueState {
    pub flow: FlowKind,
    pub step: String,
    pub answers: Answers,
    pub content_version: String,
    pub updated_at: DateTime<Utc>,
}

/// A `dialogues` row as stored: flow, step, answers (JSON), content version, updated at.
pub(super) type StoredRow = (String, String, String, String, DateTime<Utc>);

/// A stored row as a state. One that no longer parses (an old deploy) is reported, not silently dropped: the
/// caller restarts it.
pub(super) fn parse(
    (flow, step, answers, content_version, updated_at): StoredRow,
) -> Result<DialogueState, DbError> {
    let flow = FlowKind::parse(&flow)
        .ok_or_else(|| DbError::Corrupt(format!("dialogue flow '{flow}'")))?;
    let answers: Answers = serde_json::from_str(&answers)
        .map_err(|e| DbError::Corrupt(format!("dialogue answers: {e}")))?;
    Ok(DialogueState {
        flow,
        step,
        answers,
        content_version,
        updated_at,
    })
}

pub async fn put(tx: &mut Tx, telegram_user_id: i64, state: &DialogueState) -> Result<(), DbError> {
    let answers =
        serde_json::to_string(&state.answers).map_err(|e| DbError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO dialogues (telegram_user_id, flow, step, answers, content_version, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (telegram_user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step,
           answers = excluded.answers, content_version = excluded.content_version, updated_at = excluded.updated_at",
    )
    .bind(telegram_user_id)
    .bind(state.flow.as_str())
    .bind(&state.step)
    .bind(answers)
    .bind(&state.content_version)
    .bind(state.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, telegram_user_id: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM dialogues WHERE telegram_user_id = ?")
        .bind(telegram_user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
