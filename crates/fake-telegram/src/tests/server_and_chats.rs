//! Chat administration methods, waiting helpers, raw HTTP and a real dispatcher.

use super::{anna, setup};
use crate::*;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{ChatId, ChatMemberKind, UpdateKind, UserId};

#[tokio::test]
async fn chat_admin_and_commands_methods_deserialize() {
    let (fake, bot) = setup().await;
    let group = FakeGroup::new(-100123, "Isät");
    fake.send_group_text(&group, &anna(), "moi");
    let chat = bot.get_chat(ChatId(group.id)).await.expect("getChat group");
    assert!(chat.is_supergroup());
    assert!(
        bot.get_chat(ChatId(1001))
            .await
            .expect("getChat private")
            .is_private()
    );
    let me = bot
        .get_chat_member(ChatId(group.id), UserId(FAKE_BOT_ID as u64))
        .await
        .expect("bot");
    assert!(matches!(&me.kind, ChatMemberKind::Administrator(a) if a.can_invite_users));
    let member = bot
        .get_chat_member(ChatId(group.id), UserId(1001))
        .await
        .expect("member");
    assert!(member.is_member());
    fake.set_chat_member(group.id, 1001, serde_json::json!({"status": "left"}));
    assert!(
        bot.get_chat_member(ChatId(group.id), UserId(1001))
            .await
            .expect("left")
            .is_left()
    );

    let link = bot
        .create_chat_invite_link(ChatId(group.id))
        .creates_join_request(true)
        .await
        .expect("link");
    assert!(link.creates_join_request && link.invite_link.starts_with("https://t.me/+"));
    fake.request_to_join(&group, &anna(), Some(&link.invite_link));
    let updates = bot.get_updates().await.expect("updates");
    assert!(
        updates
            .iter()
            .any(|u| matches!(u.kind, UpdateKind::ChatJoinRequest(_))),
        "{updates:?}"
    );
    bot.approve_chat_join_request(ChatId(group.id), UserId(1001))
        .await
        .expect("approve");
    assert!(
        bot.decline_chat_join_request(ChatId(group.id), UserId(1001))
            .await
            .is_err()
    );

    let commands = vec![teloxide::types::BotCommand::new("start", "Aloita")];
    bot.set_my_commands(commands.clone())
        .await
        .expect("setMyCommands");
    assert_eq!(
        bot.get_my_commands().await.expect("getMyCommands"),
        commands
    );
    assert_eq!(fake.commands_set()[0]["commands"][0]["command"], "start");
    bot.delete_my_commands().await.expect("deleteMyCommands");
    assert!(bot.get_my_commands().await.expect("empty").is_empty());
    assert!(bot.get_webhook_info().await.expect("webhook").url.is_none());
    bot.delete_webhook().await.expect("deleteWebhook");
    bot.send_chat_action(ChatId(1001), teloxide::types::ChatAction::Typing)
        .await
        .expect("action");
}

#[tokio::test]
async fn wait_until_wakes_on_requests() {
    let (fake, bot) = setup().await;
    let sender = bot.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for i in 0..2 {
            let _ = sender.send_message(ChatId(9), format!("m{i}")).await;
        }
    });
    let messages = fake
        .wait_for_messages_to(9, 2, Duration::from_secs(5))
        .await;
    assert_eq!(messages[1].text.as_deref(), Some("m1"));
}

#[tokio::test]
#[should_panic(expected = "waiting for a reply to nobody")]
async fn wait_until_panics_with_context() {
    let (fake, _bot) = setup().await;
    fake.wait_until("a reply to nobody", Duration::from_millis(50), |f| {
        !f.sent_to(1).is_empty()
    })
    .await;
}

#[tokio::test]
async fn raw_http_edge_cases() {
    let (fake, _bot) = setup().await;
    let client = reqwest_like_post(&fake, "bot1:x/sendMessage", "{not json").await;
    assert_eq!(client.0, 400);
    assert!(
        client.1.contains("\"ok\":false") && client.1.contains("Bad Request"),
        "{}",
        client.1
    );
    let unknown = reqwest_like_post(&fake, "bot1:x/frobnicate", "{}").await;
    assert_eq!(
        unknown,
        (
            404,
            r#"{"ok":false,"error_code":404,"description":"Not Found"}"#.to_owned()
        )
    );
}

/// A minimal HTTP/1.1 POST over a raw socket (reqwest is not a direct dependency).
async fn reqwest_like_post(fake: &FakeTelegram, path: &str, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = format!("127.0.0.1:{}", fake.api_url().port().expect("port"));
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    socket.read_to_string(&mut response).await.expect("read");
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn real_dispatcher_polls_the_fake() {
    let (fake, bot) = setup().await;
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        let text = format!("echo: {}", msg.text().unwrap_or_default());
        bot.send_message(msg.chat.id, text).await?;
        respond(())
    });
    let listener = teloxide::update_listeners::Polling::builder(bot.clone())
        .timeout(Duration::from_secs(1))
        .build();
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let token = dispatcher.shutdown_token();
    let running = tokio::spawn(async move {
        let errors = LoggingErrorHandler::with_custom_text("listener");
        dispatcher.dispatch_with_listener(listener, errors).await;
    });
    fake.send_private_text(&anna(), "hei");
    let replies = fake
        .wait_for_messages_to(1001, 1, Duration::from_secs(10))
        .await;
    assert_eq!(replies[0].text.as_deref(), Some("echo: hei"));
    fake.wait_until("the update to be confirmed", Duration::from_secs(5), |f| {
        f.pending_updates() == 0
    })
    .await;
    if let Ok(stopped) = token.shutdown() {
        stopped.await;
    }
    running.await.expect("dispatcher task");
    let methods: Vec<String> = fake.requests().into_iter().map(|r| r.method).collect();
    assert!(methods.iter().any(|m| m == "getUpdates"), "{methods:?}");
}

#[tokio::test]
async fn blocking_and_stale_buttons() {
    let (fake, bot) = setup().await;
    let user = anna();
    fake.block_bot(&user);
    fake.press_button(&user, 77, "old");
    let updates = bot.get_updates().await.expect("updates");
    assert!(
        matches!(&updates[0].kind, UpdateKind::MyChatMember(m) if m.new_chat_member.is_banned()),
        "{updates:?}"
    );
    let UpdateKind::CallbackQuery(query) = &updates[1].kind else {
        panic!("{updates:?}")
    };
    assert!(matches!(
        &query.message,
        Some(teloxide::types::MaybeInaccessibleMessage::Inaccessible(_))
    ));
    let err = bot
        .send_message(ChatId(user.id), "hi")
        .await
        .expect_err("blocked");
    assert!(matches!(
        err,
        teloxide::RequestError::Api(teloxide::ApiError::BotBlocked)
    ));
    fake.unblock_bot(&user);
    bot.send_message(ChatId(user.id), "hi")
        .await
        .expect("unblocked");
}
