//! Feedback surveys in a story: the Oulu series' first online meeting, checking in to it, and answering its
//! feedback survey.
use super::{SPEEDUP, utc};
use crate::bot::{SimulatedBot, joined};
use fake_telegram::{FakeUser, SentMessage};

pub const COORDINATOR: i64 = 900;

/// Oulu's first online meeting: 3.4.2024 8.00–12.00 summer time = 5.00–9.00 UTC; the feedback survey opens
/// 30 minutes after the end and closes 7 days later.
pub const SESSION: &str = "oulu-2024-2";
pub const OPENS: &str = "2024-04-03 09:30";

pub async fn start() -> SimulatedBot {
    SimulatedBot::start_sped_up(
        &[("COORDINATOR_IDS", "900"), ("SURVEY_MIN_RESPONSES", "2")],
        SPEEDUP,
    )
    .await
}

/// Checks in during the session (5.30 UTC), as the check-in prompt's button does.
pub async fn attend(bot: &SimulatedBot, user: &FakeUser) {
    bot.clock.set(utc("2024-04-03 05:30"));
    let any = bot.fake.last_sent_to(user.id).unwrap().message_id;
    let replies = bot.press_data(user, any, &format!("1|ci|{SESSION}")).await;
    assert!(joined(&replies).contains("Kiitos!"), "{}", joined(&replies));
}

pub fn invitations_to(bot: &SimulatedBot, user: &FakeUser, title: &str) -> Vec<SentMessage> {
    bot.fake
        .sent_to(user.id)
        .into_iter()
        .filter(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| t.starts_with("📋") && t.contains(title))
        })
        .collect()
}

/// A survey invitation or reminder (its button starts the survey): tests of other messages leave them out.
pub fn is_survey(message: &SentMessage) -> bool {
    message
        .inline_buttons()
        .iter()
        .flatten()
        .any(|(_, data)| data.starts_with("1|s|go|"))
}

pub const FEEDBACK: &str = "Palaute verkkotapaamisesta";

/// Answers the session feedback through its buttons and a typed comment, and submits.
pub async fn answer_feedback(
    bot: &SimulatedBot,
    user: &FakeUser,
    likert: &str,
    plan: &str,
    comment: &str,
) {
    bot.press(user, "Vastaa kyselyyn").await;
    bot.press(user, likert).await;
    bot.press(user, plan).await;
    bot.send(user, comment).await;
    let replies = bot.press(user, "Lähetä vastaukset").await;
    assert!(
        joined(&replies).contains("Kiitos! Vastauksesi kyselyyn"),
        "{}",
        joined(&replies)
    );
}
