//! Types and rules of the programme. No I/O here: everything is pure and unit-tested.
pub mod broadcast;
pub mod budget;
pub mod callback;
pub mod commands;
pub mod enrolment;
pub mod fields;
pub mod flow;
pub mod groups;
pub mod lang;
pub mod message;
pub mod outbox;
pub mod participant;
pub mod programme;
pub mod reminders;
pub mod schedule;
pub mod season;
pub mod survey;
pub mod time;
pub mod validate;

pub use callback::CallbackData;
pub use fields::{Answers, Field};
pub use flow::{Flow, Input, Outcome, Problem, Step, StepKind};
pub use lang::{Lang, Localized};
pub use message::{Button, Document, Reply};
pub use participant::{Participant, Role, UserInfo};

/// A short fingerprint of a text (FNV-1a, 64 bits): stable across builds and platforms, unlike std's hasher.
pub fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}
