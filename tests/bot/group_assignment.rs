//! Which group a father gets: his area's group in his language, else the online (fallback) group, and again
//! when he changes his area before joining.
use crate::harness::{joined, labels};
use fake_telegram::{FakeGroup, FakeUser};
use testkit::story::groups::{arrivals_in, coordinator, in_group, link_oulu, start, utc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_father_who_moves_area_before_joining_gets_his_new_areas_group() {
    let bot = start().await;
    let link = link_oulu(&bot).await;
    let father = FakeUser::new(7401, "Kalle", Some("fi"));
    bot.send(&father, "/start").await;
    bot.press(&father, "Isä").await;
    bot.send(&father, "Kalle").await;
    bot.press(&father, "Kajaani").await;
    bot.press(&father, "Vertaisryhmä").await;
    bot.press(&father, "Hyväksyn").await;
    let replies = bot.press(&father, "Ei, kiitos").await;
    assert!(
        joined(&replies).contains("Vertaisryhmäsi on Kajaanin isien vertaisryhmä. Ryhmän Telegram-keskustelu ei ole vielä auki"),
        "{}",
        joined(&replies)
    );

    bot.send(&father, "/profile").await;
    bot.press(&father, "✏️ Alue").await;
    let replies = bot.press(&father, "Oulu").await;
    assert_eq!(
        replies.iter().find_map(|m| m.button_data("Liity ryhmään")),
        Some(link),
        "{}",
        joined(&replies)
    );
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM participants WHERE group_id = 'oulu-isat-fi' AND telegram_user_id = ?", father.id).await,
        1
    );

    // Choosing coaching as well brings the weekday question.
    bot.send(&father, "/profile").await;
    bot.press(&father, "✏️ Toive").await;
    let replies = bot.press(&father, "Molemmat").await;
    assert!(
        joined(&replies).contains("Minä päivänä haluat sen?"),
        "{}",
        joined(&replies)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_english_speaking_father_in_oulu_gets_the_online_group_and_english_prompts() {
    let bot = start().await;
    let online = FakeGroup::new(-100_555, "Fathers online");
    testkit::story::groups::set_chat_role(
        &bot,
        online.id,
        testkit::story::groups::COORDINATOR,
        true,
    );
    let replies = in_group(&bot, &online, &coordinator(), "/linkgroup fathers-online").await;
    assert!(
        joined(&replies).contains("Done! This group is now Fathers' online group (English). ")
            && joined(&replies).contains("Next discussion prompt: Wed 13.3.2024 at 20:00."),
        "{}",
        joined(&replies)
    );
    let john = FakeUser::new(7501, "John", Some("en"));
    bot.send(&john, "/start").await;
    bot.press(&john, "Father").await;
    bot.send(&john, "John").await;
    bot.press(&john, "Oulu").await;
    bot.press(&john, "Peer group").await;
    bot.press(&john, "I agree").await;
    let replies = bot.press(&john, "No, thank you").await;
    assert!(
        joined(&replies).contains("Your peer group is Fathers' online group (English)."),
        "the Oulu group speaks Finnish, so he gets the fallback group: {}",
        joined(&replies)
    );
    assert!(labels(&replies).contains(&"Join your group".to_string()));
    let arrivals = bot.advance_to(utc(2024, 3, 14, 0, 0)).await;
    let posted = arrivals_in(&arrivals, online.id);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].0, utc(2024, 3, 13, 18, 0));
    assert!(
        posted[0].1.starts_with(
            "💬 This week's discussion prompt\n\nWhat has been good about being a father lately?"
        ),
        "{}",
        posted[0].1
    );
}

/// A Finnish-speaking father who lives elsewhere (or wants to meet online) gets the Finnish online group, an
/// English-speaking one the English online group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fathers_elsewhere_get_the_online_group_of_their_language() {
    let bot = start().await;
    let pekka = FakeUser::new(7601, "Pekka", Some("fi"));
    bot.send(&pekka, "/start").await;
    bot.press(&pekka, "Isä").await;
    bot.send(&pekka, "Pekka").await;
    bot.press(&pekka, "Muualla / verkossa").await;
    bot.press(&pekka, "Vertaisryhmä").await;
    bot.press(&pekka, "Hyväksyn").await;
    let replies = bot.press(&pekka, "Ei, kiitos").await;
    assert!(
        joined(&replies).contains("Vertaisryhmäsi on Isien verkkoryhmä."),
        "{}",
        joined(&replies)
    );
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM participants WHERE group_id = 'online-fathers-fi' AND telegram_user_id = ?", pekka.id).await,
        1
    );
    let john = FakeUser::new(7602, "John", Some("en"));
    bot.send(&john, "/start").await;
    bot.press(&john, "Father").await;
    bot.send(&john, "John").await;
    bot.press(&john, "Elsewhere / online").await;
    bot.press(&john, "Peer group").await;
    bot.press(&john, "I agree").await;
    let replies = bot.press(&john, "No, thank you").await;
    assert!(
        joined(&replies).contains("Your peer group is Fathers' online group (English)."),
        "{}",
        joined(&replies)
    );
}
