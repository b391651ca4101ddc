//! Survey invitations (with progress while answering), pseudonyms and submitted responses (rounds sent by
//! hand: `survey_rounds`).
use super::{DbError, Tx};
use crate::domain::Lang;
use crate::domain::survey::{Answer, Answers, Tally};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationStatus {
    Invited,
    Answering,
    Submitted,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Invited => "invited",
            InvitationStatus::Answering => "answering",
            InvitationStatus::Submitted => "submitted",
        }
    }

    fn parse(raw: &str) -> Result<Self, DbError> {
        match raw {
            "invited" => Ok(InvitationStatus::Invited),
            "answering" => Ok(InvitationStatus::Answering),
            "submitted" => Ok(InvitationStatus::Submitted),
            other => Err(DbError::Corrupt(format!("invitation status '{other}'"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub id: i64,
    pub survey_id: String,
    pub trigger_key: String,
    pub telegram_user_id: i64,
    pub status: InvitationStatus,
    pub answers: Answers,
    pub current_question: Option<String>,
    pub invited_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type InvitationRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
);

const INVITATION_COLUMNS: &str = "id, survey_id, trigger_key, telegram_user_id, status, answers, current_question, invited_at, closes_at, updated_at";

fn invitation(row: InvitationRow) -> Result<Invitation, DbError> {
    let (
        id,
        survey_id,
        trigger_key,
        user,
        status,
        answers,
        current_question,
        invited_at,
        closes_at,
        updated_at,
    ) = row;
    Ok(Invitation {
        id,
        survey_id,
        trigger_key,
        telegram_user_id: user,
        status: InvitationStatus::parse(&status)?,
        answers: serde_json::from_str(&answers)
            .map_err(|e| DbError::Corrupt(format!("survey answers of invitation {id}: {e}")))?,
        current_question,
        invited_at,
        closes_at,
        updated_at,
    })
}

/// Records an invitation unless this person already has one for the survey and trigger; returns its id
/// when it is new.
pub async fn invite(
    tx: &mut Tx,
    survey: &str,
    trigger_key: &str,
    user: i64,
    now: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO survey_invitations (survey_id, trigger_key, telegram_user_id, status, invited_at, closes_at, updated_at)
         VALUES (?, ?, ?, 'invited', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(survey)
    .bind(trigger_key)
    .bind(user)
    .bind(now)
    .bind(closes_at)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    if id.is_some() {
        sqlx::query(
            "INSERT INTO survey_invited_counts (survey_id, trigger_key, invited) VALUES (?, ?, 1)
             ON CONFLICT (survey_id, trigger_key) DO UPDATE SET invited = invited + 1",
        )
        .bind(survey)
        .bind(trigger_key)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// Who already has an invitation for a survey and trigger (so a scheduler pass skips them without a write).
pub async fn invited_users(
    tx: &mut Tx,
    survey: &str,
    trigger_key: &str,
) -> Result<std::collections::HashSet<i64>, DbError> {
    let users: Vec<i64> = sqlx::query_scalar(
        "SELECT telegram_user_id FROM survey_invitations WHERE survey_id = ? AND trigger_key = ?",
    )
    .bind(survey)
    .bind(trigger_key)
    .fetch_all(&mut **tx)
    .await?;
    Ok(users.into_iter().collect())
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Invitation>, DbError> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE id = ?");
    sqlx::query_as::<_, InvitationRow>(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(invitation)
        .transpose()
}

/// The survey this person touched last and has not submitted (where a typed answer goes).
pub async fn answering(tx: &mut Tx, user: i64) -> Result<Option<Invitation>, DbError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM survey_invitations
         WHERE telegram_user_id = ? AND status = 'answering' ORDER BY updated_at DESC, id DESC LIMIT 1"
    );
    sqlx::query_as::<_, InvitationRow>(&sql)
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?
        .map(invitation)
        .transpose()
}

/// Every invitation of one person, newest first (`/mydata`).
pub async fn of_user(tx: &mut Tx, user: i64) -> Result<Vec<Invitation>, DbError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE telegram_user_id = ? ORDER BY invited_at DESC, id DESC"
    );
    sqlx::query_as::<_, InvitationRow>(&sql)
        .bind(user)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(invitation)
        .collect()
}

/// Saves progress: the answers so far and the question on screen (None: the summary).
pub async fn save_progress(
    tx: &mut Tx,
    id: i64,
    answers: &Answers,
    current_question: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let json = serde_json::to_string(answers).map_err(|e| DbError::Corrupt(e.to_string()))?;
    sqlx::query(
        "UPDATE survey_invitations SET status = 'answering', answers = ?, current_question = ?, updated_at = ?
         WHERE id = ? AND status != 'submitted'",
    )
    .bind(json)
    .bind(current_question)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks an invitation submitted and clears its answers (they now live in the response). `at` is the time
/// recorded as its last change (an anonymous survey keeps the invitation time, not the submission's).
pub async fn mark_submitted(tx: &mut Tx, id: i64, at: DateTime<Utc>) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE survey_invitations SET status = 'submitted', answers = '{}', current_question = NULL, updated_at = ?
         WHERE id = ? AND status != 'submitted'",
    )
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The person's pseudonym, made on first use (12 random hex digits).
pub async fn pseudonym(tx: &mut Tx, user: i64, now: DateTime<Utc>) -> Result<String, DbError> {
    if let Some(existing) = pseudonym_of(tx, user).await? {
        return Ok(existing);
    }
    loop {
        let bytes: [u8; 6] = rand::random();
        let candidate: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let inserted = sqlx::query(
            "INSERT INTO survey_pseudonyms (telegram_user_id, pseudonym, created_at) VALUES (?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(&candidate)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(candidate);
        }
    }
}

/// `/forget` and the retention purge: the person's submitted responses lose the pseudonym they saw in
/// `/mydata` (and with it any research consent), so nothing stored still matches what they were shown. The
/// answers stay, anonymous. Runs before the pseudonym row itself is deleted.
pub async fn unlink_responses(tx: &mut Tx, user: i64) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE survey_responses SET pseudonym = NULL, research_consent = 0
         WHERE pseudonym IN (SELECT pseudonym FROM survey_pseudonyms WHERE telegram_user_id = ?)",
    )
    .bind(user)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

pub async fn pseudonym_of(tx: &mut Tx, user: i64) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT pseudonym FROM survey_pseudonyms WHERE telegram_user_id = ?")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// A response about to be stored.
#[derive(Clone, Debug)]
pub struct NewResponse<'a> {
    pub survey_id: &'a str,
    pub survey_version: u32,
    pub trigger_key: &'a str,
    pub series_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    /// None for anonymous surveys.
    pub pseudonym: Option<&'a str>,
    /// Anonymous surveys only: the research consent as it was at submission.
    pub research_consent: Option<bool>,
    pub answers: &'a Answers,
    pub submitted_at: DateTime<Utc>,
}

pub async fn insert_response(tx: &mut Tx, r: &NewResponse<'_>) -> Result<i64, DbError> {
    let json = serde_json::to_string(r.answers).map_err(|e| DbError::Corrupt(e.to_string()))?;
    Ok(sqlx::query_scalar(
        "INSERT INTO survey_responses (survey_id, survey_version, trigger_key, series_id, session_id, pseudonym,
           research_consent, answers, submitted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(r.survey_id)
    .bind(r.survey_version)
    .bind(r.trigger_key)
    .bind(r.series_id)
    .bind(r.session_id)
    .bind(r.pseudonym)
    .bind(r.research_consent)
    .bind(json)
    .bind(r.submitted_at)
    .fetch_one(&mut **tx)
    .await?)
}

/// A stored response, with whether it may go to research now.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredResponse {
    pub id: i64,
    pub survey_version: u32,
    pub trigger_key: String,
    pub series_id: Option<String>,
    pub session_id: Option<String>,
    pub pseudonym: Option<String>,
    /// Anonymous: the consent at submission. Pseudonymous: the person's consent now (false once the link is
    /// gone through /forget or the consent was withdrawn).
    pub research_consent: bool,
    pub answers: Answers,
    pub submitted_at: DateTime<Utc>,
}

type ResponseRow = (
    i64,
    u32,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    String,
    DateTime<Utc>,
);

/// A survey's responses in submission order, optionally of one series or one session.
pub async fn responses(
    conn: &mut sqlx::SqliteConnection,
    survey: &str,
    series: Option<&str>,
    session: Option<&str>,
) -> Result<Vec<StoredResponse>, DbError> {
    let rows: Vec<ResponseRow> = sqlx::query_as(
        "SELECT r.id, r.survey_version, r.trigger_key, r.series_id, r.session_id, r.pseudonym,
           CASE WHEN r.pseudonym IS NULL THEN COALESCE(r.research_consent, 0)
                ELSE COALESCE(p.research_consent, 0) END,
           r.answers, r.submitted_at
         FROM survey_responses r
         LEFT JOIN survey_pseudonyms s ON s.pseudonym = r.pseudonym
         LEFT JOIN participants p ON p.telegram_user_id = s.telegram_user_id
         WHERE r.survey_id = ?1 AND (?2 IS NULL OR r.series_id = ?2) AND (?3 IS NULL OR r.session_id = ?3)
         ORDER BY r.id",
    )
    .bind(survey)
    .bind(series)
    .bind(session)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(
            |(id, version, trigger_key, series_id, session_id, pseudonym, consent, answers, at)| {
                Ok(StoredResponse {
                    id,
                    survey_version: version,
                    trigger_key,
                    series_id,
                    session_id,
                    pseudonym,
                    research_consent: consent,
                    answers: serde_json::from_str(&answers)
                        .map_err(|e| DbError::Corrupt(format!("survey response {id}: {e}")))?,
                    submitted_at: at,
                })
            },
        )
        .collect()
}

/// How many were invited, by trigger key (for response rates).
pub async fn invited_by_trigger(
    conn: &mut sqlx::SqliteConnection,
    survey: &str,
) -> Result<Vec<(String, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT trigger_key, invited FROM survey_invited_counts WHERE survey_id = ? ORDER BY trigger_key",
    )
    .bind(survey)
    .fetch_all(&mut *conn)
    .await?)
}

/// A father in a peer group, and since when (his registration with the group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    pub telegram_user_id: i64,
    pub chat_id: i64,
    pub language: Lang,
    pub group_id: String,
    pub since: DateTime<Utc>,
}

/// Fathers in a peer group, with the time the bot let them in (their join request was approved).
pub async fn peer_group_members(tx: &mut Tx) -> Result<Vec<GroupMember>, DbError> {
    let rows: Vec<(i64, i64, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT u.telegram_user_id, u.chat_id, u.language, m.group_id, m.at
         FROM group_members m JOIN users u ON u.telegram_user_id = m.telegram_user_id
         WHERE m.status = 'approved' ORDER BY u.telegram_user_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(user, chat, lang, group, since)| {
            Ok(GroupMember {
                telegram_user_id: user,
                chat_id: chat,
                language: Lang::parse(&lang)
                    .ok_or_else(|| DbError::Corrupt(format!("language '{lang}'")))?,
                group_id: group,
                since,
            })
        })
        .collect()
}

/// When each father joined his peer group (the bot approved his join request), to wake the scheduler for the
/// N-week surveys.
pub async fn group_member_times(pool: &SqlitePool) -> Result<Vec<DateTime<Utc>>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT at FROM group_members WHERE status = 'approved'")
            .fetch_all(pool)
            .await?,
    )
}

/// The research consent of a registered person (None: not registered).
pub async fn research_consent(tx: &mut Tx, user: i64) -> Result<Option<bool>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT research_consent FROM participants WHERE telegram_user_id = ?")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// The responses sent under a pseudonym, oldest first (`/mydata`): survey id, answers, time.
pub async fn responses_of(
    tx: &mut Tx,
    pseudonym: &str,
) -> Result<Vec<(String, Answers, DateTime<Utc>)>, DbError> {
    let rows: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT survey_id, answers, submitted_at FROM survey_responses WHERE pseudonym = ? ORDER BY id",
    )
    .bind(pseudonym)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(survey, answers, at)| {
            let answers = serde_json::from_str(&answers)
                .map_err(|e| DbError::Corrupt(format!("survey response of {survey}: {e}")))?;
            Ok((survey, answers, at))
        })
        .collect()
}

/// A survey's responses counted per place (series and session, either absent): how many responded and how
/// many gave each answer, counted by SQLite without reading the responses (free-text answers are counted as
/// one empty text each).
pub async fn tallies(
    conn: &mut sqlx::SqliteConnection,
    survey: &str,
) -> Result<BTreeMap<Place, Tally>, DbError> {
    let mut tallies: BTreeMap<Place, Tally> = BTreeMap::new();
    let places: Vec<(Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT series_id, session_id, COUNT(*) FROM survey_responses WHERE survey_id = ?
         GROUP BY series_id, session_id",
    )
    .bind(survey)
    .fetch_all(&mut *conn)
    .await?;
    for (series, session, n) in places {
        tallies.entry((series, session)).or_default().responses = n as usize;
    }
    let answers: Vec<CountedAnswer> = sqlx::query_as(
        "SELECT r.series_id, r.session_id, a.key,
                CASE WHEN a.type <> 'object' THEN json_quote(a.value)
                     WHEN json_type(a.value, '$.text') IS NOT NULL THEN '{\"text\":\"\"}'
                     ELSE a.value END AS answer,
                COUNT(*)
         FROM survey_responses r, json_each(r.answers) a
         WHERE r.survey_id = ?
         GROUP BY r.series_id, r.session_id, a.key, answer",
    )
    .bind(survey)
    .fetch_all(&mut *conn)
    .await?;
    for (series, session, question, answer, n) in answers {
        let answer: Answer = serde_json::from_str(&answer)
            .map_err(|e| DbError::Corrupt(format!("survey {survey} answer {answer}: {e}")))?;
        tallies
            .entry((series, session))
            .or_default()
            .add(&question, answer, n as usize);
    }
    Ok(tallies)
}

/// Where responses were given: their series and session.
pub type Place = (Option<String>, Option<String>);

/// A place's series and session, a question, an answer (JSON) and how many gave it.
type CountedAnswer = (Option<String>, Option<String>, String, String, i64);
