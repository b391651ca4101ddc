//! `bench console`'s season: `people` people written straight into the database through `db::` functions, in
//! transactions of a thousand, before the bot starts. Deterministic (by position), so runs compare:
//!
//! - 7 in 10 are fathers (an area and the peer group of that area when there is one, a third with research
//!   consent), 2 in 10 professionals spread over the programme's series (enrolled; one in 20 left their
//!   series; attendance marks at about four of five sessions), 1 in 10 are registering now (a registration
//!   dialogue, no participant row);
//! - one in 25 cannot be reached (Telegram said 403);
//! - survey answers: every professional who did not leave answered the end-of-series survey, every second
//!   father in a group the group survey (each question answered by its kind);
//! - two audit lines a person (attendance marks and exports by the coordinator);
//! - three outbox rows a person: two sent, one reminder due in a month (so the worker leaves it), one in 50
//!   failed.
use super::BenchError;
use milava_bot::content::Content;
use milava_bot::db::{self, Db, DbError};
use milava_bot::domain::enrolment::{Enrolment, EnrolmentStatus};
use milava_bot::domain::outbox::Payload;
use milava_bot::domain::survey::{Answer, Answers, QuestionKind, Survey};
use milava_bot::domain::{Lang, Participant, Role};

/// What the seeding made, for choosing pages to ask for.
pub(super) struct Season {
    /// A registered father's id (his record page).
    pub father: i64,
    /// The series with the most people enrolled.
    pub largest_series: String,
    /// A survey with answers, and an area and group that exist.
    pub survey: String,
    pub area: String,
    pub group: String,
}

pub(super) async fn seed(
    pool: &Db,
    content: &Content,
    first: i64,
    people: usize,
    coordinator: i64,
) -> Result<Season, BenchError> {
    use milava_bot::clock::{Clock, SystemClock};
    let now = SystemClock.now();
    let series = &content.series;
    let groups = &content.groups;
    let areas: Vec<String> = match groups.is_empty() {
        true => vec!["oulu".to_string()],
        false => groups.iter().map(|g| g.area.clone()).collect(),
    };
    let series_survey = survey_for(content, |s| s.id == "series-end");
    let group_survey = survey_for(content, |s| s.id.starts_with("peer-group"));
    let ids: Vec<i64> = (0..people as i64).map(|i| first + i).collect();
    let mut per_series = vec![0usize; series.len()];
    for chunk in ids.chunks(1000) {
        let mut tx = db::begin_write(pool).await?;
        for &id in chunk {
            let n = (id - first) as usize;
            let lang = if n % 7 == 3 { Lang::En } else { Lang::Fi };
            let seen = now - chrono::Duration::minutes((n % 50_000) as i64);
            db::users::touch(&mut tx, id, id, lang, seen).await?;
            if n % 25 == 24 {
                db::users::mark_unreachable(&mut tx, id, seen).await?;
            }
            let kind = n % 10;
            if kind == 9 {
                let state = db::dialogues::DialogueState {
                    flow: db::dialogues::FlowKind::Registration,
                    step: content.registration.start.clone(),
                    answers: Default::default(),
                    content_version: content.flow_version(),
                    updated_at: seen,
                };
                db::dialogues::put(&mut tx, id, &state).await?;
                continue;
            }
            let professional = kind >= 7 && !series.is_empty();
            let area = areas[n % areas.len()].clone();
            let group = (!professional)
                .then(|| groups.iter().find(|g| g.area == area))
                .flatten();
            let in_series = professional.then(|| &series[n % series.len()]);
            let participant = Participant {
                telegram_user_id: id,
                role: if professional {
                    Role::Professional
                } else {
                    Role::Father
                },
                name: format!("{} {}", FIRST_NAMES[n % FIRST_NAMES.len()], surname(n)),
                area: Some(area),
                wants: None,
                organisation: professional.then(|| "Oulun kaupunki".to_string()),
                profession: professional.then(|| "Sosiaaliohjaaja".to_string()),
                email: None,
                series_id: in_series.map(|s| s.id.clone()),
                group_id: group.map(|g| g.id.clone()),
                privacy_version: "bench".into(),
                consent_at: seen,
                research_consent: n.is_multiple_of(3),
                research_consent_at: n.is_multiple_of(3).then_some(seen),
                registered_at: seen,
                updated_at: seen,
            };
            db::participants::insert(&mut tx, &participant).await?;
            if let Some(s) = in_series {
                let left = n % 20 == 17;
                let enrolment = Enrolment {
                    telegram_user_id: id,
                    series_id: s.id.clone(),
                    status: if left {
                        EnrolmentStatus::Left
                    } else {
                        EnrolmentStatus::Enrolled
                    },
                    offered_until: None,
                    queued_at: seen,
                };
                db::programme::put_enrolment(&mut tx, &enrolment, seen).await?;
                if !left {
                    per_series[n % series.len()] += 1;
                    for (k, session) in s.sessions.iter().enumerate() {
                        if !(n + k).is_multiple_of(5) {
                            db::programme::mark_attended(
                                &mut tx,
                                &session.id,
                                id,
                                coordinator,
                                seen,
                            )
                            .await?;
                        }
                    }
                    if let Some(survey) = series_survey {
                        let trigger = format!("series:{}", s.id);
                        answer(&mut tx, survey, &trigger, Some(&s.id), id, n, seen).await?;
                    }
                }
            }
            if let (Some(g), Some(survey)) = (group, group_survey)
                && n.is_multiple_of(2)
            {
                let trigger = format!("group:{}", g.id);
                answer(&mut tx, survey, &trigger, None, id, n, seen).await?;
            }
            for (k, action) in ["attendance_changed", "participants_export"]
                .iter()
                .enumerate()
            {
                let detail = format!("bench {n}/{k}");
                db::audit::record(&mut tx, coordinator, action, &detail, seen).await?;
            }
            outbox_rows(&mut tx, id, n, now).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    let largest = per_series
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .and_then(|(i, _)| series.get(i))
        .map(|s| s.id.clone())
        .unwrap_or_default();
    Ok(Season {
        father: first,
        largest_series: largest,
        survey: series_survey
            .or(group_survey)
            .map(|s| s.id.clone())
            .unwrap_or_default(),
        area: areas[0].clone(),
        group: groups.first().map(|g| g.id.clone()).unwrap_or_default(),
    })
}

const FIRST_NAMES: &[&str] = &[
    "Matti", "Juha", "Mikko", "Timo", "Jari", "Antti", "Janne", "Ville", "Tuomas", "Sami",
];
const SURNAMES: &[&str] = &[
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Lehtinen",
    "Saarinen",
    "Salminen",
    "Heinonen",
    "Niemi",
];

/// A surname, numbered past the common ones (so a name search finds a few, not thousands).
fn surname(n: usize) -> String {
    format!("{}{}", SURNAMES[n % SURNAMES.len()], n / 150)
}

fn survey_for(content: &Content, f: impl Fn(&Survey) -> bool) -> Option<&Survey> {
    content.surveys.iter().find(|s| f(s))
}

/// One response to `survey`, every question answered by its kind.
async fn answer(
    tx: &mut db::Tx,
    survey: &Survey,
    trigger: &str,
    series: Option<&str>,
    user: i64,
    n: usize,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbError> {
    let answers: Answers = survey
        .questions
        .iter()
        .map(|q| {
            let a = match q.kind {
                QuestionKind::Likert => Answer::Likert(1 + (n % q.labels.len().max(1)) as u8),
                QuestionKind::Single => q
                    .options
                    .get(n % q.options.len().max(1))
                    .map_or(Answer::Skipped, |o| Answer::Single(o.code.clone())),
                QuestionKind::Multiple => Answer::Multiple(
                    q.options
                        .iter()
                        .take(1 + n % 2)
                        .map(|o| o.code.clone())
                        .collect(),
                ),
                QuestionKind::Text => Answer::Text("Hyvä ja tarpeellinen.".into()),
            };
            (q.id.clone(), a)
        })
        .collect();
    let pseudonym = match survey.anonymous {
        true => None,
        false => Some(db::surveys::pseudonym(tx, user, at).await?),
    };
    let response = db::surveys::NewResponse {
        survey_id: &survey.id,
        survey_version: survey.version,
        trigger_key: trigger,
        series_id: series,
        session_id: None,
        pseudonym: pseudonym.as_deref(),
        research_consent: survey.anonymous.then_some(n.is_multiple_of(3)),
        answers: &answers,
        submitted_at: at,
    };
    db::surveys::insert_response(tx, &response).await?;
    Ok(())
}

/// Two sent messages and a reminder due in a month; one in 50 people also has a failed one.
async fn outbox_rows(
    tx: &mut db::Tx,
    user: i64,
    n: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbError> {
    let payload = Payload::text("Muistutus: tapaaminen huomenna klo 18.")
        .to_json()
        .map_err(|e| DbError::Corrupt(e.to_string()))?;
    let past = now - chrono::Duration::days(3);
    let rows: [(&str, &str, chrono::DateTime<chrono::Utc>); 4] = [
        ("sent", "welcome", past),
        ("sent", "reminder", past),
        ("pending", "later", now + chrono::Duration::days(30)),
        ("failed", "failed", past),
    ];
    for (k, (status, key, due)) in rows.iter().enumerate() {
        if k == 3 && !n.is_multiple_of(50) {
            continue;
        }
        // Stored as the outbox stores rows, in the status they would have reached.
        sqlx::query(
            "INSERT INTO deliveries (idempotency_key, chat_id, telegram_user_id, payload, due_at, status,
               attempts, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(format!("bench:{key}:{user}"))
        .bind(user)
        .bind(user)
        .bind(&payload)
        .bind(*due)
        .bind(*status)
        .bind(past)
        .bind((*status == "sent").then_some(past))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
