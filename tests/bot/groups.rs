//! Fathers' peer groups in real Telegram groups: linking, gated joining, /apua, scheduled prompts across the
//! DST change, facilitators' commands, and the bot removed from a group.
use crate::harness::{TestBot, joined};
use crate::registration::register_father;
use chrono::{DateTime, TimeZone, Utc};
use milava_bot::domain::commands::FACILITATOR_COMMANDS;
use milava_bot::fake_telegram::{FAKE_BOT_ID, FakeGroup, FakeUser, SentMessage};
use serde_json::json;

pub const COORDINATOR: i64 = 900;

pub fn coordinator() -> FakeUser {
    FakeUser::new(COORDINATOR, "Koordinaattori", Some("fi"))
}

pub fn oulu_group() -> FakeGroup {
    FakeGroup::new(-100_777, "Oulun isät")
}

pub async fn start() -> TestBot {
    TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await
}

/// A message in a group chat; returns what the bot sent to the group meanwhile.
pub async fn in_group(
    bot: &TestBot,
    group: &FakeGroup,
    user: &FakeUser,
    text: &str,
) -> Vec<SentMessage> {
    bot.exchange(group.id, |f| {
        f.send_group_text(group, user, text);
    })
    .await
}

/// The coordinator links the Oulu group; returns the invite link the bot created.
pub async fn link_oulu(bot: &TestBot) -> String {
    let replies = in_group(bot, &oulu_group(), &coordinator(), "/linkgroup isat-oulu").await;
    assert!(
        joined(&replies).contains("Valmista! Tämä ryhmä on nyt Oulun isien vertaisryhmä"),
        "{}",
        joined(&replies)
    );
    let created = bot.fake.requests_to("createChatInviteLink");
    let last = created.last().expect("an invite link was created");
    assert_eq!(
        last.params["creates_join_request"],
        json!(true),
        "{:?}",
        last.params
    );
    assert!(last.params.get("member_limit").is_none());
    sqlx::query_scalar("SELECT invite_link FROM group_links WHERE group_id = 'oulu-isat-fi'")
        .fetch_one(&bot.db)
        .await
        .unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

async fn set_bot(bot: &TestBot, group: &FakeGroup, member: serde_json::Value) {
    bot.exchange(group.id, |f| {
        f.set_bot_membership(group, &coordinator(), member)
    })
    .await;
}

fn admin(can_invite_users: bool) -> serde_json::Value {
    json!({
        "status": "administrator", "can_be_edited": false, "is_anonymous": false, "can_manage_chat": true,
        "can_change_info": false, "can_delete_messages": true, "can_manage_video_chats": false,
        "can_invite_users": can_invite_users, "can_restrict_members": false, "can_pin_messages": true,
        "can_manage_topics": false, "can_promote_members": false, "can_post_stories": false,
        "can_edit_stories": false, "can_delete_stories": false
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_a_group_names_exactly_the_right_the_bot_lacks() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();

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
        text.contains("”Kutsu käyttäjiä linkillä” (can_invite_users)"),
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
    bot.exchange(group.id, |f| {
        f.request_to_join(&group, &father, Some(&link));
    })
    .await;
    bot.settle().await;
    let approvals = bot.fake.requests_to("approveChatJoinRequest");
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].params["user_id"], json!(father.id));
    let welcome = joined(&bot.fake.sent_to(father.id)[before..]);
    assert!(
        welcome.contains("Tervetuloa ryhmään Oulun isien vertaisryhmä"),
        "{welcome}"
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
    bot.exchange(group.id, |f| {
        f.request_to_join(&group, &stranger, Some(&link));
    })
    .await;
    bot.settle().await;
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
    bot.exchange(group.id, |f| {
        f.request_to_join(&group, &kajaani, Some(&link));
    })
    .await;
    bot.settle().await;
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

/// The Oulu group's Tuesday 19.00 prompts from 12.3. to 14.5.2024: 19.00 is 17:00 UTC before 31.3. and 16:00
/// UTC after it; two Tuesdays are paused; no prompt comes twice; the plan's order is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_follow_the_plan_weekly_across_the_dst_change_never_repeat_and_pause() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();
    link_oulu(&bot).await;
    let at_group = |arrivals: &[crate::harness::Arrival]| -> Vec<(DateTime<Utc>, String)> {
        arrivals
            .iter()
            .filter(|a| a.message.chat_id == group.id)
            .map(|a| (a.at, a.message.text.clone().unwrap_or_default()))
            .collect()
    };

    let first = at_group(&bot.advance_to(utc(2024, 3, 27, 0, 0)).await);
    assert_eq!(
        first.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        [
            utc(2024, 3, 12, 17, 0),
            utc(2024, 3, 19, 17, 0),
            utc(2024, 3, 26, 17, 0)
        ]
    );
    assert!(
        first[0]
            .1
            .contains("Mikä on ollut isyydessä sinulle viime aikoina hyvää?"),
        "{}",
        first[0].1
    );
    assert!(
        first[0]
            .1
            .contains("Jatkokysymys: Mikä siinä hetkessä auttoi"),
        "{}",
        first[0].1
    );

    let replies = in_group(&bot, &group, &coordinator, "/pause").await;
    assert!(joined(&replies).contains("tauolla"));
    let paused = at_group(&bot.advance_to(utc(2024, 4, 10, 0, 0)).await);
    assert!(paused.is_empty(), "nothing while paused: {paused:?}");

    let replies = in_group(&bot, &group, &coordinator, "/upcoming").await;
    let upcoming = joined(&replies);
    assert!(upcoming.contains("tauolla"), "{upcoming}");
    let replies = in_group(&bot, &group, &coordinator, "/resume").await;
    assert!(
        joined(&replies).contains("Seuraava: ti 16.4.2024 klo 19.00"),
        "{}",
        joined(&replies)
    );
    let replies = in_group(&bot, &group, &coordinator, "/upcoming").await;
    let upcoming = joined(&replies);
    assert!(
        upcoming.contains("• ti 16.4.2024 klo 19.00: Keneltä sinä saat tukea isänä?"),
        "{upcoming}"
    );
    assert!(
        upcoming.contains("• ti 23.4.2024 klo 19.00: Univaje kuuluu"),
        "{upcoming}"
    );

    let rest = at_group(&bot.advance_to(utc(2024, 5, 15, 0, 0)).await);
    assert_eq!(
        rest.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        [
            utc(2024, 4, 16, 16, 0),
            utc(2024, 4, 23, 16, 0),
            utc(2024, 4, 30, 16, 0),
            utc(2024, 5, 7, 16, 0),
            utc(2024, 5, 14, 16, 0)
        ]
    );
    let posted: Vec<String> = first
        .iter()
        .chain(&rest)
        .map(|(_, text)| text.clone())
        .collect();
    let mut distinct = posted.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), posted.len(), "a prompt came twice");
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT prompt_id FROM group_prompts WHERE group_id = 'oulu-isat-fi' ORDER BY at, rowid",
    )
    .fetch_all(&bot.db)
    .await
    .unwrap();
    assert_eq!(
        ids,
        [
            "resources-strength",
            "resources-own-father",
            "resources-recharge",
            "resources-support-network",
            "stress-sleep",
            "stress-work-family",
            "stress-anger",
            "stress-money-worries"
        ]
    );
    // Sent rows older than DELIVERY_RETENTION_DAYS (30) are pruned; the newer ones carry the prompt's key.
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM deliveries WHERE idempotency_key LIKE 'prompt:oulu-isat-fi:%' AND status = 'sent' AND chat_id = ?", group.id).await,
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facilitators_post_and_skip_prompts_at_once_and_others_are_refused() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();
    link_oulu(&bot).await;
    let father = register_father(&bot, 7201, "Pekka").await;

    for command in FACILITATOR_COMMANDS {
        let text = if *command == "linkgroup" {
            "/linkgroup isat-oulu".to_string()
        } else {
            format!("/{command}")
        };
        let replies = in_group(&bot, &group, &father, &text).await;
        assert!(
            joined(&replies).contains("vain ryhmän ohjaajille"),
            "/{command}: {}",
            joined(&replies)
        );
        let private = bot.send(&father, &text).await;
        assert!(
            joined(&private).contains("vertaisryhmän Telegram-ryhmässä"),
            "/{command} in private"
        );
    }
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM group_prompts WHERE prompt_id != ?", 0)
            .await,
        0
    );
    assert_eq!(
        bot.count("SELECT paused FROM group_links WHERE chat_id = ?", group.id)
            .await,
        0
    );

    let replies = in_group(&bot, &group, &coordinator, "/skip").await;
    assert!(
        joined(&replies).contains("Ohitettu aihe: Mikä on ollut isyydessä"),
        "{}",
        joined(&replies)
    );
    in_group(&bot, &group, &coordinator, "/prompt").await;
    bot.settle().await;
    let last = bot.fake.last_sent_to(group.id).unwrap();
    assert!(
        last.text
            .unwrap()
            .contains("Mitä olet saanut omalta isältäsi"),
        "the skipped one is passed over"
    );
    // /rules is for everyone.
    let rules = in_group(&bot, &group, &father, "/rules").await;
    assert!(joined(&rules).contains("Ryhmän säännöt:"));
    assert!(joined(&bot.send(&father, "/rules").await).contains("Ryhmän säännöt:"));
    // Ordinary chatter gets no answer and is not stored anywhere.
    let replies = in_group(
        &bot,
        &group,
        &father,
        "Hei kaikki, meillä oli rankka viikko",
    )
    .await;
    assert!(replies.is_empty());
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM deliveries WHERE payload LIKE '%rankka viikko%')
              + (SELECT COUNT(*) FROM dialogues WHERE answers LIKE '%rankka viikko%')
              + (SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%rankka viikko%')",
    )
    .fetch_one(&bot.db)
    .await
    .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_removed_from_its_group_stops_the_prompts_and_tells_the_coordinators() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();
    link_oulu(&bot).await;
    let arrivals = bot.advance_to(utc(2024, 3, 13, 0, 0)).await;
    assert_eq!(
        arrivals
            .iter()
            .filter(|a| a.message.chat_id == group.id)
            .count(),
        1
    );

    let remover = FakeUser::new(7301, "Ylläpitäjä", Some("fi"));
    bot.exchange(group.id, |f| f.remove_bot_from_group(&group, &remover))
        .await;
    bot.settle().await;
    let told = joined(&bot.fake.sent_to(coordinator.id));
    assert!(
        told.contains("botti poistettiin vertaisryhmästä Oulun isien vertaisryhmä"),
        "{told}"
    );
    assert!(told.contains("en ole tämän ryhmän jäsen"), "{told}");
    assert_eq!(
        bot.count("SELECT active FROM group_links WHERE chat_id = ?", group.id)
            .await,
        0
    );

    let later = bot.advance_to(utc(2024, 4, 10, 0, 0)).await;
    assert!(
        later.iter().all(|a| a.message.chat_id != group.id),
        "no prompts after removal"
    );
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM group_prompts WHERE prompt_id != ?", 0)
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_loses_its_invite_right_stops_prompts_and_is_relinked() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();
    link_oulu(&bot).await;
    set_bot(&bot, &group, admin(false)).await;
    bot.settle().await;
    let told = joined(&bot.fake.sent_to(coordinator.id));
    assert!(told.contains("can_invite_users"), "{told}");
    let replies = in_group(&bot, &group, &coordinator, "/prompt").await;
    assert!(joined(&replies).contains("Botilta puuttuu tässä ryhmässä oikeuksia"));
    assert!(
        bot.advance_to(utc(2024, 3, 20, 0, 0))
            .await
            .iter()
            .all(|a| a.message.chat_id != group.id)
    );

    set_bot(&bot, &group, admin(true)).await;
    link_oulu(&bot).await;
    let arrivals = bot.advance_to(utc(2024, 3, 27, 0, 0)).await;
    let posted: Vec<_> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == group.id)
        .collect();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].at, utc(2024, 3, 26, 17, 0));
}
