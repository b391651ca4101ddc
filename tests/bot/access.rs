//! Access: calendar files only for people in the series (or coordinators), and `/linkgroup` only by a chat
//! administrator who may take the chat over.
use crate::harness::{TestBot, joined};
use crate::programme::register_professional;
use milava_bot::fake_telegram::{FakeUser, SentMessage};

const NOT_IN_SERIES: &str =
    "Tämän sarjan kalenteri on sen osallistujille. Oman sarjasi näet komennolla /schedule.";

/// Presses a button with the given data under the last message the user got; returns the toast and whether a
/// document came.
async fn press_forged(
    bot: &TestBot,
    user: &FakeUser,
    data: &str,
) -> (Option<String>, Vec<SentMessage>) {
    let message = bot
        .fake
        .last_sent_to(user.id)
        .expect("a message to press under");
    let replies = bot.press_data(user, message.message_id, data).await;
    let toast = bot
        .fake
        .requests_to("answerCallbackQuery")
        .last()
        .and_then(|a| a.param_str("text").map(str::to_string));
    (toast, replies)
}

fn documents(replies: &[SentMessage]) -> usize {
    replies.iter().filter(|m| m.document.is_some()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_buttons_give_the_file_only_to_people_in_the_series_and_coordinators() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await;
    // Someone who never registered forges both kinds of calendar button.
    let stranger = FakeUser::new(9401, "Outo", Some("fi"));
    bot.send(&stranger, "hei").await;
    for data in ["1|ca|oulu-2024", "1|c|oulu-2024-2", "1|ca|rovaniemi-2024"] {
        let (toast, replies) = press_forged(&bot, &stranger, data).await;
        assert_eq!(documents(&replies), 0, "{data}: {replies:?}");
        assert_eq!(toast.as_deref(), Some(NOT_IN_SERIES), "{data}");
    }

    // Anna is in Oulu: Oulu's calendar yes, Rovaniemi's (a session or the whole series) no.
    let anna = register_professional(&bot, 9402, "Anna").await;
    for data in ["1|ca|rovaniemi-2024", "1|c|rovaniemi-2024-2"] {
        let (toast, replies) = press_forged(&bot, &anna, data).await;
        assert_eq!(documents(&replies), 0, "{data}: {replies:?}");
        assert_eq!(toast.as_deref(), Some(NOT_IN_SERIES), "{data}");
    }
    for data in ["1|ca|oulu-2024", "1|c|oulu-2024-2"] {
        let (_, replies) = press_forged(&bot, &anna, data).await;
        assert_eq!(documents(&replies), 1, "{data}: {replies:?}");
    }

    // After /leave she is no longer in it.
    bot.send(&anna, "/leave").await;
    let left = joined(&bot.press(&anna, "Kyllä, peru").await);
    assert!(left.contains("on peruttu"), "{left}");
    let (toast, replies) = press_forged(&bot, &anna, "1|ca|oulu-2024").await;
    assert_eq!(documents(&replies), 0, "{replies:?}");
    assert_eq!(toast.as_deref(), Some(NOT_IN_SERIES));

    // A coordinator may have any series' calendar.
    let coordinator = FakeUser::new(900, "Kirsi", Some("fi"));
    bot.send(&coordinator, "/help").await;
    let (_, replies) = press_forged(&bot, &coordinator, "1|ca|rovaniemi-2024").await;
    assert_eq!(documents(&replies), 1, "{replies:?}");
}
