//! Authorisation, table-driven: every command the bot handles is in exactly one access list, anyone outside
//! a command's list is refused (and nothing changes), and so is every button kind reserved for coordinators.
//! A new command or button kind without a rule makes these tests fail.
use crate::harness::{TestBot, joined};
use milava_bot::domain::CallbackData;
use milava_bot::domain::commands::{Command, Where, Who};
use testkit::story::register_father;

fn facilitator_commands() -> Vec<&'static str> {
    Command::names_for(Who::Facilitators, Where::Group)
}

fn coordinator_commands() -> Vec<&'static str> {
    Command::names_for(Who::Coordinators, Where::Private)
}

const COORDINATOR: &str = "900";
const REFUSED: &str = "Tämä komento on vain hankkeen koordinaattoreille.";

/// Walks `Command::ALL`: every command answered in private chats is handled there (a coordinator gets past
/// every access check and never hears "unknown command"), and a facilitator's command sent privately points
/// to the group. The access rules themselves are an exhaustive match (`Command::access`), so a new command
/// cannot compile without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_handled_where_its_access_rule_says() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", COORDINATOR)]).await;
    let venla = fake_telegram::FakeUser::new(900, "Venla", Some("fi"));
    let content = bot.ctx().content.get();
    let unknown = |command: &str| {
        content.fill(
            milava_bot::domain::Lang::Fi,
            "problem.unknown_command",
            &[("command", command)],
        )
    };
    let use_in_group = content
        .text(milava_bot::domain::Lang::Fi, "groups.use_in_group")
        .to_string();
    for &command in Command::ALL {
        let typed = format!("/{}", command.name());
        let replies = joined(&bot.send(&venla, &typed).await);
        assert!(
            !replies.contains(&unknown(&typed)),
            "{typed} is not handled: {replies}"
        );
        let access = command.access();
        if access.who == Who::Facilitators {
            assert!(replies.starts_with(&use_in_group), "{typed}: {replies}");
        } else {
            assert!(!replies.contains(&use_in_group), "{typed}: {replies}");
        }
        assert!(
            access.answered_in.private() || access.answered_in.group(),
            "{typed}"
        );
        // Leave any dialogue the command opened, so the next one starts clean.
        bot.send(&venla, "/cancel").await;
    }
    let replies = joined(&bot.send(&venla, "/nonsense").await);
    assert!(replies.contains(&unknown("/nonsense")), "{replies}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_facilitators_and_coordinators_may_use_facilitator_commands_in_a_group() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", COORDINATOR)]).await;
    testkit::story::groups::link_oulu(&bot).await;
    let group = testkit::story::groups::oulu_group();
    let member = fake_telegram::FakeUser::new(7103, "Jussi", Some("fi"));
    let refused = "Tämä komento on vain ryhmän ohjaajille.";
    let prompts_before = testkit::story::groups::prompts_recorded(&bot).await;
    for name in facilitator_commands() {
        let command = match name {
            "linkgroup" => "/linkgroup isat-oulu".to_string(),
            other => format!("/{other}"),
        };
        let replies = testkit::story::groups::in_group(&bot, &group, &member, &command).await;
        assert_eq!(joined(&replies), refused, "{command}");
    }
    assert_eq!(
        testkit::story::groups::prompts_recorded(&bot).await,
        prompts_before
    );
    // A coordinator gets past the check for each of them.
    let venla = testkit::story::groups::coordinator();
    for name in facilitator_commands()
        .into_iter()
        .filter(|n| *n != "linkgroup")
    {
        let replies =
            testkit::story::groups::in_group(&bot, &group, &venla, &format!("/{name}")).await;
        assert_ne!(joined(&replies), refused, "/{name}");
    }
}

/// Rows that a refused command must not have created.
async fn footprint(bot: &TestBot) -> (i64, i64, i64) {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&bot.db)
            .await
            .unwrap()
    };
    (
        // A refused `/admin` is written to the audit log on purpose (tests/bot/console.rs).
        count("SELECT COUNT(*) FROM audit_log WHERE action <> 'console_refused'").await,
        count("SELECT COUNT(*) FROM broadcasts").await,
        count("SELECT COUNT(*) FROM deliveries").await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_but_coordinators_is_refused_every_coordinator_command() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", COORDINATOR)]).await;
    let pekka = register_father(&bot, 7101, "Pekka").await;
    let before = footprint(&bot).await;
    for name in coordinator_commands() {
        for command in [format!("/{name}"), format!("/{name} oulu-2024 1")] {
            let replies = bot.send(&pekka, &command).await;
            assert!(
                joined(&replies).starts_with(REFUSED),
                "{command}: {}",
                joined(&replies)
            );
            assert!(
                replies
                    .iter()
                    .all(|m| m.document.is_none() && m.inline_buttons().is_empty()),
                "{command} gave away something: {replies:?}"
            );
        }
    }
    assert_eq!(footprint(&bot).await, before, "nothing changed");

    // A coordinator gets past the check for every one of them.
    let venla = fake_telegram::FakeUser::new(900, "Venla", Some("fi"));
    for name in coordinator_commands() {
        let replies = bot.send(&venla, &format!("/{name}")).await;
        assert!(
            !joined(&replies).contains(REFUSED),
            "/{name} refused a coordinator"
        );
        // Leave any dialogue the command opened, so the next one starts clean.
        bot.send(&venla, "/cancel").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_buttons_pressed_by_anyone_else_are_refused() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", COORDINATOR)]).await;
    let pekka = register_father(&bot, 7102, "Pekka").await;
    let message = bot
        .fake
        .sent_to(pekka.id)
        .last()
        .expect("a message to press on")
        .message_id;
    // One example of every kind of callback data; `coordinators_only` decides which must be refused.
    use milava_bot::domain::Lang;
    use milava_bot::domain::callback::{BroadcastAction, ReminderChoice, SurveyAction};
    let session = || "oulu-1".to_string();
    let series = || "oulu-2024".to_string();
    let examples = [
        CallbackData::Answer {
            step: "role".into(),
            value: "father".into(),
        },
        CallbackData::SetLanguage(Lang::Fi),
        CallbackData::Edit {
            step: "name".into(),
        },
        CallbackData::Forget { confirm: false },
        CallbackData::Calendar { session: session() },
        CallbackData::CalendarAll { series: series() },
        CallbackData::CheckIn { session: session() },
        CallbackData::Leave {
            series: series(),
            confirm: false,
        },
        CallbackData::Offer {
            series: series(),
            accept: false,
        },
        CallbackData::Reminders(ReminderChoice::On),
        CallbackData::Announcements(true),
        CallbackData::Attendance {
            session: session(),
            user: 7102,
        },
        CallbackData::AttendanceCsv { session: session() },
        CallbackData::AttendanceSeries { series: series() },
        CallbackData::AttendanceList { session: session() },
        CallbackData::Broadcast(BroadcastAction::Audience("all".into())),
        CallbackData::Broadcast(BroadcastAction::Menu("series".into())),
        CallbackData::Broadcast(BroadcastAction::SendNow(1)),
        CallbackData::Broadcast(BroadcastAction::Schedule(1)),
        CallbackData::Broadcast(BroadcastAction::Cancel(1)),
        CallbackData::Coaching(milava_bot::domain::callback::CoachingAction::Change),
        CallbackData::Journal(0),
        CallbackData::Survey(SurveyAction::Start(1)),
        CallbackData::Survey(SurveyAction::Submit(1)),
        CallbackData::Survey(SurveyAction::Pick("series-end".into())),
        CallbackData::Survey(SurveyAction::Audience {
            survey: "series-end".into(),
            audience: "all".into(),
        }),
        CallbackData::Survey(SurveyAction::Send {
            survey: "series-end".into(),
            audience: "all".into(),
        }),
        CallbackData::Survey(SurveyAction::Results {
            survey: "series-end".into(),
            scope: None,
        }),
        CallbackData::Survey(SurveyAction::Export("series-end".into())),
    ];
    let mut refused = 0;
    for decoded in examples {
        let data = decoded.encode();
        let before = footprint(&bot).await;
        bot.press_data(&pekka, message, &data).await;
        let answers = bot.fake.requests_to("answerCallbackQuery");
        let toast = answers.last().and_then(|a| a.param_str("text"));
        if decoded.coordinators_only() {
            refused += 1;
            assert_eq!(toast, Some(REFUSED), "{data}");
            assert_eq!(footprint(&bot).await, before, "{data} changed something");
        } else {
            assert_ne!(toast, Some(REFUSED), "{data} is anyone's button");
        }
    }
    assert_eq!(
        refused, 14,
        "attendance, its CSV, its series and session pickers, the five broadcast steps and the five survey menus"
    );
}
