//! The steps tests tell their stories with: people who register as they would in the chat (on the fixture
//! content, whose wording and buttons they rely on), and times written as people read them.
pub mod faults;
pub mod groups;
pub mod outbox;
pub mod surveys;
pub mod waitlist;

use crate::bot::{SimulatedBot, joined};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use fake_telegram::FakeUser;

/// The coordinator most tests use (pass `COORDINATOR_IDS=900`).
pub const COORDINATOR: i64 = 900;

/// How much faster than real time the delivery worker's limits (one message a second per private chat) and
/// the fake's run in tests that move the clock, so a person's messages at nearby clock times do not wait real
/// seconds.
pub const SPEEDUP: f64 = 20.0;

/// "2024-03-18 14:00" as UTC.
pub fn utc(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a test time"))
}

/// A Finnish father registers for Oulu, both peer group and coaching, and agrees to research use.
pub async fn register_father(bot: &SimulatedBot, id: i64, name: &str) -> FakeUser {
    let user = FakeUser::new(id, name, Some("fi"));
    bot.send(&user, "/start").await;
    bot.press(&user, "Isä").await;
    bot.send(&user, name).await;
    bot.press(&user, "Oulu").await;
    bot.press(&user, "Molemmat").await;
    bot.press(&user, "Hyväksyn").await;
    let replies = bot.press(&user, "Kyllä, saa käyttää").await;
    assert!(
        joined(&replies).contains("Ilmoittautumisesi on tallessa"),
        "{}",
        joined(&replies)
    );
    user
}

/// A Finnish professional registers for the Oulu series and gets a place.
pub async fn register_professional(bot: &SimulatedBot, id: i64, name: &str) -> FakeUser {
    let user = FakeUser::new(id, name, Some("fi"));
    bot.send(&user, "/start oulu-kevat24").await;
    bot.send(&user, name).await;
    bot.send(&user, "Oulun kaupunki").await;
    bot.press(&user, "Hoitoala").await;
    bot.send(&user, &email_of(name)).await;
    bot.press(&user, "Hyväksyn").await;
    let replies = bot.press(&user, "Kyllä, saa käyttää").await;
    assert!(
        joined(&replies).contains("Sinulla on paikka työpajasarjassa Oulu, kevät 2024."),
        "{}",
        joined(&replies)
    );
    user
}

/// Registers a professional through the deep link `code`, in Finnish or English; returns them and the bot's
/// last answer (enrolled or waitlisted).
pub async fn register(
    bot: &SimulatedBot,
    id: i64,
    name: &str,
    lang: &str,
    code: &str,
) -> (FakeUser, String) {
    let (field, accept, research) = match lang {
        "en" => ("Health care", "I agree", "No, thank you"),
        _ => ("Hoitoala", "Hyväksyn", "Ei, kiitos"),
    };
    let user = FakeUser::new(id, name, Some(lang));
    bot.send(&user, &format!("/start {code}")).await;
    bot.send(&user, name).await;
    bot.send(&user, "Oulun kaupunki").await;
    bot.press(&user, field).await;
    bot.send(&user, &email_of(name)).await;
    bot.press(&user, accept).await;
    let done = joined(&bot.press(&user, research).await);
    (user, done)
}

/// Like `register`, and the person must get a place.
pub async fn enrol(bot: &SimulatedBot, id: i64, name: &str, lang: &str, code: &str) -> FakeUser {
    let (user, done) = register(bot, id, name, lang, code).await;
    assert!(
        done.contains("Sinulla on paikka työpajasarjassa") || done.contains("You have a place"),
        "{done}"
    );
    user
}

/// "Anna Aho" → "anna.aho@example.fi".
fn email_of(name: &str) -> String {
    format!("{}@example.fi", name.to_lowercase().replace(' ', "."))
}
