//! Integration tests: the real bot over real HTTP against the fake Telegram Bot API.
mod harness;

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
mod privacy;
mod programme;
mod registration;
mod reminders;
mod restarts;
mod transcripts;
mod waitlist;
