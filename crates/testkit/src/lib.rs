//! The test kit: the bot run against the fake Telegram Bot API on a temporary database and a clock the caller
//! moves — shared by the integration tests, the terminal simulator (`milava-bot simulate`) and the benchmarks
//! (`milava-bot bench`). Nothing here ships in the bot's library.
//!
//! - [`bot`]: the simulated bot (one start-up for all of them) and what a test does with it;
//! - [`content`]: the fixture content tests run on, text keys, copies to edit;
//! - [`story`]: people registering as they would in the chat, times as people write them.
pub mod bench;
pub mod bot;
pub mod content;
pub mod simulator;
pub mod story;
