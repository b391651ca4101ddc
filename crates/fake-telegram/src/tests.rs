//! The fake driven by the real teloxide client.

mod groups;
mod server_and_chats;

use super::*;
use std::time::{Duration, Instant};
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, KeyboardButton, KeyboardMarkup,
    MaybeInaccessibleMessage, MessageId, UpdateKind, UserId,
};
use teloxide::{ApiError, RequestError};

async fn setup() -> (FakeTelegram, Bot) {
    let fake = FakeTelegram::start().await.expect("fake starts");
    let bot = Bot::new(FAKE_BOT_TOKEN).set_api_url(fake.api_url());
    (fake, bot)
}

fn anna() -> FakeUser {
    FakeUser::new(1001, "Anna", Some("fi")).with_username("anna")
}

#[tokio::test]
async fn get_me_deserializes() {
    let (fake, bot) = setup().await;
    let me = bot.get_me().await.expect("getMe");
    assert_eq!(me.id, UserId(FAKE_BOT_ID as u64));
    assert_eq!(me.username(), FAKE_BOT_USERNAME);
    assert!(me.is_bot);
    assert_eq!(
        fake.requests()[0].method,
        "getMe",
        "teloxide's \"GetMe\" is recorded canonically"
    );
}

#[tokio::test]
async fn send_message_with_inline_keyboard_is_recorded() {
    let (fake, bot) = setup().await;
    let mut events = fake.subscribe();
    let keyboard = InlineKeyboardMarkup::new(vec![
        vec![
            InlineKeyboardButton::callback("Yes", "answer:yes"),
            InlineKeyboardButton::callback("No", "answer:no"),
        ],
        vec![InlineKeyboardButton::url(
            "Site",
            "https://example.org/".parse().expect("url"),
        )],
    ]);
    let msg = bot
        .send_message(ChatId(1001), "<b>Coming?</b>")
        .parse_mode(teloxide::types::ParseMode::Html)
        .reply_markup(keyboard)
        .await
        .expect("sendMessage");
    assert_eq!(msg.text(), Some("<b>Coming?</b>"));
    assert!(msg.reply_markup().is_some());
    let sent = fake.sent_to(1001);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, msg.id.0 as i64);
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(
        sent[0].inline_buttons(),
        vec![
            vec![
                ("Yes".to_owned(), "answer:yes".to_owned()),
                ("No".to_owned(), "answer:no".to_owned())
            ],
            vec![("Site".to_owned(), "https://example.org/".to_owned())],
        ]
    );
    assert_eq!(sent[0].button_data("No").as_deref(), Some("answer:no"));
    assert!(
        matches!(events.recv().await, Ok(FakeEvent::MessageSent(m)) if m.message_id == msg.id.0 as i64)
    );

    let reply = bot
        .send_message(ChatId(1001), "Pick")
        .reply_markup(KeyboardMarkup::new(vec![vec![
            KeyboardButton::new("A"),
            KeyboardButton::new("B"),
        ]]))
        .await
        .expect("reply keyboard");
    assert!(
        reply.reply_markup().is_none(),
        "Telegram echoes only inline keyboards"
    );
    assert_eq!(
        fake.reply_keyboard_in(1001),
        Some(vec![vec!["A".to_owned(), "B".to_owned()]])
    );
}

#[tokio::test]
async fn user_updates_arrive_through_long_polling() {
    let (fake, bot) = setup().await;
    let user = anna();
    let first = fake.send_private_text(&user, "/start@milava_test_bot abc");
    assert_eq!(fake.pending_updates(), 1);
    let updates = bot.get_updates().timeout(5).await.expect("getUpdates");
    assert_eq!(updates.len(), 1);
    assert_eq!(fake.pending_updates(), 0);
    let UpdateKind::Message(msg) = &updates[0].kind else {
        panic!("not a message: {:?}", updates[0])
    };
    assert_eq!(msg.id, MessageId(first as i32));
    assert_eq!(msg.text(), Some("/start@milava_test_bot abc"));
    assert_eq!(msg.chat.id, ChatId(user.id));
    assert_eq!(
        msg.from.as_ref().and_then(|u| u.language_code.as_deref()),
        Some("fi")
    );
    let entity = &msg.entities().expect("entities")[0];
    assert_eq!((entity.offset, entity.length), (0, 22));

    // Nothing queued: a long poll waits until something is pushed.
    let next = updates[0].id.0 as i32 + 1;
    let pusher = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        pusher.send_private_message(
            &anna(),
            serde_json::json!({"sticker": {
            "file_id": "S1", "file_unique_id": "U1", "type": "regular", "width": 512, "height": 512,
            "is_animated": false, "is_video": false}}),
        );
    });
    let started = Instant::now();
    let updates = bot
        .get_updates()
        .offset(next)
        .timeout(10)
        .await
        .expect("getUpdates");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken by the push"
    );
    assert_eq!(updates.len(), 1, "the confirmed update is gone");
    assert!(matches!(&updates[0].kind, UpdateKind::Message(m) if m.sticker().is_some()));

    // An empty poll returns after its timeout.
    let next = updates[0].id.0 as i32 + 1;
    let started = Instant::now();
    let updates = bot
        .get_updates()
        .offset(next)
        .timeout(1)
        .await
        .expect("getUpdates");
    assert!(updates.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn buttons_edits_and_callbacks_deserialize() {
    let (fake, bot) = setup().await;
    let user = anna();
    let keyboard =
        InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("Go", "go")]]);
    let msg = bot
        .send_message(ChatId(user.id), "Hi")
        .reply_markup(keyboard)
        .await
        .expect("send");
    let query_id = fake.press_button(&user, msg.id.0 as i64, "go");
    let own = fake.send_private_text(&user, "hello");
    fake.edit_private_text(&user, own, "hello!");
    let updates = bot.get_updates().await.expect("getUpdates");
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("{:?}", updates[0])
    };
    assert_eq!(query.id.0, query_id);
    assert_eq!(query.data.as_deref(), Some("go"));
    let Some(MaybeInaccessibleMessage::Regular(original)) = &query.message else {
        panic!("{query:?}")
    };
    assert_eq!(original.text(), Some("Hi"));
    assert!(matches!(&updates[2].kind, UpdateKind::EditedMessage(m) if m.text() == Some("hello!")));

    bot.answer_callback_query(query.id.clone())
        .text("Done")
        .await
        .expect("answer");
    assert_eq!(
        fake.callback_answer(&query_id),
        Some((Some("Done".to_owned()), false))
    );
    let again = bot.answer_callback_query(query.id.clone()).await;
    assert!(matches!(again, Err(RequestError::Api(_))), "{again:?}");

    let edited = bot
        .edit_message_text(ChatId(user.id), msg.id, "Bye")
        .await
        .expect("edit");
    assert_eq!(edited.text(), Some("Bye"));
    let current = fake.sent_to(user.id).remove(0);
    assert!(
        current.edited && current.inline_buttons().is_empty(),
        "{current:?}"
    );
    let same = bot.edit_message_text(ChatId(user.id), msg.id, "Bye").await;
    assert!(
        matches!(same, Err(RequestError::Api(ApiError::MessageNotModified))),
        "{same:?}"
    );
    let missing = bot
        .edit_message_text(ChatId(user.id), MessageId(999), "x")
        .await;
    assert!(
        matches!(
            missing,
            Err(RequestError::Api(ApiError::MessageToEditNotFound))
        ),
        "{missing:?}"
    );

    let copy = bot
        .copy_message(ChatId(-100555), ChatId(user.id), MessageId(own as i32))
        .await
        .expect("copy");
    let copied = fake.last_sent_to(-100555).expect("copy recorded");
    assert_eq!(copied.message_id, copy.0 as i64);
    assert_eq!(copied.text.as_deref(), Some("hello!"));
    assert_eq!(
        copied.kind,
        SentKind::Copy {
            from_chat_id: user.id,
            message_id: own
        }
    );
    bot.delete_message(ChatId(user.id), msg.id)
        .await
        .expect("delete");
    assert!(fake.sent_to(user.id)[0].deleted);
}

#[tokio::test]
async fn scripted_failures() {
    let (fake, bot) = setup().await;
    fake.fail_next("sendMessage", Failure::too_many_requests(7));
    let err = bot.send_message(ChatId(5), "x").await.expect_err("429");
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 7),
        "{err:?}"
    );
    bot.send_message(ChatId(5), "x")
        .await
        .expect("consumed FIFO");

    fake.set_chat_failure(5, Some(Failure::blocked()));
    let err = bot.send_message(ChatId(5), "x").await.expect_err("blocked");
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
    fake.set_chat_failure(5, None);

    fake.fail_next("sendMessage", Failure::migrated_to(-100777));
    let err = bot.send_message(ChatId(5), "x").await.expect_err("migrate");
    assert!(
        matches!(err, RequestError::MigrateToChatId(ChatId(-100777))),
        "{err:?}"
    );

    fake.fail_next("sendMessage", Failure::DropConnection);
    let err = bot.send_message(ChatId(5), "x").await.expect_err("dropped");
    assert!(matches!(err, RequestError::Network(_)), "{err:?}");

    fake.fail_next("getMe", Failure::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    bot.get_me().await.expect("delayed getMe");
    assert!(started.elapsed() >= Duration::from_millis(300));

    let err = bot
        .send_message(ChatId(5), "<b>oops")
        .parse_mode(teloxide::types::ParseMode::Html)
        .await;
    assert!(
        matches!(err, Err(RequestError::Api(ApiError::CantParseEntities(_)))),
        "{err:?}"
    );
    let sends = fake.requests_to("sendMessage").len();
    assert_eq!(sends, 6, "every request is recorded, failed or not");
    assert_eq!(fake.sent_to(5).len(), 1);
}

#[tokio::test]
async fn send_document_uploads_bytes_and_file_name() {
    let (fake, bot) = setup().await;
    let keyboard =
        InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("Again", "again")]]);
    let msg = bot
        .send_document(
            ChatId(42),
            InputFile::memory(b"a,b\n1,2\n".to_vec()).file_name("a.csv"),
        )
        .caption("123")
        .reply_markup(keyboard)
        .await
        .expect("sendDocument");
    let doc = msg.document().expect("document in result");
    assert_eq!(doc.file_name.as_deref(), Some("a.csv"));
    let request = fake.requests_to("sendDocument").remove(0);
    assert_eq!(request.chat_id(), Some(42));
    assert_eq!(request.param_str("caption"), Some("123"));
    assert!(
        request.params["reply_markup"].is_object(),
        "{:?}",
        request.params
    );
    assert_eq!(request.files[0].field, "document");
    let sent = fake.last_sent_to(42).expect("sent");
    assert_eq!(sent.kind, SentKind::Document);
    assert_eq!(sent.text.as_deref(), Some("123"));
    let file = sent.document.clone().expect("bytes kept");
    assert_eq!(
        (file.file_name.as_str(), file.text().as_str()),
        ("a.csv", "a,b\n1,2\n")
    );
    assert_eq!(sent.inline_buttons()[0][0].1, "again");

    let photo = bot
        .send_photo(ChatId(42), InputFile::memory(vec![1u8, 2, 3]))
        .await
        .expect("sendPhoto");
    assert!(photo.photo().is_some());
    assert_eq!(
        fake.last_sent_to(42)
            .and_then(|m| m.document)
            .map(|d| d.bytes),
        Some(vec![1, 2, 3])
    );
}

#[tokio::test]
async fn flood_limits_answer_429() {
    let (fake, bot) = setup().await;
    fake.set_flood_limits(true);
    for _ in 0..3 {
        bot.send_message(ChatId(7), "burst")
            .await
            .expect("within burst");
    }
    let err = bot
        .send_message(ChatId(7), "too much")
        .await
        .expect_err("flood");
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() >= 1),
        "{err:?}"
    );
    for _ in 0..20 {
        bot.send_message(ChatId(-1001), "group")
            .await
            .expect("20 per minute");
    }
    let err = bot
        .send_message(ChatId(-1001), "group")
        .await
        .expect_err("group flood");
    assert!(matches!(err, RequestError::RetryAfter(_)), "{err:?}");
    fake.set_flood_limits(false);
    bot.send_message(ChatId(7), "fine again")
        .await
        .expect("limits off");
}

#[tokio::test]
async fn messages_of_other_chats_are_announced_but_not_kept_when_told() {
    let (fake, bot) = setup().await;
    fake.keep_messages_only_for([1001]);
    let mut events = fake.subscribe();
    bot.send_message(ChatId(1001), "kept").await.expect("send");
    bot.send_message(ChatId(1002), "not kept")
        .await
        .expect("answered all the same");
    let kept: Vec<_> = fake
        .sent_messages()
        .into_iter()
        .map(|m| m.chat_id)
        .collect();
    assert_eq!(kept, vec![1001]);
    let mut announced = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let FakeEvent::MessageSent(m) = event {
            announced.push(m.chat_id);
        }
    }
    assert_eq!(announced, vec![1001, 1002]);
}
