//! Registration as a state machine over data. `advance` is pure: given the flow, the answers so far,
//! the current step and one input, it says what happens next. The service persists and renders.
use super::fields::{Answers, Field, FieldShape};
use super::validate;
use serde::{Deserialize, Serialize};

/// The step id that ends a flow.
pub const DONE: &str = "done";
pub const CONSENT_ACCEPT: &str = "accept";
pub const CONSENT_DECLINE: &str = "decline";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub start: String,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub kind: StepKind,
    /// Name of the answer field this step fills (see `Field`).
    pub field: String,
    /// Text key of the question.
    pub question: String,
    /// Where to go after this step, unless the chosen option says otherwise.
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default, rename = "option")]
    pub options: Vec<ChoiceOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: String,
    /// Text key of the button label.
    pub label: String,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Choice,
    Text,
    Series,
    Consent,
}

/// What the user sent, already parsed at the boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Text(String),
    Button {
        step: String,
        value: String,
    },
    /// A sticker, photo, voice message, … — anything that is not text or a button.
    Media(String),
}

/// Why an answer was not accepted. Each maps to a text key `problem.<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Empty,
    TooShort { min: usize },
    TooLong { max: usize },
    NotAName,
    BadEmail,
    BadCharacters,
    NeedButton,
    NeedText,
    StaleButton,
    Media(String),
}

impl Problem {
    pub fn text_key(&self) -> &'static str {
        match self {
            Problem::Empty => "problem.empty",
            Problem::TooShort { .. } => "problem.too_short",
            Problem::TooLong { .. } => "problem.too_long",
            Problem::NotAName => "problem.not_a_name",
            Problem::BadEmail => "problem.bad_email",
            Problem::BadCharacters => "problem.bad_characters",
            Problem::NeedButton => "problem.need_button",
            Problem::NeedText => "problem.need_text",
            Problem::StaleButton => "problem.stale_button",
            Problem::Media(_) => "problem.media",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Move to this step and ask it.
    Ask(String),
    /// Stay at this step and ask again, explaining the problem.
    Reask { step: String, problem: Problem },
    /// All steps answered.
    Complete,
    /// The privacy notice was declined: nothing is stored.
    Declined,
}

/// Whether `advance` runs the whole flow or edits one answer (from `/profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Register,
    EditOne,
}

impl Flow {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step that asks for `field`, if the flow has one.
    pub fn step_for(&self, field: Field) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| Field::parse(&s.field) == Some(field))
    }

    /// From `from`, the first step whose field is not answered yet, following the path answers choose.
    /// Returns `DONE` when nothing is left. Bounded by the number of steps, so a cycle cannot hang.
    pub fn first_open_step(&self, answers: &Answers, from: &str) -> String {
        let mut current = from.to_string();
        for _ in 0..=self.steps.len() {
            let Some(step) = self.step(&current) else {
                return DONE.to_string();
            };
            let Some(value) = Field::parse(&step.field).and_then(|f| answers.get(&f)) else {
                return current;
            };
            current = step.next_after(value).unwrap_or(DONE).to_string();
        }
        DONE.to_string()
    }

    /// A fingerprint of the flow's structure (not its texts): persisted dialogue state records it, so a
    /// deploy that changes the flow is noticed. FNV-1a over a canonical JSON form, stable across builds.
    pub fn fingerprint(&self) -> String {
        super::fingerprint(&serde_json::to_string(self).unwrap_or_default())
    }
}

impl Step {
    pub fn field(&self) -> Option<Field> {
        Field::parse(&self.field)
    }

    /// Next step id after answering with `value`.
    pub fn next_after(&self, value: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|o| o.value == value)
            .and_then(|o| o.next.as_deref())
            .or(self.next.as_deref())
    }
}

/// The answer of a series step when no series is open for registration: registered without a series, to
/// hear about the next one.
pub const NO_SERIES: &str = "none";

/// One transition. `series_ids` are the workshop series a `Series` step may accept.
pub fn advance(
    flow: &Flow,
    series_ids: &[&str],
    answers: &mut Answers,
    current: &str,
    input: &Input,
    mode: Mode,
) -> Outcome {
    let Some(step) = flow.step(current) else {
        // The state points at a step that no longer exists: restart at the first open one.
        return Outcome::Ask(flow.first_open_step(answers, &flow.start));
    };
    let Some(field) = step.field() else {
        return Outcome::Ask(flow.first_open_step(answers, &flow.start));
    };
    let reask = |problem| Outcome::Reask {
        step: step.id.clone(),
        problem,
    };
    let value = match (step.kind, input) {
        (_, Input::Media(kind)) => return reask(Problem::Media(kind.clone())),
        (StepKind::Text, Input::Button { .. }) => return reask(Problem::StaleButton),
        (StepKind::Text, Input::Text(text)) => match validate::free_text(field, text) {
            Ok(clean) => clean,
            Err(problem) => return reask(problem),
        },
        (_, Input::Text(_)) => return reask(Problem::NeedButton),
        (
            kind,
            Input::Button {
                step: for_step,
                value,
            },
        ) => {
            if *for_step != step.id || !accepts(kind, field, step, series_ids, value) {
                return reask(Problem::StaleButton);
            }
            if kind == StepKind::Consent && value == CONSENT_DECLINE {
                return Outcome::Declined;
            }
            value.clone()
        }
    };
    answers.insert(field, value.clone());
    if mode == Mode::EditOne {
        return Outcome::Complete;
    }
    let next = step.next_after(&value).unwrap_or(DONE);
    match flow.first_open_step(answers, next).as_str() {
        DONE => Outcome::Complete,
        open => Outcome::Ask(open.to_string()),
    }
}

fn accepts(kind: StepKind, field: Field, step: &Step, series_ids: &[&str], value: &str) -> bool {
    match kind {
        StepKind::Choice => {
            step.options.iter().any(|o| o.value == value)
                && matches!(field.shape(), FieldShape::Choice(allowed) if allowed.contains(&value))
        }
        StepKind::Series => {
            series_ids.contains(&value) || (series_ids.is_empty() && value == NO_SERIES)
        }
        StepKind::Consent => value == CONSENT_ACCEPT || value == CONSENT_DECLINE,
        StepKind::Text => false,
    }
}

#[cfg(test)]
mod tests;
