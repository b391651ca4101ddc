//! Access: calendar files only for people in the series (or coordinators), and `/linkgroup` only by a chat
//! administrator who may take the chat over.
use crate::harness::{TestBot, joined};
use fake_telegram::{FakeUser, SentMessage};
use testkit::story::groups::set_chat_role;
use testkit::story::register_professional;

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

async fn link_of(bot: &TestBot, chat: i64) -> Option<String> {
    sqlx::query_scalar("SELECT group_id FROM group_links WHERE chat_id = ?")
        .bind(chat)
        .fetch_optional(&bot.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linkgroup_needs_a_chat_administrator_who_may_take_over_the_chat() {
    // Oulu's group is facilitated by 7501 and 7503, Kajaani's by 7502 and 7503.
    let dir = tempfile::tempdir().unwrap();
    testkit::content::copy_dir(&crate::harness::dialogues_dir(), dir.path());
    let groups = dir.path().join("groups.toml");
    testkit::content::edit(&groups, "facilitators = []", "facilitators = [7501, 7503]");
    testkit::content::edit(&groups, "facilitators = []", "facilitators = [7502, 7503]");
    let content = dir.path().display().to_string();
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900"), ("DIALOGUES_DIR", &content)]).await;
    let oulu_chat = testkit::story::groups::oulu_group();
    let other_chat = fake_telegram::FakeGroup::new(-100_888, "Kajaanin isät");
    let oulu_facilitator = FakeUser::new(7501, "Olli", Some("fi"));
    let kajaani_facilitator = FakeUser::new(7502, "Kalle", Some("fi"));
    let both = FakeUser::new(7503, "Aki", Some("fi"));
    let in_group = |chat, user, text| testkit::story::groups::in_group(&bot, chat, user, text);

    // A facilitator who is only a member of the chat cannot link it.
    let replies = joined(&in_group(&oulu_chat, &oulu_facilitator, "/linkgroup isat-oulu").await);
    assert_eq!(
        replies,
        "Vain tämän ryhmän ylläpitäjä voi liittää sen vertaisryhmään. Pyydä ryhmän omistajaa tekemään sinusta ylläpitäjä ja lähetä sitten /linkgroup uudelleen."
    );
    assert_eq!(link_of(&bot, oulu_chat.id).await, None);
    assert!(bot.fake.requests_to("createChatInviteLink").is_empty());
    // As the chat's administrator he can.
    set_chat_role(&bot, oulu_chat.id, oulu_facilitator.id, true);
    let replies = joined(&in_group(&oulu_chat, &oulu_facilitator, "/linkgroup isat-oulu").await);
    assert!(
        replies.contains("Valmista! Tämä ryhmä on nyt Oulun isien vertaisryhmä"),
        "{replies}"
    );
    assert_eq!(
        link_of(&bot, oulu_chat.id).await.as_deref(),
        Some("oulu-isat-fi")
    );

    // Kajaani's facilitator, even as an administrator of Oulu's chat, cannot take it over.
    set_chat_role(&bot, oulu_chat.id, kajaani_facilitator.id, true);
    let invites = bot.fake.requests_to("createChatInviteLink").len();
    let replies =
        joined(&in_group(&oulu_chat, &kajaani_facilitator, "/linkgroup isat-kajaani").await);
    assert_eq!(
        replies,
        "Tämä ryhmä on jo Oulun isien vertaisryhmä. Vain sen ohjaajat tai koordinaattori voivat liittää ryhmän toiseen vertaisryhmään."
    );
    assert_eq!(
        link_of(&bot, oulu_chat.id).await.as_deref(),
        Some("oulu-isat-fi")
    );
    assert_eq!(bot.fake.requests_to("createChatInviteLink").len(), invites);
    // He links his own chat, where he is an administrator.
    set_chat_role(&bot, other_chat.id, kajaani_facilitator.id, true);
    let replies =
        joined(&in_group(&other_chat, &kajaani_facilitator, "/linkgroup isat-kajaani").await);
    assert!(replies.contains("Valmista!"), "{replies}");
    assert_eq!(
        link_of(&bot, other_chat.id).await.as_deref(),
        Some("kajaani-isat-fi")
    );

    // Someone who facilitates both groups may move Kajaani's group into Oulu's chat; a coordinator may too.
    set_chat_role(&bot, oulu_chat.id, both.id, true);
    let replies = joined(&in_group(&oulu_chat, &both, "/linkgroup isat-kajaani").await);
    assert!(
        replies.contains("Valmista! Tämä ryhmä on nyt Kajaanin isien vertaisryhmä"),
        "{replies}"
    );
    assert_eq!(
        link_of(&bot, oulu_chat.id).await.as_deref(),
        Some("kajaani-isat-fi")
    );
    let coordinator = testkit::story::groups::coordinator();
    set_chat_role(&bot, oulu_chat.id, coordinator.id, true);
    let replies = joined(&in_group(&oulu_chat, &coordinator, "/linkgroup isat-rovaniemi").await);
    assert!(
        replies.contains("Valmista! Tämä ryhmä on nyt Rovaniemen isien vertaisryhmä"),
        "{replies}"
    );
    // A coordinator who is not an administrator of the chat is refused like anyone.
    set_chat_role(&bot, other_chat.id, coordinator.id, false);
    let replies = joined(&in_group(&other_chat, &coordinator, "/linkgroup isat-oulu").await);
    assert!(
        replies.starts_with("Vain tämän ryhmän ylläpitäjä"),
        "{replies}"
    );
    // (Kajaani's group moved to Oulu's chat above, so this chat is linked to nothing, and stays so.)
    assert_eq!(link_of(&bot, other_chat.id).await, None);
}
