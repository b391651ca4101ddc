//! Survey invitations due by their triggers: after a session ends (to those who attended, or to everyone in its
//! series), after a series ends, and after a father's N weeks in a peer group. Each pass invites whoever is due
//! and not yet invited while the survey is open (an invitation is stored once per survey, trigger and person,
//! so passes may repeat freely); `next_due` is the next moment a trigger opens.
use crate::content::Content;
use crate::db::{DbError, Tx, programme, surveys as store};
use crate::domain::programme::Series;
use crate::domain::survey::{SessionAudience, Survey, Trigger, TriggerSpec, parse_span};
use crate::domain::time::local_to_utc;
use crate::services::{Invitee, Occasion, invite_to_survey};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use std::collections::{HashMap, HashSet};

fn delay(raw: &Option<String>) -> Duration {
    raw.as_deref().and_then(parse_span).unwrap_or_default()
}

fn chosen<'a>(content: &'a Content, filter: &'a [String]) -> impl Iterator<Item = &'a Series> + 'a {
    content
        .series
        .iter()
        .filter(move |s| filter.is_empty() || filter.contains(&s.id))
}

/// When each session- and series-triggered survey opens, with its trigger and audience.
fn openings<'a>(
    content: &'a Content,
    tz: Tz,
    survey: &'a Survey,
) -> Vec<(Trigger, DateTime<Utc>, Option<SessionAudience>)> {
    let mut all = Vec::new();
    for spec in &survey.triggers {
        match spec {
            TriggerSpec::SessionEnd { to, delay: d, .. } => {
                for s in &content.series {
                    // The last session of a series that has a series-end survey gets that one only.
                    let last = s.sessions_in_order().last().map(|l| l.id.clone());
                    let series_end = series_end_opens(content, tz, s).is_some();
                    for session in &s.sessions {
                        if !spec.covers_session(s, session)
                            || (series_end && last.as_deref() == Some(session.id.as_str()))
                        {
                            continue;
                        }
                        let trigger = Trigger::Session {
                            series: s.id.clone(),
                            session: session.id.clone(),
                        };
                        all.push((trigger, local_to_utc(tz, session.end) + delay(d), Some(*to)));
                    }
                }
            }
            TriggerSpec::SeriesEnd { series, delay: d } => {
                for s in chosen(content, series) {
                    if let Some(end) = s.last_end() {
                        all.push((
                            Trigger::Series(s.id.clone()),
                            local_to_utc(tz, end) + delay(d),
                            None,
                        ));
                    }
                }
            }
            TriggerSpec::PeerGroupWeeks { .. } | TriggerSpec::Manual => {}
        }
    }
    all
}

/// When the first series-end survey of `series` opens (its last session's end plus the trigger's delay), if
/// it has one. Its certificates wait for it, so the survey comes first; and its last session gets no
/// session survey of its own (two surveys within a day).
pub fn series_end_opens(content: &Content, tz: Tz, series: &Series) -> Option<DateTime<Utc>> {
    let end = local_to_utc(tz, series.last_end()?);
    content
        .surveys
        .iter()
        .flat_map(|survey| &survey.triggers)
        .filter_map(|trigger| match trigger {
            TriggerSpec::SeriesEnd { delay: d, .. } if trigger.covers_series(series) => {
                Some(end + delay(d))
            }
            _ => None,
        })
        .min()
}

/// Invites everyone due now; returns how many invitations were new.
pub async fn plan(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let mut added = 0;
    for survey in &content.surveys {
        let open = |at: DateTime<Utc>| at <= now && now < at + survey.closes_after();
        for (trigger, opened_at, audience) in openings(content, tz, survey) {
            if !open(opened_at) {
                continue;
            }
            // Most passes find everyone already invited: read those once instead of trying each insert.
            let invited = store::invited_users(tx, &survey.id, &trigger.key()).await?;
            let invitees = match (&trigger, audience) {
                (Trigger::Session { session, .. }, Some(SessionAudience::Attended)) => {
                    let mut list = Vec::new();
                    for user in programme::attendees(tx, session).await? {
                        if invited.contains(&user) {
                            continue;
                        }
                        if let Some((chat_id, lang)) = programme::recipient(tx, user).await? {
                            list.push(Invitee {
                                user,
                                chat_id,
                                lang,
                            });
                        }
                    }
                    list
                }
                (_, _) => {
                    let series = trigger.series().unwrap_or_default();
                    programme::enrolled_recipients(tx, series)
                        .await?
                        .into_iter()
                        .map(|(user, chat_id, lang)| Invitee {
                            user,
                            chat_id,
                            lang,
                        })
                        .collect()
                }
            };
            let occasion = Occasion {
                survey,
                trigger,
                opened_at,
            };
            for who in invitees.into_iter().filter(|w| !invited.contains(&w.user)) {
                if invite_to_survey(tx, content, tz, &occasion, who, now).await? {
                    added += 1;
                }
            }
        }
        for spec in &survey.triggers {
            let TriggerSpec::PeerGroupWeeks { weeks, groups } = spec else {
                continue;
            };
            let mut invited: HashMap<String, HashSet<i64>> = HashMap::new();
            for member in store::peer_group_members(tx).await? {
                if !groups.is_empty() && !groups.contains(&member.group_id) {
                    continue;
                }
                let opened_at = member.since + Duration::weeks(i64::from(*weeks));
                if !open(opened_at) {
                    continue;
                }
                if !invited.contains_key(&member.group_id) {
                    let key = Trigger::Group(member.group_id.clone()).key();
                    let users = store::invited_users(tx, &survey.id, &key).await?;
                    invited.insert(member.group_id.clone(), users);
                }
                if invited[&member.group_id].contains(&member.telegram_user_id) {
                    continue;
                }
                let occasion = Occasion {
                    survey,
                    trigger: Trigger::Group(member.group_id.clone()),
                    opened_at,
                };
                let who = Invitee {
                    user: member.telegram_user_id,
                    chat_id: member.chat_id,
                    lang: member.language,
                };
                if invite_to_survey(tx, content, tz, &occasion, who, now).await? {
                    added += 1;
                }
            }
        }
    }
    Ok(added)
}

/// The next moment after `now` at which a survey trigger opens.
pub async fn next_due(
    pool: &crate::db::Db,
    content: &Content,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let mut next = content
        .surveys
        .iter()
        .flat_map(|survey| openings(content, tz, survey))
        .map(|(_, at, _)| at)
        .filter(|at| *at > now)
        .min();
    let weeks: Vec<u32> = content
        .surveys
        .iter()
        .flat_map(|s| &s.triggers)
        .filter_map(|t| match t {
            TriggerSpec::PeerGroupWeeks { weeks, .. } => Some(*weeks),
            _ => None,
        })
        .collect();
    if !weeks.is_empty() {
        for since in store::group_member_times(pool).await? {
            for w in &weeks {
                let at = since + Duration::weeks(i64::from(*w));
                if at > now && next.is_none_or(|n| at < n) {
                    next = Some(at);
                }
            }
        }
    }
    Ok(next)
}
