//! Integration tests: the real bot over real HTTP against the fake Telegram Bot API.
mod harness;

mod bad_input;
mod broadcasts;
mod check_command;
mod coordinators;
mod delivery;
mod privacy;
mod programme;
mod registration;
mod reminders;
mod restarts;
mod survey_check;
mod survey_results;
mod survey_triggers;
mod surveys;
mod transcripts;
mod waitlist;
