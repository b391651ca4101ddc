//! Enrolments and the waitlist in a story.
use crate::bot::SimulatedBot;
use fake_telegram::FakeUser;

/// The status of `user`'s enrolment in the Oulu series (also used by `timeline`).
pub async fn status(bot: &SimulatedBot, user: &FakeUser) -> String {
    sqlx::query_scalar(
        "SELECT status FROM enrolments WHERE telegram_user_id = ? AND series_id = 'oulu-2024'",
    )
    .bind(user.id)
    .fetch_one(&bot.db)
    .await
    .expect("an enrolment")
}
