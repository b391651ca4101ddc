//! Fathers' peer groups in real Telegram groups: linking, gated joining, /apua, scheduled prompts across the
//! DST change, facilitators' commands, and the bot removed from a group.
use crate::harness::{TestBot, joined};
use fake_telegram::{FAKE_BOT_ID, FakeGroup, FakeUser};
use serde_json::json;
use testkit::story::groups::{
    COORDINATOR, admin, coordinator, in_group, link_oulu, oulu_group, start,
};
use testkit::story::register_father;

/// `user` asks to join the group through its invite link; waits until the bot has decided and the outbox
/// has sent what it queued.
async fn ask_to_join(bot: &TestBot, group: &FakeGroup, user: &FakeUser, link: &str) {
    bot.exchange(group.id, |f| {
        f.request_to_join(group, user, Some(link));
    })
    .await;
    bot.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_a_group_names_exactly_the_right_the_bot_lacks() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();
    testkit::story::groups::set_chat_role(&bot, group.id, COORDINATOR, true);

    bot.fake
        .set_chat_member(group.id, FAKE_BOT_ID, json!({"status": "member"}));
    let replies = in_group(&bot, &group, &coordinator, "/linkgroup isat-oulu").await;
    assert!(
        joined(&replies).contains("en ole ryhmän ylläpitäjä"),
        "{}",
        joined(&replies)
    );

    bot.fake
        .set_chat_member(group.id, FAKE_BOT_ID, admin(false));
    let replies = in_group(&bot, &group, &coordinator, "/linkgroup isat-oulu").await;
    let text = joined(&replies);
    assert!(
        text.contains(
            "puuttuu käyttäjien kutsuminen linkillä (”Invite users via link”, can_invite_users)"
        ),
        "{text}"
    );
    assert!(!text.contains("Valmista"));
    assert!(
        bot.fake.requests_to("createChatInviteLink").is_empty(),
        "no link without the right"
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM group_links WHERE chat_id = ?",
            group.id
        )
        .await,
        0
    );

    let replies = in_group(&bot, &group, &coordinator, "/linkgroup nonexistent").await;
    assert!(joined(&replies).contains("Kirjoita ryhmän koodi"));

    bot.fake.set_chat_member(group.id, FAKE_BOT_ID, admin(true));
    let link = link_oulu(&bot).await;
    assert!(link.starts_with("https://t.me/+"), "{link}");
    // The next prompt time is stated: Tuesdays 19.00 in Helsinki.
    let sent = bot.fake.sent_to(group.id);
    assert!(
        joined(&sent).contains("Seuraava keskusteluaihe: ti 12.3.2024 klo 19.00"),
        "{}",
        joined(&sent)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_requests_let_in_assigned_fathers_and_decline_others_with_how_to_register() {
    let bot = start().await;
    let group = oulu_group();
    let link = link_oulu(&bot).await;

    // A father from Oulu registers: he is assigned the Oulu group and gets its join button at once.
    let father = FakeUser::new(7001, "Pekka", Some("fi"));
    bot.send(&father, "/start").await;
    bot.press(&father, "Isä").await;
    bot.send(&father, "Pekka").await;
    bot.press(&father, "Oulu").await;
    bot.press(&father, "Vertaisryhmä").await;
    bot.press(&father, "Hyväksyn").await;
    let replies = bot.press(&father, "Kyllä, saa käyttää").await;
    let button = replies.iter().find_map(|m| m.button_data("Liity ryhmään"));
    assert_eq!(
        button.as_deref(),
        Some(link.as_str()),
        "{}",
        joined(&replies)
    );
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM participants WHERE group_id = 'oulu-isat-fi' AND telegram_user_id = ?", father.id).await,
        1
    );
    let again = bot.send(&father, "/group").await;
    assert_eq!(
        again.iter().find_map(|m| m.button_data("Liity ryhmään")),
        Some(link.clone())
    );

    let before = bot.fake.sent_to(father.id).len();
    ask_to_join(&bot, &group, &father, &link).await;
    let approvals = bot.fake.requests_to("approveChatJoinRequest");
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].params["user_id"], json!(father.id));
    let welcome = joined(&bot.fake.sent_to(father.id)[before..]);
    assert!(
        welcome.contains("Tervetuloa ryhmään Oulun isien vertaisryhmä"),
        "{welcome}"
    );
    let mydata = joined(&bot.send(&father, "/mydata").await);
    assert!(
        mydata
            .contains("Vertaisryhmän jäsen: Oulun isien vertaisryhmä (12.3.2024 klo 9.00 alkaen)"),
        "{mydata}"
    );
    assert!(
        welcome.contains("Ryhmän säännöt:"),
        "the rules come with the welcome: {welcome}"
    );
    assert!(
        bot.fake.sent_to(group.id).iter().all(|m| !m
            .text
            .clone()
            .unwrap_or_default()
            .contains("Pekka"))
    );

    // Someone who never started the bot: declined, and told how to register within Telegram's 5 minutes.
    let stranger = FakeUser::new(7002, "Outsider", Some("fi"));
    bot.fake.set_not_started(&stranger);
    ask_to_join(&bot, &group, &stranger, &link).await;
    let declines = bot.fake.requests_to("declineChatJoinRequest");
    assert_eq!(declines.len(), 1);
    assert_eq!(declines[0].params["user_id"], json!(stranger.id));
    let told = bot.fake.sent_to(stranger.id);
    assert_eq!(told.len(), 1, "the decline message reached him");
    assert!(
        told[0]
            .text
            .as_deref()
            .unwrap()
            .contains("ilmoittautumalla ensin tässä botissa")
    );
    assert_eq!(
        told[0].button_data("Ilmoittaudu").as_deref(),
        Some("https://t.me/milava_test_bot?start=isat-oulu")
    );

    // A registered father of another area is declined too, with a different explanation.
    let kajaani = FakeUser::new(7003, "Kalle", Some("fi"));
    bot.send(&kajaani, "/start isat-kajaani").await;
    bot.send(&kajaani, "Kalle").await;
    bot.press(&kajaani, "Molemmat").await;
    bot.press(&kajaani, "Hyväksyn").await;
    bot.press(&kajaani, "Ei, kiitos").await;
    let before = bot.fake.sent_to(kajaani.id).len();
    ask_to_join(&bot, &group, &kajaani, &link).await;
    assert_eq!(bot.fake.requests_to("declineChatJoinRequest").len(), 2);
    assert!(joined(&bot.fake.sent_to(kajaani.id)[before..]).contains("ryhmäsi on toinen"));
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM group_members WHERE status = 'approved' AND telegram_user_id = ?",
            father.id
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apua_in_a_group_answers_in_private_and_never_exposes_the_asker() {
    let bot = start().await;
    let group = oulu_group();
    link_oulu(&bot).await;
    let father = register_father(&bot, 7101, "Pekka").await;
    let group_before = bot.fake.sent_to(group.id).len();
    let private_before = bot.fake.sent_to(father.id).len();

    let in_the_group = in_group(&bot, &group, &father, "/apua").await;
    assert!(
        in_the_group.is_empty(),
        "nothing in the group: {}",
        joined(&in_the_group)
    );
    let private = joined(&bot.fake.sent_to(father.id)[private_before..]);
    assert!(private.contains("112"), "{private}");
    assert!(private.contains("kaisa.kepanen@kamk.fi"), "{private}");
    let deleted = bot.fake.requests_to("deleteMessage");
    assert_eq!(
        deleted.len(),
        1,
        "the /apua message is removed from the group"
    );
    assert_eq!(deleted[0].params["chat_id"], json!(group.id));

    // Someone the bot may not write to: a neutral line in the group with a button to the bot's private chat.
    let shy = FakeUser::new(7102, "Salainen", Some("fi"));
    bot.fake.set_not_started(&shy);
    let replies = in_group(&bot, &group, &shy, "/help_now").await;
    assert_eq!(replies.len(), 1);
    let note = &replies[0];
    let text = note.text.clone().unwrap();
    assert!(
        !text.contains("Salainen") && !text.contains("112"),
        "{text}"
    );
    assert_eq!(
        note.button_data("Avaa yhteystiedot").as_deref(),
        Some("https://t.me/milava_test_bot?start=apua")
    );
    assert!(
        bot.fake
            .requests_to("sendMessage")
            .iter()
            .all(|r| r.params.get("reply_parameters").is_none())
    );
    assert_eq!(bot.fake.sent_to(group.id).len(), group_before + 1);

    // The button's start payload shows the resources privately, without starting a registration.
    let replies = bot.send(&shy, "/start apua").await;
    let text = joined(&replies);
    assert!(
        text.contains("112") && text.contains("juha.alakulppi@oamk.fi"),
        "{text}"
    );
    assert!(!text.contains("Kuka olet?"));

    // In private chat, /apua answers right there.
    assert!(joined(&bot.send(&father, "/apua").await).contains("112"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_chats_get_their_own_command_menus() {
    let bot = start().await;
    bot.fake
        .wait_until("group menus", crate::harness::STEP_TIMEOUT, |f| {
            f.commands_set().iter().any(|s| {
                s["scope"]["type"] == "all_chat_administrators" && s.get("language_code").is_none()
            })
        })
        .await;
    let names = |scope: &str| -> Vec<String> {
        let sets = bot.fake.commands_set();
        let set = sets
            .iter()
            .find(|s| s["scope"]["type"] == scope && s["language_code"] == "fi")
            .unwrap_or_else(|| panic!("a Finnish menu for {scope}"));
        set["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("all_group_chats"), ["rules", "apua", "help_now"]);
    assert_eq!(
        names("all_chat_administrators"),
        [
            "rules",
            "apua",
            "help_now",
            "linkgroup",
            "prompt",
            "skip",
            "pause",
            "resume",
            "upcoming"
        ]
    );
}
