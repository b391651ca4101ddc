//! Reminders, check-in prompts, change notices and certificates through the scheduler, the outbox and the fake
//! Bot API, with the manual clock stepped through the real spring-2024 series (Finland went to summer time on
//! 31.3.2024, between the kick-offs and most follow-ups).
use crate::harness::{Arrival, TestBot, joined};
use chrono::{DateTime, Utc};
use fake_telegram::{FakeUser, SentMessage};
use milava_bot::clock::Clock;
use milava_bot::domain::Lang;
use milava_bot::domain::outbox::{OutboxKey, Status};
use milava_bot::services::Ctx;
use pretty_assertions::assert_eq;
use std::sync::Arc;
use testkit::content::{ContentCopy, text};
use testkit::story::{COORDINATOR, SPEEDUP, enrol, utc};

/// The check-in prompt of a session.
pub fn prompt(lang: Lang, title: &str) -> String {
    text(lang, "checkin.prompt", &[("title", title)])
}

/// A session as a reminder describes it.
fn described(lang: Lang, title: &str, theme: &str, when: &str, place: Option<&str>) -> String {
    let place = match place {
        Some(place) => text(lang, "programme.place", &[("place", place)]),
        None => text(lang, "programme.online_no_link", &[]),
    };
    text(
        lang,
        "programme.session",
        &[
            ("title", title),
            ("theme", theme),
            ("when", when),
            ("where", &place),
        ],
    )
}

/// A coordinator moves a session (local times like 2024-03-20T09:00:00), as the console's form does.
async fn move_session(bot: &TestBot, id: &str, start: &str, end: &str) {
    let ctx = bot.ctx();
    let (_, session) = ctx
        .content
        .get()
        .session(id)
        .map(|(a, b)| (a.clone(), b.clone()))
        .expect("session");
    let at = |t: &str| {
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").expect("a local time")
    };
    let moved = milava_bot::domain::programme::Session {
        start: at(start),
        end: at(end),
        ..session
    };
    milava_bot::services::season::apply(
        &ctx,
        COORDINATOR,
        milava_bot::domain::season::ProgrammeChange::EditSession(moved),
    )
    .await
    .expect("move saved");
}

/// What one chat received, as (clock time, text).
fn received(arrivals: &[Arrival], chat: i64) -> Vec<(DateTime<Utc>, String)> {
    arrivals
        .iter()
        .filter(|a| a.message.chat_id == chat)
        .map(|a| (a.at, a.message.text.clone().unwrap_or_default()))
        .collect()
}

fn buttons(message: &SentMessage) -> Vec<(String, String)> {
    message.inline_buttons().into_iter().flatten().collect()
}

/// Outbox rows of the session planner (reminders and check-ins) as (key, status).
async fn session_rows(bot: &TestBot) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT idempotency_key, status FROM deliveries WHERE idempotency_key LIKE 'session:%' ORDER BY id",
    )
    .fetch_all(&bot.db)
    .await
    .expect("outbox readable")
}

async fn status_of(bot: &TestBot, key: &str) -> Status {
    milava_bot::db::outbox::by_key(&bot.db, &OutboxKey::decode(key).expect("a key"))
        .await
        .expect("outbox readable")
        .unwrap_or_else(|| panic!("no delivery {key}"))
        .status
}

/// One session as a participant is told about it.
struct Expected {
    session: &'static str,
    title: &'static str,
    when: &'static str,
    day_before: &'static str,
    hour_before: &'static str,
    check_in: &'static str,
}

/// One expected message: (UTC time, the text's start, its buttons).
type ExpectedMessage = (DateTime<Utc>, String, Vec<(String, String)>);

/// What a participant gets for every session, in order.
fn walk_messages(lang: Lang, sessions: &[Expected]) -> Vec<ExpectedMessage> {
    let eight = match lang {
        Lang::Fi => "8.00",
        Lang::En => "8:00",
    };
    let tomorrow = text(lang, "reminders.day_before", &[("session", "")]);
    let starts = text(
        lang,
        "reminders.before",
        &[("start", eight), ("session", "")],
    );
    let calendar = text(lang, "button.programme.add_to_calendar", &[]);
    let here = text(lang, "button.programme.check_in", &[]);
    let mut out = Vec::new();
    for s in sessions {
        let calendar = vec![(calendar.to_string(), format!("1|c|{}", s.session))];
        out.push((
            utc(s.day_before),
            format!("{tomorrow}{} – ", s.title),
            calendar.clone(),
        ));
        out.push((
            utc(s.hour_before),
            format!("{starts}{} – ", s.title),
            calendar,
        ));
        out.push((
            utc(s.check_in),
            prompt(lang, s.title),
            vec![(here.to_string(), format!("1|ci|{}", s.session))],
        ));
    }
    out
}

fn check_walk(arrivals: &[Arrival], chat: i64, lang: Lang, sessions: &[Expected]) {
    // Feedback surveys after the sessions are tested in surveys.rs.
    let got: Vec<&Arrival> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == chat && !testkit::story::surveys::is_survey(&a.message))
        .collect();
    let expected = walk_messages(lang, sessions);
    let got_times: Vec<DateTime<Utc>> = got.iter().map(|a| a.at).collect();
    let expected_times: Vec<DateTime<Utc>> = expected.iter().map(|e| e.0).collect();
    assert_eq!(
        got_times,
        expected_times,
        "chat {chat}: {:#?}",
        received(arrivals, chat)
    );
    for (arrival, (at, start, buttons_expected)) in got.iter().zip(&expected) {
        let text = arrival.message.text.clone().unwrap_or_default();
        assert!(
            text.starts_with(start),
            "at {at}: {text:?} should start with {start:?}"
        );
        assert_eq!(
            &buttons(&arrival.message),
            buttons_expected,
            "at {at}: {text}"
        );
    }
    // Reminders name the session's local time: the same 8.00 before and after the change to summer time.
    for (i, s) in sessions.iter().enumerate() {
        for reminder in &got[3 * i..3 * i + 2] {
            let text = reminder.message.text.clone().unwrap_or_default();
            assert!(
                text.contains(s.when),
                "{text:?} should contain {:?}",
                s.when
            );
        }
    }
}

const OULU: [Expected; 5] = [
    Expected {
        session: "oulu-2024-1",
        title: "Aloitustapaaminen",
        when: "ti 19.3.2024 klo 8.00–12.00",
        // Winter time (UTC+2): 16.00 the day before is 14.00 UTC, 7.00 is 5.00 UTC.
        day_before: "2024-03-18 14:00",
        hour_before: "2024-03-19 05:00",
        check_in: "2024-03-19 05:45",
    },
    Expected {
        session: "oulu-2024-2",
        title: "Verkkotapaaminen 1",
        when: "ke 3.4.2024 klo 8.00–12.00",
        // Summer time (UTC+3) from 31.3.
        day_before: "2024-04-02 13:00",
        hour_before: "2024-04-03 04:00",
        check_in: "2024-04-03 04:45",
    },
    Expected {
        session: "oulu-2024-3",
        title: "Verkkotapaaminen 2",
        when: "ti 9.4.2024 klo 8.00–12.00",
        day_before: "2024-04-08 13:00",
        hour_before: "2024-04-09 04:00",
        check_in: "2024-04-09 04:45",
    },
    Expected {
        session: "oulu-2024-4",
        title: "Verkkotapaaminen 3",
        when: "ti 23.4.2024 klo 8.00–12.00",
        day_before: "2024-04-22 13:00",
        hour_before: "2024-04-23 04:00",
        check_in: "2024-04-23 04:45",
    },
    Expected {
        session: "oulu-2024-5",
        title: "Päätöstapaaminen",
        when: "ti 14.5.2024 klo 8.00–12.00",
        day_before: "2024-05-13 13:00",
        hour_before: "2024-05-14 04:00",
        check_in: "2024-05-14 04:45",
    },
];

const ROVANIEMI: [Expected; 5] = [
    Expected {
        session: "rovaniemi-2024-1",
        title: "Kick-off meeting",
        when: "Wed 13.3.2024, 8:00–12:00",
        day_before: "2024-03-12 14:00",
        hour_before: "2024-03-13 05:00",
        check_in: "2024-03-13 05:45",
    },
    Expected {
        session: "rovaniemi-2024-2",
        title: "Online meeting 1",
        when: "Wed 27.3.2024, 8:00–12:00",
        // Still winter time: the change is on Sunday 31.3.
        day_before: "2024-03-26 14:00",
        hour_before: "2024-03-27 05:00",
        check_in: "2024-03-27 05:45",
    },
    Expected {
        session: "rovaniemi-2024-3",
        title: "Online meeting 2",
        when: "Thu 11.4.2024, 8:00–12:00",
        day_before: "2024-04-10 13:00",
        hour_before: "2024-04-11 04:00",
        check_in: "2024-04-11 04:45",
    },
    Expected {
        session: "rovaniemi-2024-4",
        title: "Online meeting 3",
        when: "Wed 24.4.2024, 8:00–12:00",
        day_before: "2024-04-23 13:00",
        hour_before: "2024-04-24 04:00",
        check_in: "2024-04-24 04:45",
    },
    Expected {
        session: "rovaniemi-2024-5",
        title: "Closing meeting",
        when: "Wed 15.5.2024, 8:00–12:00",
        day_before: "2024-05-14 13:00",
        hour_before: "2024-05-15 04:00",
        check_in: "2024-05-15 04:45",
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_spring_series_get_every_reminder_and_prompt_at_its_exact_time_across_the_dst_change()
{
    let bot = TestBot::start_sped_up(&[], SPEEDUP).await;
    let anna = enrol(&bot, 9101, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9102, "Ben Berg", "en", "rovaniemi-kevat24").await;

    let arrivals = bot.advance_to(utc("2024-05-20 00:00")).await;
    check_walk(&arrivals, anna.id, Lang::Fi, &OULU);
    check_walk(&arrivals, ben.id, Lang::En, &ROVANIEMI);
    let anna_got = received(&arrivals, anna.id);
    let kick_off = described(
        Lang::Fi,
        "Aloitustapaaminen",
        "Isyyden voimavarat",
        "ti 19.3.2024 klo 8.00–12.00",
        Some("Oulu (paikka ilmoitetaan ennen tapaamista)"),
    );
    assert_eq!(
        anna_got[0].1,
        text(Lang::Fi, "reminders.day_before", &[("session", &kick_off)])
    );
    let ben_got = received(&arrivals, ben.id);
    let online = described(
        Lang::En,
        "Online meeting 2",
        "Strengthening parenthood",
        "Thu 11.4.2024, 8:00–12:00",
        None,
    );
    assert_eq!(
        ben_got[7].1,
        text(
            Lang::En,
            "reminders.before",
            &[("start", "8:00"), ("session", &online)]
        )
    );
    assert_eq!(
        arrivals
            .iter()
            .filter(|a| !testkit::story::surveys::is_survey(&a.message))
            .count(),
        30,
        "nothing else was sent (nobody attended, so no certificates; the series-end survey is tested in surveys.rs)"
    );

    // The calendar button of the first reminder after the change to summer time gives the session's file.
    let reminder = arrivals
        .iter()
        .find(|a| a.message.chat_id == ben.id && a.at == utc("2024-04-10 13:00"))
        .expect("the reminder of 11.4.")
        .message
        .clone();
    let replies = bot
        .press_data(&ben, reminder.message_id, "1|c|rovaniemi-2024-3")
        .await;
    let file = replies
        .iter()
        .find_map(|m| m.document.clone())
        .expect("an .ics file");
    assert_eq!(file.file_name, "milava-rovaniemi-2024-3.ics");
    let text = String::from_utf8(file.bytes).expect("UTF-8");
    let unfolded = icalendar::parser::unfold(&text);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("the file parses");
    let zone = calendar
        .components
        .iter()
        .find(|c| c.name.as_str() == "VTIMEZONE")
        .expect("a VTIMEZONE");
    assert_eq!(
        prop(zone, "TZID").map(|p| p.0),
        Some("Europe/Helsinki".into())
    );
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(
        prop(event, "DTSTART"),
        Some(("20240411T080000".into(), Some("Europe/Helsinki".into())))
    );
    assert_eq!(
        prop(event, "DTEND"),
        Some(("20240411T120000".into(), Some("Europe/Helsinki".into())))
    );
    assert_eq!(
        prop(event, "UID").map(|p| p.0),
        Some("rovaniemi-2024-3@milava-bot".into())
    );
    assert!(
        prop(event, "SUMMARY").is_some_and(|p| p.0.contains("Online meeting 2")),
        "{text}"
    );
}

/// A property's value and its TZID parameter.
fn prop(c: &icalendar::parser::Component<'_>, name: &str) -> Option<(String, Option<String>)> {
    let p = c.properties.iter().find(|p| p.name.as_str() == name)?;
    let tzid = p
        .params
        .iter()
        .find(|param| param.key.as_str() == "TZID")
        .and_then(|param| param.val.as_ref().map(|v| v.as_str().to_string()));
    Some((p.val.as_str().to_string(), tzid))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_crashes_between_planning_and_sending_duplicate_nothing() {
    let mut bot = TestBot::start_sped_up(&[], SPEEDUP).await;
    let anna = enrol(&bot, 9111, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9112, "Ben Berg", "en", "oulu-kevat24").await;
    bot.settle().await;
    assert!(
        session_rows(&bot).await.is_empty(),
        "nothing within 48 h yet"
    );

    // Plan with passes of our own while the bot is down: the first plans two reminders and a check-in for
    // each, the second nothing.
    bot.stop().await;
    bot.clock.set(utc("2024-03-17 15:00"));
    // A scheduler context on the test's own pool.
    let config = bot.config();
    let content = milava_bot::content::load(&config.dialogues_dir).expect("content loads");
    let ctx = Ctx::new(
        bot.store().clone(),
        content,
        Arc::new(bot.clock.clone()),
        config,
    );
    let first = milava_bot::scheduler::run::run_once(&ctx, bot.clock.now())
        .await
        .expect("a pass");
    assert_eq!((first.planned, first.withdrawn, first.notices), (6, 0, 0));
    let second = milava_bot::scheduler::run::run_once(&ctx, bot.clock.now())
        .await
        .expect("a pass");
    assert_eq!(
        (second.planned, second.withdrawn, second.notices),
        (0, 0, 0)
    );
    let planned = session_rows(&bot).await;
    assert_eq!(planned.len(), 6);

    // The bot's own pass after the start plans nothing new either.
    let since = bot.sent_count();
    bot.start_again().await;
    assert!(
        bot.advance_from(since, utc("2024-03-17 15:00"))
            .await
            .is_empty()
    );
    assert_eq!(session_rows(&bot).await, planned);

    let arrivals = bot.advance_to(utc("2024-03-18 15:00")).await;
    assert_eq!(arrivals.len(), 2, "the day-before reminders");
    let since = bot.sent_count();
    bot.restart().await;
    assert!(
        bot.advance_from(since, utc("2024-03-18 16:00"))
            .await
            .is_empty()
    );

    // Session 2 is planned (within 48 h of 1.4. 12.00 UTC), then the bot dies before sending it.
    bot.advance_to(utc("2024-04-01 12:00")).await;
    let keys: Vec<String> = session_rows(&bot)
        .await
        .into_iter()
        .filter(|(k, s)| k.contains("oulu-2024-2") && s == "pending")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    bot.crash_and_restart().await;
    bot.restart().await;
    bot.advance_to(utc("2024-04-03 10:00")).await;

    for (user, lang) in [(&anna, Lang::Fi), (&ben, Lang::En)] {
        let tomorrow = text(lang, "reminders.day_before", &[("session", "")]);
        let starts = text(lang, "reminders.before", &[("session", "")]);
        let starts = starts.split("{start}").next().unwrap_or_default();
        for (session, title) in [
            ("oulu-2024-1", ["Aloitustapaaminen", "Kick-off meeting"]),
            ("oulu-2024-2", ["Verkkotapaaminen 1", "Online meeting 1"]),
        ] {
            let title = title[usize::from(lang == Lang::En)];
            let sent = bot.fake.sent_to(user.id);
            let reminders = |header: &str| {
                sent.iter()
                    .filter(|m| {
                        let t = m.text.as_deref().unwrap_or("");
                        t.starts_with(header) && t.contains(&format!("{title} – "))
                    })
                    .count()
            };
            assert_eq!(reminders(&tomorrow), 1, "{user:?} {session}");
            assert_eq!(reminders(starts), 1, "{user:?} {session}");
            let prompts = sent
                .iter()
                .filter(|m| {
                    m.inline_buttons()
                        .concat()
                        .iter()
                        .any(|(_, data)| *data == format!("1|ci|{session}"))
                })
                .count();
            assert_eq!(prompts, 1, "{user:?} {session}");
        }
        let requests = bot
            .fake
            .requests_to("sendMessage")
            .iter()
            .filter(|r| r.chat_id() == Some(user.id))
            .count();
        let sent = bot.fake.sent_to(user.id).len();
        assert_eq!(requests, sent, "every request made one message");
    }
    let rows = session_rows(&bot).await;
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().all(|(_, s)| s == "sent"), "{rows:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_a_late_reminder_is_still_sent_but_not_after_the_session_began() {
    let mut bot = TestBot::start_sped_up(&[], SPEEDUP).await;
    let anna = enrol(&bot, 9121, "Anna Aho", "fi", "oulu-kevat24").await;
    assert!(bot.advance_to(utc("2024-03-17 15:00")).await.is_empty());
    assert_eq!(
        session_rows(&bot).await.len(),
        3,
        "planned before the downtime"
    );

    // Down over the day-before reminder's time (18.3. 14.00 UTC), back before the session.
    bot.stop().await;
    bot.clock.set(utc("2024-03-18 20:00"));
    let since = bot.sent_count();
    bot.start_again().await;
    let arrivals = bot.advance_from(since, utc("2024-03-18 20:00")).await;
    let got = received(&arrivals, anna.id);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, utc("2024-03-18 20:00"), "sent late, at once");
    assert!(
        got[0]
            .1
            .starts_with(&text(Lang::Fi, "reminders.day_before", &[("session", "")])),
        "{got:?}"
    );

    // Down over the one-hour reminder (5.00 UTC) and the session start (6.00 UTC), back while it is on.
    bot.stop().await;
    bot.clock.set(utc("2024-03-19 06:30"));
    let since = bot.sent_count();
    bot.start_again().await;
    let got = received(
        &bot.advance_from(since, utc("2024-03-19 06:30")).await,
        anna.id,
    );
    assert_eq!(
        got,
        vec![(
            utc("2024-03-19 06:30"),
            prompt(Lang::Fi, "Aloitustapaaminen")
        )],
        "the check-in prompt only"
    );
    let hour_before = format!(
        "session:oulu-2024:oulu-2024-1:{}:{}:reminder:60m",
        utc("2024-03-19 06:00").timestamp(),
        anna.id
    );
    assert_eq!(status_of(&bot, &hour_before).await, Status::Cancelled);

    // Down before session 2 was ever planned, back during it (3.4. 8.00–12.00 summer time = 5.00–9.00 UTC):
    // no reminder is planned at all, the prompt is.
    bot.stop().await;
    bot.clock.set(utc("2024-04-03 05:30"));
    let since = bot.sent_count();
    bot.start_again().await;
    let got = received(
        &bot.advance_from(since, utc("2024-04-03 05:30")).await,
        anna.id,
    );
    assert_eq!(
        got,
        vec![(
            utc("2024-04-03 05:30"),
            prompt(Lang::Fi, "Verkkotapaaminen 1")
        )]
    );
    let session_2: Vec<(String, String)> = session_rows(&bot)
        .await
        .into_iter()
        .filter(|(k, _)| k.contains("oulu-2024-2"))
        .collect();
    assert_eq!(session_2.len(), 1, "{session_2:?}");
    assert!(session_2[0].0.ends_with(":checkin"));

    // Down past the end of session 3 (9.4. 5.00–9.00 UTC): nothing about it comes afterwards.
    bot.stop().await;
    bot.clock.set(utc("2024-04-09 09:30"));
    let since = bot.sent_count();
    bot.start_again().await;
    assert!(
        bot.advance_from(since, utc("2024-04-09 12:00"))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_session_gets_one_notice_each_and_new_reminders_and_the_old_ones_are_withdrawn() {
    let content = ContentCopy::new();
    let mut bot =
        TestBot::start_sped_up(&[("DIALOGUES_DIR", content.path().as_str())], SPEEDUP).await;
    let anna = enrol(&bot, 9131, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9132, "Ben Berg", "en", "oulu-kevat24").await;
    bot.advance_to(utc("2024-03-17 15:00")).await;
    let old = session_rows(&bot).await;
    assert_eq!(old.len(), 6);

    // The kick-off moves from Tue 19.3. 8–12 to Wed 20.3. 9–13 (winter time: 7.00–11.00 UTC); the bot
    // restarts at once (whether or not it announced the change before, it does so once).
    let since = bot.sent_count();
    move_session(
        &bot,
        "oulu-2024-1",
        "2024-03-20T09:00:00",
        "2024-03-20T13:00:00",
    )
    .await;
    bot.restart().await;
    let arrivals = bot.advance_from(since, utc("2024-03-20 12:00")).await;
    let moved = described(
        Lang::Fi,
        "Aloitustapaaminen",
        "Isyyden voimavarat",
        "ke 20.3.2024 klo 9.00–13.00",
        Some("Oulu (paikka ilmoitetaan ennen tapaamista)"),
    );
    assert_eq!(
        received(&arrivals, anna.id),
        vec![
            (
                utc("2024-03-17 15:00"),
                text(
                    Lang::Fi,
                    "changes.moved",
                    &[
                        ("title", "Aloitustapaaminen"),
                        ("old", "ti 19.3.2024 klo 8.00–12.00"),
                        ("when", "ke 20.3.2024 klo 9.00–13.00")
                    ]
                )
            ),
            (
                utc("2024-03-19 14:00"),
                text(Lang::Fi, "reminders.day_before", &[("session", &moved)])
            ),
            (
                utc("2024-03-20 06:00"),
                text(
                    Lang::Fi,
                    "reminders.before",
                    &[("start", "9.00"), ("session", &moved)]
                )
            ),
            (
                utc("2024-03-20 06:45"),
                prompt(Lang::Fi, "Aloitustapaaminen")
            ),
        ]
    );
    let ben_got = received(&arrivals, ben.id);
    let ben_times: Vec<DateTime<Utc>> = ben_got.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        ben_times,
        [
            utc("2024-03-17 15:00"),
            utc("2024-03-19 14:00"),
            utc("2024-03-20 06:00"),
            utc("2024-03-20 06:45")
        ]
    );
    assert_eq!(
        ben_got[0].1,
        text(
            Lang::En,
            "changes.moved",
            &[
                ("title", "Kick-off meeting"),
                ("old", "Tue 19.3.2024, 8:00–12:00"),
                ("when", "Wed 20.3.2024, 9:00–13:00")
            ]
        )
    );
    // The notice names the old time and the new, and has the calendar button of the moved session.
    for (user, old_time, label) in [
        (
            anna.id,
            "Aiempi aika: ti 19.3.2024 klo 8.00–12.00\nUusi aika: ke 20.3.2024 klo 9.00–13.00",
            "📅 Lisää kalenteriin",
        ),
        (
            ben.id,
            "Previous time: Tue 19.3.2024, 8:00–12:00\nNew time: Wed 20.3.2024, 9:00–13:00",
            "📅 Add to calendar",
        ),
    ] {
        let notice = arrivals
            .iter()
            .find(|a| a.message.chat_id == user)
            .map(|a| a.message.clone())
            .unwrap();
        let shown = notice.text.clone().unwrap_or_default();
        assert!(shown.ends_with(old_time), "{shown}");
        assert_eq!(
            notice.button_data(label).as_deref(),
            Some("1|c|oulu-2024-1"),
            "{notice:?}"
        );
    }
    for (key, _) in &old {
        let row = milava_bot::db::outbox::by_key(&bot.db, &OutboxKey::decode(key).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, Status::Cancelled, "{key}");
        assert_eq!(row.last_error.as_deref(), Some("no longer planned"));
        assert!(row.sent_at.is_none() && row.telegram_message_id.is_none());
    }

    // Once told is enough: a later start announces nothing again.
    let since = bot.sent_count();
    bot.restart().await;
    assert!(
        bot.advance_from(since, utc("2024-03-20 12:30"))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_session_gets_one_notice_and_its_reminders_are_withdrawn() {
    let content = ContentCopy::new();
    let bot = TestBot::start_sped_up(
        &[
            ("DIALOGUES_DIR", content.path().as_str()),
            ("COORDINATOR_IDS", "900"),
        ],
        SPEEDUP,
    )
    .await;
    let anna = enrol(&bot, 9141, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9142, "Ben Berg", "en", "oulu-kevat24").await;
    bot.advance_to(utc("2024-04-01 14:00")).await;
    let session_2: Vec<String> = session_rows(&bot)
        .await
        .into_iter()
        .filter(|(k, s)| k.contains("oulu-2024-2") && s == "pending")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        session_2.len(),
        6,
        "reminders and prompts of 3.4. are planned"
    );

    let since = bot.sent_count();
    let applied = milava_bot::services::season::apply(
        &bot.ctx(),
        COORDINATOR,
        milava_bot::domain::season::ProgrammeChange::CancelSession {
            session_id: "oulu-2024-2".into(),
        },
    )
    .await
    .expect("cancel saved");
    assert_eq!(applied.notices, 2);

    let arrivals: Vec<Arrival> = bot
        .advance_from(since, utc("2024-04-09 06:00"))
        .await
        .into_iter()
        .filter(|a| a.message.chat_id != COORDINATOR)
        .collect();
    let anna_got = received(&arrivals, anna.id);
    assert_eq!(
        anna_got[0],
        (
            utc("2024-04-01 14:00"),
            text(
                Lang::Fi,
                "changes.cancelled",
                &[
                    ("title", "Verkkotapaaminen 1"),
                    ("when", "ke 3.4.2024 klo 8.00–12.00")
                ]
            )
        )
    );
    let ben_got = received(&arrivals, ben.id);
    assert_eq!(
        ben_got[0],
        (
            utc("2024-04-01 14:00"),
            text(
                Lang::En,
                "changes.cancelled",
                &[
                    ("title", "Online meeting 1"),
                    ("when", "Wed 3.4.2024, 8:00–12:00")
                ]
            )
        )
    );
    // Afterwards only session 3 (9.4.) is reminded of.
    for got in [&anna_got, &ben_got] {
        let times: Vec<DateTime<Utc>> = got[1..].iter().map(|(t, _)| *t).collect();
        assert_eq!(
            times,
            [
                utc("2024-04-08 13:00"),
                utc("2024-04-09 04:00"),
                utc("2024-04-09 04:45")
            ],
            "{got:#?}"
        );
    }
    for key in &session_2 {
        assert_eq!(status_of(&bot, key).await, Status::Cancelled, "{key}");
    }
    assert_eq!(
        arrivals.len(),
        8,
        "one notice each, nothing about the cancelled session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_off_leaves_only_the_prompt_and_one_offset_off_only_the_other() {
    let bot = TestBot::start_sped_up(&[], SPEEDUP).await;
    let anna = enrol(&bot, 9151, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9152, "Ben Berg", "en", "oulu-kevat24").await;
    let cai = enrol(&bot, 9153, "Cai Cederberg", "fi", "oulu-kevat24").await;
    bot.advance_to(utc("2024-03-17 15:00")).await;
    assert_eq!(session_rows(&bot).await.len(), 9);

    bot.send(&anna, "/reminders").await;
    bot.press(&anna, "🔕 Muistutukset pois").await;
    bot.send(&ben, "/reminders").await;
    bot.press(&ben, "✅ 1 h before").await;
    // Cai leaves the series altogether: nothing more comes to them, not even the prompt.
    bot.send(&cai, "/leave").await;
    bot.press(&cai, "Kyllä, peru").await;
    bot.settle().await;
    let mut withdrawn: Vec<String> = session_rows(&bot)
        .await
        .into_iter()
        .filter(|(_, s)| s == "cancelled")
        .map(|(k, _)| k)
        .collect();
    withdrawn.sort();
    let key = |user: i64, what: &str| {
        format!(
            "session:oulu-2024:oulu-2024-1:{}:{user}:{what}",
            utc("2024-03-19 06:00").timestamp()
        )
    };
    let mut expected = vec![
        key(anna.id, "reminder:day_before_1600"),
        key(anna.id, "reminder:60m"),
        key(ben.id, "reminder:60m"),
        key(cai.id, "checkin"),
        key(cai.id, "reminder:day_before_1600"),
        key(cai.id, "reminder:60m"),
    ];
    expected.sort();
    assert_eq!(withdrawn, expected);

    let arrivals = bot.advance_to(utc("2024-04-03 06:00")).await;
    assert_eq!(
        received(&arrivals, anna.id),
        vec![
            (
                utc("2024-03-19 05:45"),
                prompt(Lang::Fi, "Aloitustapaaminen")
            ),
            (
                utc("2024-04-03 04:45"),
                prompt(Lang::Fi, "Verkkotapaaminen 1")
            ),
        ]
    );
    let ben_got = received(&arrivals, ben.id);
    let ben_times: Vec<DateTime<Utc>> = ben_got.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        ben_times,
        [
            utc("2024-03-18 14:00"),
            utc("2024-03-19 05:45"),
            utc("2024-04-02 13:00"),
            utc("2024-04-03 04:45")
        ],
        "{ben_got:#?}"
    );
    let tomorrow = text(Lang::En, "reminders.day_before", &[("session", "")]);
    assert!(ben_got[0].1.starts_with(&tomorrow));
    assert!(ben_got[2].1.starts_with(&tomorrow));
    let anna_reminders: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE idempotency_key LIKE ? AND status != 'cancelled'",
    )
    .bind(format!("%:{}:reminder:%", anna.id))
    .fetch_one(&bot.db)
    .await
    .unwrap();
    assert_eq!(anna_reminders, 0, "none planned for session 2 either");
    assert!(received(&arrivals, cai.id).is_empty());
}

/// The text of a PDF, with white space collapsed.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, bytes).expect("written");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_in_and_corrected_attendance_decide_who_gets_a_certificate() {
    let mut bot = TestBot::start_sped_up(&[("COORDINATOR_IDS", "900")], SPEEDUP).await;
    let anna = enrol(&bot, 9161, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9162, "Ben Berg", "en", "oulu-kevat24").await;
    let coordinator = FakeUser::new(COORDINATOR, "Venla", Some("fi"));

    // Both check in with the prompt's button half an hour into sessions 1–3 (winter, then summer time).
    let during = [
        ("2024-03-19 06:30", "Aloitustapaaminen", "Kick-off meeting"),
        ("2024-04-03 05:30", "Verkkotapaaminen 1", "Online meeting 1"),
        ("2024-04-09 05:30", "Verkkotapaaminen 2", "Online meeting 2"),
    ];
    for (at, fi, en) in during {
        bot.advance_to(utc(at)).await;
        assert_eq!(
            joined(&bot.press(&anna, "✋ Olen paikalla").await),
            text(Lang::Fi, "checkin.done", &[("title", fi)])
        );
        assert_eq!(
            joined(&bot.press(&ben, "✋ I'm here").await),
            text(Lang::En, "checkin.done", &[("title", en)])
        );
    }

    // Nobody checked in at session 4; the coordinator marks Anna, marks Ben by mistake and corrects it.
    bot.advance_to(utc("2024-04-23 12:00")).await;
    bot.send(&coordinator, "/attendance oulu-2024-4").await;
    bot.press(&coordinator, "⬜ Anna Aho").await;
    bot.press(&coordinator, "⬜ Ben Berg").await;
    bot.press(&coordinator, "✅ Ben Berg").await;
    let list = bot
        .fake
        .sent_to(COORDINATOR)
        .into_iter()
        .rev()
        .find(|m| m.text.as_deref().unwrap_or("").starts_with("Läsnäolo"))
        .expect("the attendance list");
    assert!(
        list.text.as_deref().unwrap_or("").contains("Paikalla 1/2."),
        "{list:?}"
    );

    assert!(
        joined(&bot.send(&anna, "/certificate").await).contains(&text(
            Lang::Fi,
            "certificate.not_finished",
            &[]
        )),
    );

    // The series ends on 14.5. at 12.00 (9.00 UTC); nobody checks in at session 5.
    let arrivals = bot.advance_to(utc("2024-05-14 10:00")).await;
    let certificates: Vec<&Arrival> = arrivals
        .iter()
        .filter(|a| a.message.document.is_some())
        .collect();
    assert_eq!(certificates.len(), 1, "only Anna qualifies (4 of 5)");
    let certificate = &certificates[0];
    assert_eq!(certificate.message.chat_id, anna.id);
    // It waits for the series-end survey, half an hour after the end (coordinator_edges.rs).
    assert_eq!(certificate.at, utc("2024-05-14 09:30"));
    assert_eq!(
        certificate.message.text.clone().unwrap_or_default(),
        text(
            Lang::Fi,
            "certificate.caption",
            &[("series", "Oulu, kevät 2024")]
        )
    );
    let document = certificate.message.document.clone().unwrap();
    assert_eq!(
        document.file_name,
        text(
            Lang::Fi,
            "certificate.file_name",
            &[("series", "oulu-2024")]
        )
    );
    let pdf = pdf_text(&document.bytes);
    for expected in [
        text(Lang::Fi, "certificate.document.title", &[]),
        "Anna Aho".into(),
        "Oulu, kevät 2024".into(),
        text(
            Lang::Fi,
            "certificate.document.sessions_heading",
            &[("attended", "4"), ("total", "5")],
        ),
        "19.3.2024 Aloitustapaaminen".into(),
        "3.4.2024 Verkkotapaaminen 1".into(),
        "9.4.2024 Verkkotapaaminen 2".into(),
        "23.4.2024 Verkkotapaaminen 3".into(),
        text(
            Lang::Fi,
            "certificate.document.place_date",
            &[("place", "Oulussa"), ("date", "14.5.2024")],
        ),
    ] {
        assert!(pdf.contains(&expected), "{expected:?} not in: {pdf}");
    }
    assert!(
        !pdf.contains("Päätöstapaaminen"),
        "session 5 was not attended: {pdf}"
    );

    assert_eq!(
        joined(&bot.send(&ben, "/certificate").await),
        text(
            Lang::En,
            "certificate.not_qualified",
            &[("required", "4"), ("attended", "3")]
        )
    );
    let again = bot.send(&anna, "/certificate").await;
    let resent = again
        .iter()
        .find_map(|m| m.document.clone())
        .expect("the certificate again");
    assert_eq!(resent.file_name, document.file_name);
    let pdf = pdf_text(&resent.bytes);
    assert!(
        pdf.contains("Anna Aho") && pdf.contains("23.4.2024 Verkkotapaaminen 3"),
        "{pdf}"
    );

    // Certificates go out once per series, also across a restart.
    let since = bot.sent_count();
    bot.restart().await;
    let later = bot.advance_from(since, utc("2024-05-20 10:00")).await;
    assert!(
        later
            .iter()
            .all(|a| testkit::story::surveys::is_survey(&a.message)),
        "{later:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_withdrawn_and_wanted_again_are_sent_after_all() {
    let content = ContentCopy::new();
    let bot = TestBot::start_sped_up(
        &[
            ("DIALOGUES_DIR", content.path().as_str()),
            ("COORDINATOR_IDS", "900"),
        ],
        SPEEDUP,
    )
    .await;
    let anna = enrol(&bot, 9171, "Anna Aho", "fi", "oulu-kevat24").await;
    let ben = enrol(&bot, 9172, "Ben Berg", "en", "oulu-kevat24").await;
    bot.advance_to(utc("2024-03-17 15:00")).await;
    assert_eq!(session_rows(&bot).await.len(), 6);

    // Anna turns her reminders off and on again before they are due.
    bot.send(&anna, "/reminders").await;
    bot.press(&anna, "🔕 Muistutukset pois").await;
    bot.settle().await;
    bot.press(&anna, "🔔 Muistutukset päälle").await;

    // The coordinator moves the kick-off by mistake and moves it back.
    move_session(
        &bot,
        "oulu-2024-1",
        "2024-03-19T09:00:00",
        "2024-03-19T13:00:00",
    )
    .await;
    bot.settle().await;
    move_session(
        &bot,
        "oulu-2024-1",
        "2024-03-19T08:00:00",
        "2024-03-19T12:00:00",
    )
    .await;

    let arrivals = bot.advance_to(utc("2024-03-19 07:00")).await;
    for (user, lang) in [(&anna, Lang::Fi), (&ben, Lang::En)] {
        let got = received(&arrivals, user.id);
        let reminders: Vec<DateTime<Utc>> = got
            .iter()
            .filter(|(_, t)| {
                t.starts_with(&text(lang, "reminders.day_before", &[("session", "")]))
                    || t.starts_with(
                        text(lang, "reminders.before", &[("session", "")])
                            .split("{start}")
                            .next()
                            .unwrap_or_default(),
                    )
            })
            .map(|(at, _)| *at)
            .collect();
        assert_eq!(
            reminders,
            [utc("2024-03-18 14:00"), utc("2024-03-19 05:00")],
            "{user:?}: {got:#?}"
        );
        let prompts = got
            .iter()
            .filter(|(_, t)| {
                *t == prompt(
                    lang,
                    if lang == Lang::Fi {
                        "Aloitustapaaminen"
                    } else {
                        "Kick-off meeting"
                    },
                )
            })
            .count();
        assert_eq!(prompts, 1, "{user:?}: {got:#?}");
    }
}

/// A scheduler context on the bot's database (for passes while the bot is stopped).
pub(crate) fn offline_ctx(bot: &TestBot) -> Ctx {
    let config = bot.config();
    let content = milava_bot::content::load(&config.dialogues_dir).expect("content loads");
    Ctx::new(
        bot.store().clone(),
        content,
        Arc::new(bot.clock.clone()),
        config,
    )
}
