use crate::harness::{TestBot, joined, labels};
use fake_telegram::FakeUser;
use serde_json::json;

/// Starts a father's registration and stops at the name question.
async fn at_name_step(bot: &TestBot, id: i64, lang: &str) -> FakeUser {
    let user = FakeUser::new(id, "Test", Some(lang));
    bot.send(&user, "/start").await;
    bot.press(&user, if lang == "fi" { "Isä" } else { "Father" })
        .await;
    user
}

async fn step_of(bot: &TestBot, user: &FakeUser) -> String {
    bot.stored_step(user).await.expect("in a dialogue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stickers_photos_and_voice_get_a_friendly_answer_and_the_flow_continues() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5001, "en").await;
    let media = [
        json!({"sticker": {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}}),
        json!({"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]}),
        json!({"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 3, "mime_type": "audio/ogg", "file_size": 4210}}),
        json!({"giveaway_of_the_future": {"prize": "unknown to this teloxide"}}),
    ];
    for fields in media {
        let replies = bot.send_message(&user, fields.clone()).await;
        let text = joined(&replies);
        assert!(
            text.contains("I cannot read stickers, photos, voice messages or files"),
            "{fields}: {text}"
        );
        assert!(
            text.contains("What is your first name or nickname?"),
            "the question is asked again: {text}"
        );
        assert_eq!(step_of(&bot, &user).await, "father_name");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_from_an_old_message_is_explained_and_the_current_step_asked() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5002, "fi").await;
    bot.send(&user, "Teppo").await;
    // Press "Isä" again on the first question (its data is still known to the fake).
    let first = bot
        .fake
        .sent_to(user.id)
        .into_iter()
        .find(|m| m.text.as_deref().unwrap_or("").starts_with("Kuka olet?"))
        .unwrap();
    let replies = bot
        .press_data(&user, first.message_id, "1|a|role|professional")
        .await;
    let text = joined(&replies);
    assert!(text.contains("Tuo painike on vanhasta viestistä"), "{text}");
    assert!(text.contains("Millä alueella"), "{text}");
    let answers: String =
        sqlx::query_scalar("SELECT answers FROM dialogues WHERE telegram_user_id = ?")
            .bind(user.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert!(
        answers.contains("\"role\":\"father\""),
        "the old button changed nothing: {answers}"
    );
    let toast = bot
        .fake
        .requests_to("answerCallbackQuery")
        .last()
        .and_then(|r| r.param_str("text").map(str::to_string));
    assert_eq!(toast.as_deref(), Some("Tämä painike ei ole enää käytössä."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_unknown_callback_data_changes_nothing() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5003, "en").await;
    let last = bot.fake.last_sent_to(user.id).unwrap();
    for data in [
        "garbage",
        "1|a|role|pirate",
        "9|x",
        "1|e|../../etc",
        "1|a|father_name|Robert'); DROP TABLE participants;--",
    ] {
        let replies = bot.press_data(&user, last.message_id, data).await;
        assert!(
            joined(&replies).contains("What is your first name"),
            "{data}: {}",
            joined(&replies)
        );
    }
    assert_eq!(step_of(&bot, &user).await, "father_name");
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM users WHERE telegram_user_id = ?",
            user.id
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_mid_flow_answer_and_then_return_to_the_question() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5004, "fi").await;
    let replies = bot.send(&user, "/help").await;
    let text = joined(&replies);
    assert!(
        text.contains("venla.vuorjoki@diak.fi"),
        "help has the real contacts: {text}"
    );
    assert!(
        text.ends_with("(Sillä nimellä puhuttelemme sinua.)"),
        "{text}"
    );

    let replies = bot.send(&user, "/nonsense").await;
    assert!(joined(&replies).contains("En tunne komentoa /nonsense"));
    assert!(joined(&replies).contains("etunimesi"));

    let replies = bot.send(&user, "/privacy").await;
    assert!(joined(&replies).contains("Rekisterinpitäjä: Oulun ammattikorkeakoulu"));
    assert_eq!(step_of(&bot, &user).await, "father_name");

    let replies = bot.send(&user, "/start").await;
    assert!(joined(&replies).contains("Jatketaan siitä, mihin jäit."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_text_is_refused_with_the_limit() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5007, "en").await;
    let replies = bot.send(&user, &"x".repeat(5000)).await;
    assert!(
        joined(&replies).contains("too long (at most 40 characters)"),
        "{}",
        joined(&replies)
    );
    assert_eq!(step_of(&bot, &user).await, "father_name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_messages_are_explained_without_changing_answers() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5005, "en").await;
    let (sent_id, _) = bot.send_with_id(&user, "Teemu").await;
    let replies = bot.send(&user, &"x".repeat(5000)).await;
    assert!(
        joined(&replies).contains("Please choose your answer with the buttons"),
        "{}",
        joined(&replies)
    );
    let replies = bot.edit(&user, sent_id, "Edited name").await;
    let text = joined(&replies);
    assert!(text.contains("I noticed you edited your message"), "{text}");
    assert_eq!(
        step_of(&bot, &user).await,
        "father_area",
        "the first text was taken as the name"
    );
    let name: String =
        sqlx::query_scalar("SELECT answers FROM dialogues WHERE telegram_user_id = ?")
            .bind(user.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert!(
        name.contains("\"name\":\"Teemu\""),
        "the edit did not change the stored answer: {name}"
    );
    let replies = bot.send(&user, "Rovaniemi").await;
    assert!(joined(&replies).contains("Please choose your answer with the buttons"));
    assert_eq!(
        labels(&replies),
        ["Oulu", "Kajaani", "Rovaniemi", "Elsewhere / online"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_leaves_the_flow_and_drops_the_unfinished_answers() {
    let bot = TestBot::start().await;
    let user = at_name_step(&bot, 5006, "fi").await;
    let replies = bot.send(&user, "/cancel").await;
    assert!(joined(&replies).contains("Keskeytetty."));
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM dialogues WHERE telegram_user_id = ?",
            user.id
        )
        .await,
        0
    );
    let replies = bot.send(&user, "/cancel").await;
    assert!(joined(&replies).contains("Mitään ei ole kesken."));
}
