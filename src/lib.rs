//! milava-bot: the Telegram bot of the MILAVA programme (Mies, lapsi ja vanhemmuus).
//!
//! Layers, lowest first: `domain` (types and rules, no I/O) ← `db` (the only SQL) ← `services`
//! (use cases) ← `telegram` (thin teloxide handlers) and `console` (the coordinators' web console). `content` loads `dialogues/`; `startup` wires it all.
pub mod bench;
pub mod clock;
pub mod config;
pub mod console;
pub mod content;
pub mod db;
pub mod delivery;
pub mod documents;
pub mod domain;
pub mod doorbell;
pub mod fake_telegram;
pub mod fault_log;
pub mod files;
pub mod health;
pub mod log_privacy;
pub mod metrics;
pub mod ops;
pub mod scheduler;
pub mod send_budget;
pub mod services;
pub mod simulator;
pub mod startup;
pub mod telegram;
