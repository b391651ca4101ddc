//! `dialogues/surveys/<id>.toml`: one survey per file, loaded and checked. Problems name the file, the key
//! (e.g. `question useful.labels`) and what is wrong.
use super::texts::placeholders;
use super::{Content, ContentProblem};
use crate::domain::callback::{CallbackData, MAX_CALLBACK_BYTES, SurveyAction, is_token};
use crate::domain::survey::{
    LIKERT_POINTS, MAX_TEXT_ANSWER, QuestionKind, Survey, TriggerSpec, parse_span,
};
use crate::domain::{Lang, Localized};
use std::collections::HashSet;
use std::path::Path;

/// Longest label text on a Likert button (the button reads "5 label").
const MAX_LIKERT_LABEL: usize = super::validate::MAX_BUTTON_CHARS - 2;
/// The largest invitation id callback data must leave room for.
const LARGEST_ID: i64 = 999_999_999_999;

/// Every `surveys/*.toml` in name order; a missing folder means no surveys.
pub fn load(dir: &Path, problems: &mut Vec<ContentProblem>) -> Vec<Survey> {
    let mut surveys = Vec::new();
    for file in super::load::toml_files(dir, "surveys") {
        let Some(survey) = super::load::parse_file::<Survey>(dir, &file, problems) else {
            continue;
        };
        if file != format!("surveys/{}.toml", survey.id) {
            problems.push(ContentProblem {
                code: "",
                file: file.clone(),
                key: "id".into(),
                problem: format!(
                    "the file of survey '{}' must be named {}.toml",
                    survey.id, survey.id
                ),
            });
        }
        surveys.push(survey);
    }
    surveys
}

pub fn validate(content: &Content, out: &mut Vec<ContentProblem>) {
    let mut ids = HashSet::new();
    for survey in &content.surveys {
        let file = format!("surveys/{}.toml", survey.id);
        let mut add = |key: &str, problem: String| {
            out.push(ContentProblem {
                code: "",
                file: file.clone(),
                key: key.into(),
                problem,
            })
        };
        if !ids.insert(survey.id.as_str()) {
            add("id", "another survey has the same id".into());
        }
        if !is_token(&survey.id) || survey.id.len() > 24 {
            add("id", "survey ids use a-z, 0-9, _ and - (at most 24)".into());
        }
        localized(&mut add, "title", &survey.title, None);
        localized(&mut add, "intro", &survey.intro, None);
        if parse_span(&survey.closes_after).is_none() {
            add(
                "closes_after",
                format!(
                    "'{}' is not a span like \"14d\" or \"48h\"",
                    survey.closes_after
                ),
            );
        }
        if let Some(raw) = &survey.remind_after {
            match parse_span(raw) {
                None => add(
                    "remind_after",
                    format!("'{raw}' is not a span like \"48h\""),
                ),
                Some(span) if parse_span(&survey.closes_after).is_some_and(|c| span >= c) => add(
                    "remind_after",
                    "must be shorter than closes_after (no reminder after closing)".into(),
                ),
                Some(_) => {}
            }
        }
        if survey.triggers.is_empty() {
            add(
                "trigger",
                "the survey has no trigger, so it is never sent".into(),
            );
        }
        for (i, trigger) in survey.triggers.iter().enumerate() {
            check_trigger(content, &mut add, &format!("trigger {}", i + 1), trigger);
        }
        if survey.questions.is_empty() {
            add("question", "the survey has no questions".into());
        }
        let mut question_ids = HashSet::new();
        for q in &survey.questions {
            let at = format!("question {}", q.id);
            if !question_ids.insert(q.id.as_str()) {
                add(&at, "duplicate question id".into());
            }
            if !is_token(&q.id) || q.id.len() > 20 || q.id.contains('-') {
                add(
                    &at,
                    "question ids use a-z, 0-9 and _ (at most 20): they are column names".into(),
                );
            }
            localized(&mut add, &format!("{at}.text"), &q.text, None);
            match q.kind {
                QuestionKind::Likert => {
                    if q.labels.len() != LIKERT_POINTS {
                        add(
                            &format!("{at}.labels"),
                            format!(
                                "a Likert question has exactly {LIKERT_POINTS} labels, from 1 to 5 (found {})",
                                q.labels.len()
                            ),
                        );
                    }
                    for (n, label) in q.labels.iter().enumerate() {
                        localized(
                            &mut add,
                            &format!("{at}.labels {}", n + 1),
                            label,
                            Some(MAX_LIKERT_LABEL),
                        );
                    }
                }
                QuestionKind::Single | QuestionKind::Multiple => {
                    if q.options.len() < 2 {
                        add(
                            &format!("{at}.option"),
                            "a choice question needs at least 2 options".into(),
                        );
                    }
                    let mut codes = HashSet::new();
                    for option in &q.options {
                        let oat = format!("{at}.option {}", option.code);
                        if !codes.insert(option.code.as_str()) {
                            add(&oat, "duplicate option code".into());
                        }
                        if !is_token(&option.code) || option.code.len() > 16 {
                            add(
                                &oat,
                                "option codes use a-z, 0-9, _ and - (at most 16)".into(),
                            );
                        }
                        let max = super::validate::MAX_BUTTON_CHARS
                            - if q.kind == QuestionKind::Multiple {
                                2
                            } else {
                                0
                            };
                        localized(&mut add, &format!("{oat}.label"), &option.label, Some(max));
                    }
                }
                QuestionKind::Text => {}
            }
            if q.kind != QuestionKind::Likert && !q.labels.is_empty() {
                add(
                    &format!("{at}.labels"),
                    "only Likert questions have labels".into(),
                );
            }
            if !matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple)
                && !q.options.is_empty()
            {
                add(
                    &format!("{at}.option"),
                    "only choice questions have options".into(),
                );
            }
            match (q.kind, q.max_length) {
                (QuestionKind::Text, Some(max)) if !(1..=MAX_TEXT_ANSWER).contains(&max) => add(
                    &format!("{at}.max_length"),
                    format!("must be from 1 to {MAX_TEXT_ANSWER} characters"),
                ),
                (QuestionKind::Text, _) => {}
                (_, Some(_)) => add(
                    &format!("{at}.max_length"),
                    "only text questions have max_length".into(),
                ),
                (_, None) => {}
            }
            for data in longest_callbacks(survey, q) {
                if data.len() > MAX_CALLBACK_BYTES {
                    add(
                        &at,
                        format!(
                            "button data '{data}' is over {MAX_CALLBACK_BYTES} bytes: shorten the ids"
                        ),
                    );
                }
            }
        }
    }
}

/// The longest callback data a question's buttons can carry (a coordinator's survey buttons included).
fn longest_callbacks(survey: &Survey, q: &crate::domain::survey::Question) -> Vec<String> {
    let codes: Vec<String> = match q.kind {
        QuestionKind::Likert => vec!["5".into()],
        _ => q.options.iter().map(|o| o.code.clone()).collect(),
    };
    let mut all: Vec<String> = codes
        .into_iter()
        .map(|code| {
            CallbackData::Survey(SurveyAction::Answer {
                invitation: LARGEST_ID,
                question: q.id.clone(),
                code,
            })
            .encode()
        })
        .collect();
    all.push(
        CallbackData::Survey(SurveyAction::Results {
            survey: survey.id.clone(),
            scope: Some("x".repeat(24)),
        })
        .encode(),
    );
    all
}

fn check_trigger(
    content: &Content,
    add: &mut impl FnMut(&str, String),
    at: &str,
    trigger: &TriggerSpec,
) {
    let span = |add: &mut dyn FnMut(&str, String), delay: &Option<String>| {
        if let Some(raw) = delay
            && parse_span(raw).is_none()
        {
            add(
                &format!("{at}.delay"),
                format!("'{raw}' is not a span like \"30m\" or \"1d\""),
            );
        }
    };
    match trigger {
        TriggerSpec::SessionEnd {
            series,
            sessions,
            delay,
            ..
        } => {
            span(add, delay);
            for id in series {
                if content.series(id).is_none() {
                    add(&format!("{at}.series"), format!("unknown series '{id}'"));
                }
            }
            for id in sessions {
                match content.session(id) {
                    None => add(&format!("{at}.sessions"), format!("unknown session '{id}'")),
                    Some((s, _)) if !series.is_empty() && !series.contains(&s.id) => add(
                        &format!("{at}.sessions"),
                        format!("session '{id}' is not in the series listed"),
                    ),
                    Some(_) => {}
                }
            }
        }
        TriggerSpec::SeriesEnd { series, delay } => {
            span(add, delay);
            for id in series {
                if content.series(id).is_none() {
                    add(&format!("{at}.series"), format!("unknown series '{id}'"));
                }
            }
        }
        TriggerSpec::PeerGroupWeeks { weeks, groups } => {
            if !(1..=104).contains(weeks) {
                add(&format!("{at}.weeks"), "must be from 1 to 104".into());
            }
            for id in groups {
                if content.group(id).is_none() {
                    add(
                        &format!("{at}.groups"),
                        format!("unknown peer group '{id}'"),
                    );
                }
            }
        }
        TriggerSpec::Manual => {}
    }
}

fn localized(
    add: &mut impl FnMut(&str, String),
    at: &str,
    text: &Localized,
    button: Option<usize>,
) {
    for lang in Lang::ALL {
        let value = text.get(lang);
        if value.trim().is_empty() {
            add(at, format!("the {} text is empty", lang.code()));
        }
        if let Some(max) = button
            && value.chars().count() > max
        {
            add(
                at,
                format!("'{value}' is shown on a button: keep it at most {max} characters"),
            );
        }
        if !placeholders(value).is_empty() {
            add(
                at,
                format!("'{value}': survey texts have no {{placeholders}}"),
            );
        }
    }
}
