//! Discussion prompts in a linked group: the weekly plan across the DST change, pause and resume,
//! facilitators' commands and their authorisation, and the bot removed or demoted.
use crate::harness::{Arrival, joined};
use fake_telegram::FakeUser;
use milava_bot::domain::commands::{Command, Where, Who};
use testkit::story::groups::{
    admin, arrivals_in, coordinator, in_group, link_oulu, oulu_group, prompts_recorded, set_bot,
    start, times, utc,
};
use testkit::story::register_father;

/// The Oulu group's Tuesday 19.00 prompts from 12.3. to 14.5.2024: 19.00 is 17:00 UTC before 31.3. and 16:00
/// UTC after it; two Tuesdays are paused; no prompt comes twice; the plan's order is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_follow_the_plan_weekly_across_the_dst_change_never_repeat_and_pause() {
    let bot = start().await;
    let group = oulu_group();
    let coordinator = coordinator();
    link_oulu(&bot).await;
    let at_group = |arrivals: &[Arrival]| arrivals_in(arrivals, group.id);

    let first = at_group(&bot.advance_to(utc(2024, 3, 27, 0, 0)).await);
    assert_eq!(
        times(&first),
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
        times(&rest),
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

    for command in Command::names_for(Who::Facilitators, Where::Group) {
        let text = if command == "linkgroup" {
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
    assert_eq!(prompts_recorded(&bot).await, 0);
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
    assert_eq!(prompts_recorded(&bot).await, 1);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_upgraded_to_a_supergroup_keeps_its_link_under_the_new_id() {
    let bot = start().await;
    let group = oulu_group();
    link_oulu(&bot).await;
    bot.fake
        .fail_next("sendMessage", fake_telegram::Failure::migrated_to(-100_888));
    in_group(&bot, &group, &coordinator(), "/prompt").await;
    bot.settle().await;
    assert_eq!(
        bot.fake.sent_to(-100_888).len(),
        1,
        "the prompt went to the new id"
    );
    let chat: i64 =
        sqlx::query_scalar("SELECT chat_id FROM group_links WHERE group_id = 'oulu-isat-fi'")
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(chat, -100_888);
}

/// The bot was removed while it was down (the update never came): the first prompt that fails stops the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_refused_because_the_bot_was_kicked_stops_the_groups_prompts() {
    let bot = start().await;
    let group = oulu_group();
    link_oulu(&bot).await;
    bot.fake.set_chat_failure(
        group.id,
        Some(fake_telegram::Failure::api(
            403,
            "Forbidden: bot was kicked from the supergroup chat",
        )),
    );
    bot.advance_to(utc(2024, 3, 13, 0, 0)).await;
    assert_eq!(
        bot.count("SELECT active FROM group_links WHERE chat_id = ?", group.id)
            .await,
        0
    );
    bot.advance_to(utc(2024, 4, 1, 0, 0)).await;
    assert_eq!(
        prompts_recorded(&bot).await,
        1,
        "no prompts queued after the refusal"
    );
}
