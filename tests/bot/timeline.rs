//! The programme lives in time: registration windows, no promises to waitlisted people, rejoining a series
//! after leaving it, and coordinators who need not register.
use crate::harness::check;
use crate::harness::{TestBot, joined, labels};
use fake_telegram::FakeUser;
use milava_bot::domain::Lang;
use testkit::content::{ContentCopy, text};
use testkit::story::waitlist::status;
use testkit::story::{register, utc};

/// A professional answers everything up to the series question (Finnish or English, by `lang`).
async fn answer_up_to_series(bot: &TestBot, user: &FakeUser, lang: Lang) -> String {
    let (pro, field) = match lang {
        Lang::Fi => ("Ammattilainen", "Hoitoala"),
        Lang::En => ("Professional", "Health care"),
    };
    bot.send(user, "/start").await;
    bot.press(user, pro).await;
    bot.send(user, "Aino Aalto").await;
    bot.send(user, "Oulun kaupunki").await;
    bot.press(user, field).await;
    joined(&bot.send(user, "aino@example.fi").await)
}

async fn enrolments(bot: &TestBot, user: &FakeUser) -> i64 {
    bot.count(
        "SELECT COUNT(*) FROM enrolments WHERE telegram_user_id = ?",
        user.id,
    )
    .await
}

/// On today's clock (7.12.2026) the spring-2024 series are long over and past their retention date: they are
/// not offered, a deep link to one says it is closed, a professional can still register and is told plainly
/// that no series is open, nobody is promised reminders, and the retention purge leaves them alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_todays_clock_no_series_is_offered_and_professionals_still_register() {
    let bot = TestBot::start().await;
    bot.advance_to(utc("2026-12-07 07:00")).await;

    let aino = FakeUser::new(9701, "Aino", Some("fi"));
    let asked = answer_up_to_series(&bot, &aino, Lang::Fi).await;
    assert!(
        asked.contains(&text(Lang::Fi, "timeline.no_series_open", &[])),
        "{asked}"
    );
    assert!(!asked.contains("kevät 2024"), "{asked}");
    bot.press(&aino, "Jatka ilman sarjaa").await;
    bot.press(&aino, "Hyväksyn").await;
    let done = joined(&bot.press(&aino, "Ei, kiitos").await);
    assert_eq!(
        done,
        text(
            Lang::Fi,
            "timeline.done_no_series",
            &[("name", "Aino Aalto")]
        )
    );
    assert!(!done.contains("muistutu"), "{done}");
    assert_eq!(enrolments(&bot, &aino).await, 0);
    // Registered without a series, she is not told to register again.
    for command in ["/next", "/schedule"] {
        assert_eq!(
            joined(&bot.send(&aino, command).await),
            text(Lang::Fi, "timeline.not_enrolled_none_open", &[]),
            "{command}"
        );
    }

    // A deep link in English to a series that is over.
    let john = FakeUser::new(9702, "John", Some("en"));
    let said = joined(&bot.send(&john, "/start oulu-kevat24").await);
    assert!(
        said.contains(&text(
            Lang::En,
            "timeline.series_closed",
            &[("series", "Oulu, spring 2024")]
        )),
        "{said}"
    );
    assert!(!said.contains("You are registering for"), "{said}");
    bot.send(&john, "John Smith").await;
    bot.send(&john, "City of Oulu").await;
    bot.press(&john, "Health care").await;
    let asked_messages = bot.send(&john, "john@example.fi").await;
    let question = asked_messages
        .last()
        .expect("the series question")
        .message_id;
    let asked = joined(&asked_messages);
    assert!(
        asked.contains(&text(Lang::En, "timeline.no_series_open", &[])),
        "{asked}"
    );
    // A series button from an old message is not accepted.
    let replies = bot
        .press_data(&john, question, "1|a|pro_series|oulu-2024")
        .await;
    assert!(
        joined(&replies).contains(&text(Lang::En, "timeline.no_series_open", &[])),
        "{}",
        joined(&replies)
    );
    bot.press(&john, "Continue without a series").await;
    bot.press(&john, "I agree").await;
    let done = joined(&bot.press(&john, "No, thank you").await);
    assert!(done.contains("No workshop series is open"), "{done}");
    assert!(!done.contains("reminder"), "{done}");
    assert_eq!(enrolments(&bot, &john).await, 0);

    // /profile offers no series to choose; a day later both are still registered.
    let profile = bot.send(&john, "/profile").await;
    assert!(
        !labels(&profile)
            .iter()
            .any(|l| l.contains("Workshop series")),
        "{:?}",
        labels(&profile)
    );
    bot.advance_to(utc("2026-12-08 07:00")).await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?",
            aino.id
        )
        .await
            + bot
                .count(
                    "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?",
                    john.id
                )
                .await,
        2
    );
}

/// Content sets a window: a series whose registration has not opened is not offered (a deep link says when it
/// opens and the series question offers the open ones); `check` refuses a window that closes before it opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_registration_window_comes_from_content() {
    let content = ContentCopy::new();
    content.edit_programme(
        "code = \"oulu-kevat24\"\n",
        "code = \"oulu-kevat24\"\nregistration_opens = 2024-03-13T09:00:00\n",
    );
    let bot = TestBot::start_with(&[("DIALOGUES_DIR", content.path().as_str())]).await;
    let aino = FakeUser::new(9711, "Aino", Some("fi"));
    let said = joined(&bot.send(&aino, "/start oulu-kevat24").await);
    assert!(
        said.contains(&text(
            Lang::Fi,
            "timeline.series_not_open_yet",
            &[
                ("series", "Oulu, kevät 2024"),
                ("date", "13.3.2024 klo 9.00")
            ]
        )),
        "{said}"
    );
    bot.send(&aino, "Aino Aalto").await;
    bot.send(&aino, "Oulun kaupunki").await;
    bot.press(&aino, "Hoitoala").await;
    let asked = bot.send(&aino, "aino@example.fi").await;
    assert_eq!(labels(&asked), ["Rovaniemi, kevät 2024"]);

    // Registration closes when the first session starts: at 8.00 on 13.3. Rovaniemi is no longer offered
    // (and Oulu opens at 9.00).
    bot.advance_to(utc("2024-03-13 06:30")).await;
    let ben = FakeUser::new(9712, "Ben", Some("en"));
    let said = joined(&bot.send(&ben, "/start rovaniemi-kevat24").await);
    assert!(
        said.contains("Registration for the workshop series Rovaniemi, spring 2024 has closed."),
        "{said}"
    );
    bot.advance_to(utc("2024-03-13 07:00")).await;
    bot.send(&ben, "Ben Smith").await;
    bot.send(&ben, "City of Oulu").await;
    bot.press(&ben, "Health care").await;
    let asked = bot.send(&ben, "ben@example.fi").await;
    assert_eq!(labels(&asked), ["Oulu, spring 2024"]);

    let bad = ContentCopy::new();
    bad.edit_programme(
        "code = \"oulu-kevat24\"\n",
        "code = \"oulu-kevat24\"\nregistration_opens = 2024-03-01T09:00:00\nregistration_closes = 2024-02-01T09:00:00\n",
    );
    let (ok, out) = check(std::path::Path::new(&bad.path()));
    assert!(!ok, "{out}");
    assert!(
        out.contains("programme.toml: series oulu-2024.registration_opens: must be before registration closes"),
        "{out}"
    );
    let late = ContentCopy::new();
    late.edit_programme(
        "code = \"oulu-kevat24\"\n",
        "code = \"oulu-kevat24\"\nregistration_closes = 2025-01-01T00:00:00\n",
    );
    let (ok, out) = check(std::path::Path::new(&late.path()));
    assert!(!ok, "{out}");
    assert!(
        out.contains("programme.toml: series oulu-2024.registration_closes: is after the series' last session ends"),
        "{out}"
    );
}

/// Someone on the waitlist is not promised reminders, and `/next` and `/schedule` say they are waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waitlisted_people_are_told_what_is_true() {
    let content = ContentCopy::new();
    content.edit_programme("area = \"oulu\"\n", "area = \"oulu\"\ncapacity = 1\n");
    let bot = TestBot::start_with(&[("DIALOGUES_DIR", content.path().as_str())]).await;
    let (_aino, said) = register(&bot, 9721, "Aino Aalto", "fi", "oulu-kevat24").await;
    assert!(
        said.contains("Saat muistutuksen ennen jokaista tapaamista"),
        "{said}"
    );

    let (bea, said) = register(&bot, 9722, "Bea Berg", "fi", "oulu-kevat24").await;
    assert!(!said.contains("muistutu"), "{said}");
    assert!(said.contains("olet jonossa sijalla 1"), "{said}");
    let note = text(
        Lang::Fi,
        "timeline.waitlist_note",
        &[("series", "Oulu, kevät 2024"), ("position", "1")],
    );
    let next = joined(&bot.send(&bea, "/next").await);
    assert!(next.contains(&note), "{next}");
    let schedule = joined(&bot.send(&bea, "/schedule").await);
    assert!(schedule.contains(&note), "{schedule}");

    let (cid, said) = register(&bot, 9723, "Cid Carter", "en", "oulu-kevat24").await;
    assert!(!said.contains("reminder"), "{said}");
    let note = text(
        Lang::En,
        "timeline.waitlist_note",
        &[("series", "Oulu, spring 2024"), ("position", "2")],
    );
    let next = joined(&bot.send(&cid, "/next").await);
    assert!(next.contains(&note), "{next}");
    let schedule = joined(&bot.send(&cid, "/schedule").await);
    assert!(schedule.contains(&note), "{schedule}");
}

async fn leave(bot: &TestBot, user: &FakeUser, yes: &str) {
    bot.send(user, "/leave").await;
    let replies = bot.press(user, yes).await;
    assert!(
        joined(&replies).contains("workshop series") || joined(&replies).contains("on peruttu"),
        "{}",
        joined(&replies)
    );
}

/// A professional who left can rejoin from `/profile`, `/start <code>` and `/schedule`; the series they left
/// is not shown as theirs meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_professional_who_left_can_rejoin_from_profile_start_and_schedule() {
    let bot = TestBot::start().await;
    let (anna, _) = register(&bot, 9731, "Anna Aho", "fi", "oulu-kevat24").await;
    leave(&bot, &anna, "Kyllä, peru").await;
    assert_eq!(status(&bot, &anna).await, "left");
    let profile = joined(&bot.send(&anna, "/profile").await);
    assert!(!profile.contains("Työpajasarja: Oulu"), "{profile}");
    let mydata = joined(&bot.send(&anna, "/mydata").await);
    assert!(!mydata.contains("Oulu, kevät 2024"), "{mydata}");

    // From /profile.
    bot.send(&anna, "/profile").await;
    bot.press(&anna, "✏️ Työpajasarja").await;
    let replies = bot.press(&anna, "Oulu, kevät 2024").await;
    assert!(
        joined(&replies).contains("Sinulla on paikka työpajasarjassa Oulu, kevät 2024."),
        "{}",
        joined(&replies)
    );
    assert_eq!(status(&bot, &anna).await, "enrolled");
    let next = joined(&bot.send(&anna, "/next").await);
    assert!(next.contains("Seuraava tapaaminen"), "{next}");

    // From /start <code>.
    leave(&bot, &anna, "Kyllä, peru").await;
    let replies = joined(&bot.send(&anna, "/start oulu-kevat24").await);
    assert!(
        replies.contains("Sinulla on paikka työpajasarjassa Oulu, kevät 2024."),
        "{replies}"
    );
    assert_eq!(status(&bot, &anna).await, "enrolled");

    // From /schedule, in English.
    leave(&bot, &anna, "Kyllä, peru").await;
    bot.send(&anna, "/language").await;
    bot.press(&anna, "English").await;
    let schedule = bot.send(&anna, "/schedule").await;
    assert!(
        joined(&schedule).contains(&text(Lang::En, "timeline.not_enrolled_join", &[])),
        "{}",
        joined(&schedule)
    );
    bot.press(&anna, "Choose a series").await;
    let replies = bot.press(&anna, "Oulu, spring 2024").await;
    assert!(
        joined(&replies).contains("You have a place in the workshop series Oulu, spring 2024."),
        "{}",
        joined(&replies)
    );
    assert_eq!(status(&bot, &anna).await, "enrolled");
    let profile = joined(&bot.send(&anna, "/profile").await);
    assert!(
        profile.contains("Workshop series: Oulu, spring 2024"),
        "{profile}"
    );
}

/// A coordinator who has not registered is not pulled into registration by a stray text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_is_not_pulled_into_registration() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900,901")]).await;
    for (id, lang, help) in [
        (900, "fi", "Koordinaattorin komennot"),
        (901, "en", "Coordinator commands"),
    ] {
        let coordinator = FakeUser::new(id, "Venla", Some(lang));
        let replies = joined(&bot.send(&coordinator, "hei").await);
        assert!(replies.contains(help), "{replies}");
        assert!(
            !replies.contains("Kuka olet?") && !replies.contains("Who are you?"),
            "{replies}"
        );
        assert_eq!(bot.stored_step(&coordinator).await, None);
        let stats = joined(&bot.send(&coordinator, "/stats").await);
        assert!(
            stats.contains("Ilmoittautuminen kesken: 0")
                || stats.contains("Registration in progress: 0"),
            "{stats}"
        );
    }
}

/// The menus set for `user`'s own chat so far, as (command names, first description).
fn chat_menus(bot: &TestBot, user: &FakeUser) -> Vec<(Vec<String>, String)> {
    bot.fake
        .commands_set()
        .iter()
        .filter(|s| s["scope"]["type"] == "chat" && s["scope"]["chat_id"] == user.id)
        .map(|s| {
            let commands = s["commands"].as_array().unwrap();
            (
                commands
                    .iter()
                    .map(|c| c["command"].as_str().unwrap().to_string())
                    .collect(),
                commands[0]["description"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn wait_for_menus(bot: &TestBot, user: &FakeUser, n: usize) -> Vec<(Vec<String>, String)> {
    let id = user.id;
    bot.fake
        .wait_until("a chat menu", crate::harness::STEP_TIMEOUT, |f| {
            f.commands_set()
                .iter()
                .filter(|s| s["scope"]["type"] == "chat" && s["scope"]["chat_id"] == id)
                .count()
                >= n
        })
        .await;
    chat_menus(bot, user)
}

/// After registering, each person's chat gets the menu of their role in their language; `/language` changes
/// it; `/help` lists the role's commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_gets_its_own_menu_and_help() {
    use milava_bot::domain::Role;
    use milava_bot::domain::commands::menu_for;
    let names =
        |role| -> Vec<String> { menu_for(Some(role)).iter().map(|s| s.to_string()).collect() };
    let bot = TestBot::start().await;
    let father = testkit::story::register_father(&bot, 9741, "Kalle").await;
    let menus = wait_for_menus(&bot, &father, 1).await;
    assert_eq!(menus[0].0, names(Role::Father));
    assert_eq!(menus[0].1, text(Lang::Fi, "commands.start", &[]));
    let help = joined(&bot.send(&father, "/help").await);
    assert!(
        help.contains("/coaching") && help.contains("/group"),
        "{help}"
    );
    assert!(
        !help.contains("/leave") && !help.contains("/certificate"),
        "{help}"
    );

    bot.send(&father, "/language").await;
    bot.press(&father, "English").await;
    let menus = wait_for_menus(&bot, &father, 2).await;
    assert_eq!(menus[1].0, names(Role::Father));
    assert_eq!(menus[1].1, text(Lang::En, "commands.start", &[]));

    let (pro, _) = register(&bot, 9742, "Pia Pro", "en", "oulu-kevat24").await;
    let menus = wait_for_menus(&bot, &pro, 1).await;
    assert_eq!(menus[0].0, names(Role::Professional));
    assert_eq!(menus[0].1, text(Lang::En, "commands.start", &[]));
    let help = joined(&bot.send(&pro, "/help").await);
    assert!(
        help.contains("/leave") && help.contains("/certificate"),
        "{help}"
    );
    assert!(
        !help.contains("/coaching") && !help.contains("/group") && !help.contains("/journal"),
        "{help}"
    );
}
