//! The test kit: the bot run against the fake Telegram Bot API on a temporary database and a clock the caller
//! moves — shared by the integration tests, the terminal simulator (`milava-bot simulate`) and the benchmarks
//! (`milava-bot bench`). Nothing here ships in the bot's library.
pub mod bench;
pub mod simulator;
