//! A survey round sent by hand: the one implementation behind the chat's `/survey` and the console's Surveys
//! page. Both count with `count` and send with `send`, so the same people are invited under the same outbox
//! keys, and someone who already has this survey open, or has answered it, is left out by either adapter.
use super::{Invitee, Occasion};
use crate::content::Content;
use crate::db::survey_rounds::{self as store, Round};
use crate::db::{DbError, Tx, audit, broadcasts, programme};
use crate::domain::broadcast::Audience;
use crate::domain::survey::{Survey, Trigger};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The audiences a survey can be sent to by hand, in the chat's order: everyone, the research participants,
/// each series, each peer group.
pub fn audiences(content: &Content) -> Vec<Audience> {
    let mut all = vec![Audience::Everyone, Audience::Research];
    all.extend(
        content
            .series
            .iter()
            .map(|s| Audience::Series(s.id.clone())),
    );
    all.extend(content.groups.iter().map(|g| Audience::Group(g.id.clone())));
    all
}

/// Who a round would reach now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundCount {
    /// Invited if sent now.
    pub invited: usize,
    /// In the audience but left out: the bot cannot reach them.
    pub unreachable: i64,
    /// Left out: they turned announcements off.
    pub opted_out: i64,
    /// Left out: they have this survey open already, or have answered it.
    pub already: usize,
}

/// The audience's reachable people, split into those to invite and those who already have the survey.
async fn split(
    tx: &mut Tx,
    survey: &Survey,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Result<(Vec<broadcasts::Recipient>, usize), DbError> {
    let reachable = broadcasts::recipients(tx, audience).await?;
    let have = store::having_survey(tx, &survey.id, now).await?;
    let before = reachable.len();
    let invite: Vec<_> = reachable
        .into_iter()
        .filter(|(user, _)| !have.contains(user))
        .collect();
    let already = before - invite.len();
    Ok((invite, already))
}

/// How many a round of `survey` to `audience` would invite now, and who it leaves out.
pub async fn count(
    tx: &mut Tx,
    survey: &Survey,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Result<RoundCount, DbError> {
    let (invite, already) = split(tx, survey, audience, now).await?;
    let all = broadcasts::count_audience(tx, audience).await?;
    Ok(RoundCount {
        invited: invite.len(),
        unreachable: all.unreachable,
        opted_out: all.opted_out,
        already,
    })
}

/// A round that was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub round: i64,
    pub invited: usize,
}

/// Sends `survey` (which must have a manual trigger) to `audience` in the caller's transaction: a new round
/// (`manual:{round}`, the invitations' trigger and outbox keys), one invitation per person who does not have
/// the survey yet, and an audit line `survey_sent` naming the coordinator and where (`via`: "chat",
/// "console"). The caller wakes the outbox after commit.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    survey: &Survey,
    audience: &Audience,
    coordinator: i64,
    via: &str,
    now: DateTime<Utc>,
) -> Result<Sent, DbError> {
    let (recipients, already) = split(tx, survey, audience, now).await?;
    let code = audience.code();
    let round = store::create_round(
        tx,
        &survey.id,
        &code,
        coordinator,
        recipients.len() as i64,
        now,
    )
    .await?;
    let occasion = Occasion {
        survey,
        trigger: Trigger::Manual(round),
        opened_at: now,
    };
    let mut invited = 0;
    for (user, chat_id) in recipients {
        let Some((_, lang)) = programme::recipient(tx, user).await? else {
            continue;
        };
        let who = Invitee {
            user,
            chat_id,
            lang,
        };
        if super::invite(tx, content, tz, &occasion, who, now).await? {
            invited += 1;
        }
    }
    audit::record(
        tx,
        coordinator,
        "survey_sent",
        &format!(
            "{} round #{round} to {code} ({via}): {invited}, {already} had it already",
            survey.id
        ),
        now,
    )
    .await?;
    Ok(Sent { round, invited })
}

/// A round with its progress so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub round: Round,
    /// Invitations recorded (a count that `/forget` does not lower).
    pub invited: i64,
    /// Started answering, not submitted yet.
    pub answering: i64,
    /// Responses submitted.
    pub answered: i64,
}

/// One round's progress (None: no such round).
pub async fn progress(tx: &mut Tx, round: i64) -> Result<Option<Progress>, DbError> {
    let Some(round) = store::get(tx, round).await? else {
        return Ok(None);
    };
    with_progress(tx, round).await.map(Some)
}

/// The latest rounds (newest first) with their progress.
pub async fn recent(tx: &mut Tx, limit: i64) -> Result<Vec<Progress>, DbError> {
    let mut all = Vec::new();
    for round in store::recent(tx, limit).await? {
        all.push(with_progress(tx, round).await?);
    }
    Ok(all)
}

async fn with_progress(tx: &mut Tx, round: Round) -> Result<Progress, DbError> {
    let key = Trigger::Manual(round.id).key();
    let (invited, answering, answered) = store::progress(tx, &round.survey_id, &key).await?;
    Ok(Progress {
        round,
        invited,
        answering,
        answered,
    })
}
