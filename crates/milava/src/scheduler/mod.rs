//! Everything the bot does on its own at the right time: reminders and check-in prompts before sessions,
//! notices about changed sessions, waitlist offers that ran out, certificates after a series, and the progress
//! of broadcasts, survey invitations. It only decides; the delivery worker sends (through the outbox).
pub mod certificates;
pub mod groups;
pub mod plan;
pub mod progress;
pub mod run;
pub mod surveys;
mod task;

pub use task::{SchedulerHandle, spawn};
