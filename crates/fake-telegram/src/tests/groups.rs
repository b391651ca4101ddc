//! The fake's group administration as the bot's peer groups use it, through the real teloxide client.
use super::*;
use serde_json::json;

#[tokio::test]
async fn a_user_who_never_started_the_bot_can_be_written_to_only_after_a_join_request() {
    let (fake, bot) = setup().await;
    let group = FakeGroup::new(-100_042, "Isät");
    let stranger = FakeUser::new(2001, "Vieras", Some("fi"));
    fake.set_not_started(&stranger);
    // Telegram's current text (teloxide 0.17 knows only the older "Unauthorized: …" one).
    let refused = bot.send_message(ChatId(stranger.id), "Hei").await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("Forbidden: bot can't initiate conversation with a user")
    );
    fake.request_to_join(&group, &stranger, None);
    bot.send_message(ChatId(stranger.id), "Hei")
        .await
        .expect("within 5 minutes of the request");
    bot.decline_chat_join_request(ChatId(group.id), UserId(stranger.id as u64))
        .await
        .expect("the request is pending");
    let again = bot
        .decline_chat_join_request(ChatId(group.id), UserId(stranger.id as u64))
        .await;
    assert!(again.is_err(), "a request is decided once");
}

#[tokio::test]
async fn invite_links_need_the_invite_right_and_a_removed_bot_is_told_so() {
    let (fake, bot) = setup().await;
    let group = FakeGroup::new(-100_043, "Isät");
    let admin = FakeUser::new(2002, "Ylläpitäjä", Some("fi"));
    let link = bot
        .create_chat_invite_link(ChatId(group.id))
        .creates_join_request(true)
        .await
        .expect("an administrator with can_invite_users");
    assert!(link.creates_join_request);

    fake.set_bot_membership(&group, &admin, json!({"status": "member"}));
    let refused = bot
        .create_chat_invite_link(ChatId(group.id))
        .creates_join_request(true)
        .await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("not enough rights to manage chat invite link")
    );
    let member = bot
        .get_chat_member(ChatId(group.id), UserId(FAKE_BOT_ID as u64))
        .await
        .expect("getChatMember");
    assert!(matches!(
        member.kind,
        teloxide::types::ChatMemberKind::Member(_)
    ));

    fake.remove_bot_from_group(&group, &admin);
    let sent = bot.send_message(ChatId(group.id), "Hei").await;
    assert!(
        matches!(
            sent,
            Err(RequestError::Api(ApiError::BotKickedFromSupergroup))
        ),
        "{sent:?}"
    );
    let updates = bot.get_updates().await.expect("getUpdates");
    let kinds: Vec<_> = updates
        .iter()
        .filter_map(|u| match &u.kind {
            UpdateKind::MyChatMember(m) => Some(m.new_chat_member.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), 2, "demoted, then removed");
    assert!(matches!(
        kinds[1],
        teloxide::types::ChatMemberKind::Banned(_)
    ));
}
