//! `/results`: response rate, per-question counts and Likert means, a PNG bar chart, and the free-text answers
//! as a file. Withheld below SURVEY_MIN_RESPONSES responses, and where a wider scope's results minus these would
//! be fewer responses than that (`anonymity`), so small groups stay anonymous.
use super::super::{Effects, Turn};
use crate::content::Content;
use crate::db::surveys::{self as store, StoredResponse};
use crate::db::{DbError, Tx};
use crate::documents::chart::{ChartSection, bar_chart};
use crate::domain::programme::{Series, Session};
use crate::domain::survey::{Answer, Question, QuestionKind, Survey, Tally, Trigger};
use crate::domain::{Document, Lang, Reply};
use crate::services::csv;

/// One question's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionStats {
    pub answered: usize,
    /// Label and count of each answer code, in order.
    pub counts: Vec<(String, usize)>,
    pub mean: Option<f64>,
}

pub fn stats(q: &Question, responses: &[StoredResponse], lang: Lang) -> QuestionStats {
    let answers: Vec<(&Answer, usize)> = responses
        .iter()
        .filter_map(|r| r.answers.get(&q.id))
        .map(|a| (a, 1))
        .collect();
    counted_stats(q, &answers, lang)
}

/// `stats` from counted answers (the console's results, counted by the database).
pub fn tally_stats(q: &Question, tally: &Tally, lang: Lang) -> QuestionStats {
    let answers: Vec<(&Answer, usize)> = tally
        .answers
        .get(&q.id)
        .into_iter()
        .flatten()
        .map(|(a, n)| (a, *n))
        .collect();
    counted_stats(q, &answers, lang)
}

/// The numbers of one question from its answers, each with how many gave it.
fn counted_stats(q: &Question, answers: &[(&Answer, usize)], lang: Lang) -> QuestionStats {
    let answers: Vec<(&Answer, usize)> = answers
        .iter()
        .filter(|(a, _)| **a != Answer::Skipped)
        .copied()
        .collect();
    let count = |f: &dyn Fn(&Answer) -> bool| -> usize {
        answers.iter().filter(|(a, _)| f(a)).map(|(_, n)| n).sum()
    };
    let counts = match q.kind {
        QuestionKind::Likert => (1..=q.labels.len() as u8)
            .map(|n| {
                let label = q.describe(&Answer::Likert(n), lang);
                (label, count(&|a| *a == Answer::Likert(n)))
            })
            .collect(),
        QuestionKind::Single | QuestionKind::Multiple => q
            .options
            .iter()
            .map(|o| {
                let n = count(&|a| match a {
                    Answer::Single(code) => *code == o.code,
                    Answer::Multiple(codes) => codes.contains(&o.code),
                    _ => false,
                });
                (o.label.get(lang).to_string(), n)
            })
            .collect(),
        QuestionKind::Text => Vec::new(),
    };
    let (sum, points) = answers
        .iter()
        .filter_map(|(a, n)| match a {
            Answer::Likert(p) => Some((f64::from(*p) * *n as f64, *n)),
            _ => None,
        })
        .fold((0.0, 0), |(s, c), (p, n)| (s + p, c + n));
    let mean = (points > 0).then(|| sum / points as f64);
    QuestionStats {
        answered: answers.iter().map(|(_, n)| n).sum(),
        counts,
        mean,
    }
}

/// The sessions of `series` whose responses to `survey` are results of their own: those a session-end trigger
/// of the survey follows (`Content::session_survey_follows`), in time order.
pub fn followed_sessions<'a>(
    content: &'a Content,
    survey: &Survey,
    series: &'a Series,
) -> Vec<&'a Session> {
    series
        .sessions_in_order()
        .into_iter()
        .filter(|session| {
            survey
                .triggers
                .iter()
                .any(|t| content.session_survey_follows(t, series, session))
        })
        .collect()
}

/// A number for people: one decimal, with a decimal comma in Finnish.
fn decimal(value: f64, lang: Lang) -> String {
    let text = format!("{value:.1}");
    match lang {
        Lang::Fi => text.replace('.', ","),
        Lang::En => text,
    }
}

fn in_scope(trigger_key: &str, series: Option<&str>, session: Option<&str>) -> bool {
    let trigger = Trigger::parse(trigger_key);
    let t = trigger.as_ref();
    series.is_none_or(|s| t.and_then(|t| t.series()) == Some(s))
        && session.is_none_or(|s| t.and_then(|t| t.session()) == Some(s))
}

pub async fn show(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    survey: &Survey,
    scope: &str,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let lang = turn.lang();
    let content = turn.content.clone();
    let (series, session, scope_name) = if scope == "all" {
        (None, None, turn.text("survey.scope_all"))
    } else if let Some(s) = content.series(scope) {
        (Some(scope), None, s.name.get(lang).to_string())
    } else if let Some((_, s)) = content.session(scope) {
        let name = format!(
            "{} {}",
            crate::services::present::date(s.start.date()),
            s.title.get(lang)
        );
        (None, Some(scope), name)
    } else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let min = turn.config.survey_min_responses as usize;
    let every = store::responses(tx, &survey.id, None, None).await?;
    let shown = super::anonymity::shown_scopes(
        every
            .iter()
            .map(|r| (r.series_id.as_deref(), r.session_id.as_deref())),
        min,
    );
    let responses: Vec<StoredResponse> = every
        .into_iter()
        .filter(|r| series.is_none_or(|s| r.series_id.as_deref() == Some(s)))
        .filter(|r| session.is_none_or(|s| r.session_id.as_deref() == Some(s)))
        .collect();
    let invited: i64 = store::invited_by_trigger(tx, &survey.id)
        .await?
        .into_iter()
        .filter(|(key, _)| in_scope(key, series, session))
        .map(|(_, n)| n)
        .sum();
    let title = format!("{} – {scope_name}", survey.title.get(lang));
    if responses.len() < min || !shown.contains(scope) {
        let key = if responses.len() < min {
            "survey.results_withheld"
        } else {
            "survey_anonymity.results_withheld_complement"
        };
        out.push(Reply::text(turn.fill(
            key,
            &[
                ("title", &title),
                ("count", &responses.len().to_string()),
                ("min", &min.to_string()),
            ],
        )));
        return Ok(out);
    }
    let rate = if invited > 0 {
        decimal(100.0 * responses.len() as f64 / invited as f64, lang)
    } else {
        "–".into()
    };
    let mut lines = vec![turn.fill(
        "survey.results_title",
        &[
            ("title", &title),
            ("count", &responses.len().to_string()),
            ("invited", &invited.to_string()),
            ("rate", &rate),
        ],
    )];
    let mut sections = Vec::new();
    let mut texts = Vec::new();
    for (i, q) in survey.questions.iter().enumerate() {
        let s = stats(q, &responses, lang);
        let note = match s.mean {
            Some(mean) => turn.fill(
                "survey.results_mean",
                &[
                    ("n", &s.answered.to_string()),
                    ("mean", &decimal(mean, lang)),
                ],
            ),
            None => turn.fill("survey.results_n", &[("n", &s.answered.to_string())]),
        };
        lines.push(format!("\n{}. {}\n{note}", i + 1, q.text.get(lang)));
        for (label, n) in &s.counts {
            lines.push(format!("  {label}: {n}"));
        }
        if q.kind == QuestionKind::Text {
            texts.extend(responses.iter().filter_map(|r| match r.answers.get(&q.id) {
                Some(Answer::Text(t)) => Some(vec![q.id.clone(), t.clone()]),
                _ => None,
            }));
        } else {
            sections.push(ChartSection {
                heading: format!("{}. {}", i + 1, q.text.get(lang)),
                note,
                bars: s.counts,
            });
        }
    }
    out.push(Reply::text(lines.join("\n")));
    match bar_chart(&title, &sections) {
        Ok(png) => {
            // As a photo, so it shows in the chat; and as a file, to keep at full resolution.
            let chart = Document {
                file_name: format!("{}-{scope}.png", survey.id),
                bytes: png,
                caption: Some(title.clone()),
            };
            out.push(Reply::Photo(chart.clone()));
            out.push(Reply::Document(chart));
        }
        Err(e) => log::error!("survey {}: results chart failed: {e}", survey.id),
    }
    if !texts.is_empty() {
        out.push(Reply::Document(Document {
            file_name: format!("{}-{scope}-texts.csv", survey.id),
            bytes: csv::table(&["question_id", "answer"], &texts),
            caption: Some(turn.text("survey.results_texts_caption")),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::survey::Answers;

    fn response(answers: &[(&str, Answer)]) -> StoredResponse {
        StoredResponse {
            id: 1,
            survey_version: 1,
            trigger_key: "series:oulu-2024".into(),
            series_id: Some("oulu-2024".into()),
            session_id: None,
            pseudonym: None,
            research_consent: true,
            answers: answers
                .iter()
                .map(|(q, a)| (q.to_string(), a.clone()))
                .collect::<Answers>(),
            submitted_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn counts_and_means_leave_skipped_answers_out() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let content = crate::content::load(&root.join("../../tests/fixtures/dialogues")).unwrap();
        let survey = content.survey("series-end").unwrap();
        let responses = [
            response(&[
                ("overall", Answer::Likert(4)),
                (
                    "themes",
                    Answer::Multiple(vec!["stress".into(), "methods".into()]),
                ),
            ]),
            response(&[
                ("overall", Answer::Likert(5)),
                ("themes", Answer::Multiple(vec!["stress".into()])),
            ]),
            response(&[("overall", Answer::Skipped), ("themes", Answer::Skipped)]),
        ];
        let overall = stats(survey.question("overall").unwrap(), &responses, Lang::En);
        assert_eq!(overall.answered, 2);
        assert_eq!(overall.mean, Some(4.5));
        assert_eq!(overall.counts[3], ("4 Somewhat agree".to_string(), 1));
        let themes = stats(survey.question("themes").unwrap(), &responses, Lang::Fi);
        let counts: Vec<usize> = themes.counts.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [0, 2, 0, 1]);
        assert_eq!(themes.mean, None);
        assert_eq!(decimal(4.5, Lang::Fi), "4,5");
        assert!(in_scope(
            "session:oulu-2024:oulu-2024-2",
            Some("oulu-2024"),
            None
        ));
        assert!(!in_scope("series:oulu-2024", None, Some("oulu-2024-2")));
        assert!(!in_scope("group:oulu-isat-fi", Some("oulu-2024"), None));
    }

    /// The console counts answers in the database per place and adds the places up per scope; that gives
    /// every question's numbers as `stats` gives them from the responses themselves.
    #[tokio::test]
    async fn tallies_from_the_database_give_the_numbers_of_the_responses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let content = crate::content::load(&root.join("../../tests/fixtures/dialogues")).unwrap();
        let survey = content.survey("series-end").unwrap();
        let (pool, _dir) = crate::db::temp_pool().await;
        let places = [
            (Some("oulu-2024"), None),
            (Some("oulu-2024"), Some("oulu-2024-2")),
            (Some("rovaniemi"), None),
            (None, None),
        ];
        let themes = ["resources", "stress", "parenthood", "methods"];
        let fields = ["health", "social", "ece", "other"];
        let mut written = Vec::new();
        let mut tx = crate::db::begin_write(&pool).await.unwrap();
        for i in 0..40usize {
            let (series, session) = places[i % places.len()];
            let answers: Answers = [
                ("overall", Answer::Likert((i % 5) as u8 + 1)),
                (
                    "confidence",
                    if i % 7 == 0 {
                        Answer::Skipped
                    } else {
                        Answer::Likert((i % 3) as u8 + 2)
                    },
                ),
                (
                    "themes",
                    Answer::Multiple(themes[..i % 4 + 1].iter().map(|t| t.to_string()).collect()),
                ),
                ("field", Answer::Single(fields[i % 3].to_string())),
                (
                    "improve",
                    if i % 2 == 0 {
                        Answer::Text(format!("Näin \"{i}\" {{ }} [ ]"))
                    } else {
                        Answer::Skipped
                    },
                ),
            ]
            .into_iter()
            .map(|(q, a)| (q.to_string(), a))
            .collect();
            let response = store::NewResponse {
                survey_id: &survey.id,
                survey_version: survey.version,
                trigger_key: "series:oulu-2024",
                series_id: series,
                session_id: session,
                pseudonym: None,
                research_consent: Some(true),
                answers: &answers,
                submitted_at: chrono::DateTime::UNIX_EPOCH,
            };
            store::insert_response(&mut tx, &response).await.unwrap();
            written.push(((series, session), answers));
        }
        tx.commit().await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let tallies = store::tallies(&mut conn, &survey.id).await.unwrap();
        assert_eq!(tallies.len(), places.len());
        for scope in [None, Some("oulu-2024"), Some("rovaniemi")] {
            let responses: Vec<StoredResponse> = written
                .iter()
                .filter(|((series, _), _)| scope.is_none() || *series == scope)
                .map(|(_, answers)| StoredResponse {
                    answers: answers.clone(),
                    ..response(&[])
                })
                .collect();
            let mut tally = Tally::default();
            for ((series, _), t) in &tallies {
                if scope.is_none() || series.as_deref() == scope {
                    tally.merge(t);
                }
            }
            assert_eq!(tally.responses, responses.len());
            for q in &survey.questions {
                for lang in [Lang::Fi, Lang::En] {
                    assert_eq!(
                        tally_stats(q, &tally, lang),
                        stats(q, &responses, lang),
                        "{} in {scope:?}",
                        q.id
                    );
                }
            }
        }
    }
}
