//! Survey rounds sent by hand (the chat's `/survey`, the console's Surveys page): the round, who already has a
//! survey, and a round's progress.
use super::{DbError, Tx};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// A round: its id is the trigger (`manual:{id}`) of the invitations it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    pub id: i64,
    pub survey_id: String,
    /// The audience's code (`Audience::code`).
    pub audience: String,
    pub coordinator: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn create_round(
    tx: &mut Tx,
    survey: &str,
    audience: &str,
    coordinator: i64,
    recipients: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO survey_rounds (survey_id, audience, coordinator, recipients, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(survey)
    .bind(audience)
    .bind(coordinator)
    .bind(recipients)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

/// Who has `survey` already, whatever sent it: an invitation still open at `now`, or one they answered.
pub async fn having_survey(
    tx: &mut Tx,
    survey: &str,
    now: DateTime<Utc>,
) -> Result<HashSet<i64>, DbError> {
    let users: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT telegram_user_id FROM survey_invitations
         WHERE survey_id = ? AND (status = 'submitted' OR closes_at > ?)",
    )
    .bind(survey)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    Ok(users.into_iter().collect())
}

type RoundRow = (i64, String, String, i64, DateTime<Utc>);

fn round((id, survey_id, audience, coordinator, created_at): RoundRow) -> Round {
    Round {
        id,
        survey_id,
        audience,
        coordinator,
        created_at,
    }
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Round>, DbError> {
    let row: Option<RoundRow> = sqlx::query_as(
        "SELECT id, survey_id, audience, coordinator, created_at FROM survey_rounds WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(round))
}

/// The latest rounds, newest first.
pub async fn recent(tx: &mut Tx, limit: i64) -> Result<Vec<Round>, DbError> {
    let rows: Vec<RoundRow> = sqlx::query_as(
        "SELECT id, survey_id, audience, coordinator, created_at FROM survey_rounds ORDER BY id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(round).collect())
}

/// A trigger's progress: invited (the count `/forget` does not lower), answering now, responses submitted.
pub async fn progress(
    tx: &mut Tx,
    survey: &str,
    trigger_key: &str,
) -> Result<(i64, i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT
           COALESCE((SELECT invited FROM survey_invited_counts WHERE survey_id = ?1 AND trigger_key = ?2), 0),
           (SELECT COUNT(*) FROM survey_invitations WHERE survey_id = ?1 AND trigger_key = ?2 AND status = 'answering'),
           (SELECT COUNT(*) FROM survey_responses WHERE survey_id = ?1 AND trigger_key = ?2)",
    )
    .bind(survey)
    .bind(trigger_key)
    .fetch_one(&mut **tx)
    .await?)
}
