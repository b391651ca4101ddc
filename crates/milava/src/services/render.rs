//! Turning steps, answers and problems into replies in the user's language.
use super::Turn;
use crate::content::Content;
use crate::domain::Lang;
use crate::domain::fields::Field;
use crate::domain::flow::{CONSENT_ACCEPT, CONSENT_DECLINE, NO_SERIES};
use crate::domain::{Answers, Button, CallbackData, Problem, Reply, StepKind};

/// The email step's question when email is off: the certificate comes in the chat.
pub const EMAIL_QUESTION_WITHOUT_EMAIL: &str = "registration.pro.email_chat_only";

/// The question of a step, with its buttons.
pub fn ask(turn: &Turn<'_>, step_id: &str) -> Reply {
    let content = &turn.content;
    let Some(step) = content.registration.step(step_id) else {
        return Reply::text(turn.text("problem.idle"));
    };
    let open = match step.kind {
        StepKind::Series => super::window::open_series(turn),
        _ => Vec::new(),
    };
    // Without a mail server (no SMTP_URL) the email question must not promise an email.
    let question_key = if step.field == "email" && !turn.config.email_on() {
        EMAIL_QUESTION_WITHOUT_EMAIL
    } else {
        step.question.as_str()
    };
    // The notice is long and made of three more texts: only the consent question shows it.
    let notice = if content.text(turn.lang(), question_key).contains("{notice}") {
        super::privacy_notice(turn)
    } else {
        String::new()
    };
    let mut question = turn.fill(
        question_key,
        &[("version", &content.privacy_version), ("notice", &notice)],
    );
    let answer = |value: &str| {
        CallbackData::Answer {
            step: step.id.clone(),
            value: value.to_string(),
        }
        .encode()
    };
    let buttons: Vec<Button> = match step.kind {
        StepKind::Text => Vec::new(),
        StepKind::Choice => step
            .options
            .iter()
            .map(|o| Button::callback(turn.text(&o.label), answer(&o.value)))
            .collect(),
        StepKind::Series if open.is_empty() => {
            question = turn.text("timeline.no_series_open");
            vec![Button::callback(
                turn.text("button.timeline.no_series"),
                answer(NO_SERIES),
            )]
        }
        StepKind::Series => open
            .iter()
            .map(|s| Button::callback(s.name.get(turn.lang()), answer(&s.id)))
            .collect(),
        StepKind::Consent => vec![
            Button::callback(turn.text("button.consent_accept"), answer(CONSENT_ACCEPT)),
            Button::callback(turn.text("button.consent_decline"), answer(CONSENT_DECLINE)),
        ],
    };
    Reply::with_buttons(question, layout(buttons))
}

/// Up to three short labels share a row, more go two to a row; longer ones get a row each so phones
/// show them whole.
pub fn layout(buttons: Vec<Button>) -> Vec<Vec<Button>> {
    let short = buttons.iter().all(|b| b.label.chars().count() <= 14);
    if buttons.is_empty() {
        Vec::new()
    } else if short && buttons.len() <= 3 {
        vec![buttons]
    } else if short {
        buttons.chunks(2).map(|c| c.to_vec()).collect()
    } else {
        buttons.into_iter().map(|b| vec![b]).collect()
    }
}

pub fn problem(turn: &Turn<'_>, problem: &Problem) -> String {
    let (min, max) = match problem {
        Problem::TooShort { min } => (*min, 0),
        Problem::TooLong { max } => (0, *max),
        _ => (0, 0),
    };
    turn.fill(
        problem.text_key(),
        &[("min", &min.to_string()), ("max", &max.to_string())],
    )
}

/// How an answer reads to a person: the option's label, the series' name, or the typed text.
pub fn value_label(turn: &Turn<'_>, field: Field, value: &str) -> String {
    answer_label(&turn.content, turn.lang(), field, value)
}

/// `value_label` for any content and language (the console's pages).
pub fn answer_label(content: &Content, lang: Lang, field: Field, value: &str) -> String {
    let text = |key: &str| content.text(lang, key).to_string();
    match field {
        Field::Series if value == NO_SERIES => Some(text("button.timeline.no_series")),
        Field::Series => content.series(value).map(|s| s.name.get(lang).to_string()),
        Field::Group => content.group(value).map(|g| g.name.get(lang).to_string()),
        Field::Consent => Some(content.privacy_version.clone()),
        _ => content
            .registration
            .steps
            .iter()
            .filter(|s| s.field() == Some(field))
            .flat_map(|s| s.options.iter())
            .find(|o| o.value == value)
            .map(|o| text(&o.label)),
    }
    .unwrap_or_else(|| value.to_string())
}

/// The answer given by a pressed button, for marking the message it was pressed on.
pub fn pressed_label(turn: &Turn<'_>, step_id: &str, value: &str) -> Option<String> {
    let step = turn.content.registration.step(step_id)?;
    let label = match step.kind {
        StepKind::Consent if value == CONSENT_ACCEPT => turn.text("button.consent_accept"),
        StepKind::Consent => turn.text("button.consent_decline"),
        _ => value_label(turn, step.field()?, value),
    };
    Some(format!("✅ {label}"))
}

/// Lines "Field: value" for every answered field, in a fixed order. Consents have lines of their own.
pub fn answer_lines(turn: &Turn<'_>, answers: &Answers) -> Vec<String> {
    Field::ALL
        .into_iter()
        .filter(|field| *field != Field::Consent)
        .filter_map(|field| {
            let value = answers.get(&field)?;
            let label = turn.text(&format!("profile.field.{}", field.name()));
            Some(format!("{label}: {}", value_label(turn, field, value)))
        })
        .collect()
}
