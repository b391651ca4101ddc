//! What a person answering a survey sees: one message per question with its buttons, and the summary.
use super::super::Turn;
use crate::db::surveys::Invitation;
use crate::domain::callback::SurveyAction;
use crate::domain::survey::{Answer, Question, QuestionKind, Survey};
use crate::domain::{Button, CallbackData, Reply};

pub(super) fn button(label: String, action: SurveyAction) -> Button {
    Button::callback(label, CallbackData::Survey(action).encode())
}

/// The message asking one question, with the answer given so far.
pub(super) fn ask(turn: &Turn<'_>, survey: &Survey, inv: &Invitation, q: &Question) -> Reply {
    let lang = turn.lang();
    let number = survey.position(&q.id).unwrap_or(0) + 1;
    let mut text = turn.fill(
        "survey.question",
        &[
            ("title", survey.title.get(lang)),
            ("number", &number.to_string()),
            ("total", &survey.questions.len().to_string()),
            ("question", q.text.get(lang)),
        ],
    );
    let current = inv.answers.get(&q.id);
    let mut rows: Vec<Vec<Button>> = Vec::new();
    let (invitation, question) = (inv.id, q.id.clone());
    match q.kind {
        QuestionKind::Likert => {
            for (n, label) in q.labels.iter().enumerate() {
                let code = (n + 1).to_string();
                rows.push(vec![button(
                    format!("{code} {}", label.get(lang)),
                    SurveyAction::Answer {
                        invitation,
                        question: question.clone(),
                        code,
                    },
                )]);
            }
        }
        QuestionKind::Single => {
            for option in &q.options {
                rows.push(vec![button(
                    option.label.get(lang).to_string(),
                    SurveyAction::Answer {
                        invitation,
                        question: question.clone(),
                        code: option.code.clone(),
                    },
                )]);
            }
        }
        QuestionKind::Multiple => {
            text.push_str("\n\n");
            text.push_str(&turn.text("survey.choose_many"));
            let chosen = match current {
                Some(Answer::Multiple(codes)) => codes.clone(),
                _ => Vec::new(),
            };
            for option in &q.options {
                let mark = if chosen.contains(&option.code) {
                    "☑"
                } else {
                    "☐"
                };
                rows.push(vec![button(
                    format!("{mark} {}", option.label.get(lang)),
                    SurveyAction::Toggle {
                        invitation,
                        question: question.clone(),
                        code: option.code.clone(),
                    },
                )]);
            }
            rows.push(vec![button(
                turn.text("button.survey.done"),
                SurveyAction::Done {
                    invitation,
                    question: question.clone(),
                },
            )]);
        }
        QuestionKind::Text => {
            text.push_str("\n\n");
            text.push_str(&turn.fill("survey.type_answer", &[("max", &q.max_text().to_string())]));
            if matches!(current, Some(Answer::Text(_))) {
                rows.push(vec![button(
                    turn.text("button.survey.keep"),
                    SurveyAction::Done {
                        invitation,
                        question: question.clone(),
                    },
                )]);
            }
        }
    }
    if let Some(answer) =
        current.filter(|a| q.kind != QuestionKind::Multiple && **a != Answer::Skipped)
    {
        text.push_str("\n\n");
        text.push_str(&turn.fill(
            "survey.current_answer",
            &[("answer", &q.describe(answer, lang))],
        ));
    }
    let mut last = Vec::new();
    if survey.before(&q.id).is_some() {
        last.push(button(
            turn.text("button.survey.back"),
            SurveyAction::Back {
                invitation,
                question: question.clone(),
            },
        ));
    }
    if q.optional {
        last.push(button(
            turn.text("button.survey.skip"),
            SurveyAction::Skip {
                invitation,
                question,
            },
        ));
    }
    if !last.is_empty() {
        rows.push(last);
    }
    Reply::with_buttons(text, rows)
}

/// The answers so far, with "submit" and "change an answer".
pub(super) fn summary(turn: &Turn<'_>, survey: &Survey, inv: &Invitation) -> Reply {
    let lang = turn.lang();
    let lines: Vec<String> = survey
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let answer = match inv.answers.get(&q.id) {
                None | Some(Answer::Skipped) => turn.text("survey.skipped"),
                Some(a) => q.describe(a, lang),
            };
            format!("{}. {}\n   → {answer}", i + 1, q.text.get(lang))
        })
        .collect();
    let text = turn.fill(
        "survey.summary",
        &[
            ("title", survey.title.get(lang)),
            ("answers", &lines.join("\n")),
        ],
    );
    let buttons = vec![
        vec![button(
            turn.text("button.survey.submit"),
            SurveyAction::Submit(inv.id),
        )],
        vec![button(
            turn.text("button.survey.change"),
            SurveyAction::Change(inv.id),
        )],
    ];
    Reply::with_buttons(text, buttons)
}
