//! Types and rules of the programme. No I/O here: everything is pure and unit-tested.
pub mod callback;
pub mod commands;
pub mod enrolment;
pub mod fields;
pub mod flow;
pub mod lang;
pub mod message;
pub mod outbox;
pub mod participant;
pub mod programme;
pub mod reminders;
pub mod time;
pub mod validate;

pub use callback::CallbackData;
pub use fields::{Answers, Field};
pub use flow::{Flow, Input, Outcome, Problem, Step, StepKind};
pub use lang::{Lang, Localized};
pub use message::{Button, Document, Reply};
pub use participant::{Participant, Role, UserInfo};
