//! Integration tests: the real bot over real HTTP against the fake Telegram Bot API.
mod harness;

mod authorisation;
mod bad_input;
mod broadcasts;
mod check_command;
mod coaching;
mod coordinators;
mod delivery;
mod group_assignment;
mod group_prompts;
mod groups;
mod groups_content;
mod http_endpoints;
mod operations;
mod privacy;
mod programme;
mod properties;
mod registration;
mod reminders;
mod restarts;
mod survey_check;
mod survey_results;
mod survey_triggers;
mod surveys;
mod transcripts;
mod waitlist;
