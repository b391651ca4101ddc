//! The programme lives in the database and coordinators change it (`services::season::apply`, the use case
//! behind the console's forms): the shipped programme.toml seeds it once, a restart with an older file keeps
//! what coordinators changed, a new series takes registrations, a moved or cancelled session is announced
//! once to each participant and its reminders re-planned, a change `check` would refuse is refused in its
//! words, and the export reads back as the same programme.
use crate::harness::{Arrival, TestBot, joined};
use chrono::{NaiveDate, NaiveDateTime};
use fake_telegram::FakeUser;
use milava_bot::domain::programme::{Series, Session};
use milava_bot::domain::season::{ProgrammeChange, SeriesFields};
use milava_bot::domain::{Lang, Localized};
use milava_bot::services::season::{self, SeasonError};
use pretty_assertions::assert_eq;
use testkit::content::{ContentCopy, text};
use testkit::story::{COORDINATOR, SPEEDUP, register, utc};

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("a local time")
}

fn both(fi: &str, en: &str) -> Localized {
    Localized {
        fi: fi.into(),
        en: en.into(),
    }
}

fn online(id: &str, start: &str, end: &str, title: &str) -> Session {
    Session {
        id: id.into(),
        start: local(start),
        end: local(end),
        place: None,
        online: true,
        link: None,
        title: both(title, title),
        theme: None,
    }
}

/// Kajaani, spring 2024: two online sessions in April (summer time: 9.00 local is 6.00 UTC).
pub(crate) fn kajaani() -> Series {
    Series {
        id: "kajaani-2024".into(),
        code: "kajaani-kevat24".into(),
        name: both("Kajaani, kevät 2024", "Kajaani, spring 2024"),
        area: "kajaani".into(),
        capacity: Some(20),
        waitlist: true,
        certificate_min_sessions: Some(1),
        registration_opens: None,
        registration_closes: None,
        place: Some(both("Kajaanissa", "Kajaani")),
        sessions: vec![
            online(
                "kajaani-2024-1",
                "2024-04-09 09:00",
                "2024-04-09 12:00",
                "Aloitus",
            ),
            online(
                "kajaani-2024-2",
                "2024-04-23 09:00",
                "2024-04-23 12:00",
                "Jatko",
            ),
        ],
    }
}

fn session_of(bot: &TestBot, id: &str) -> Option<Session> {
    bot.ctx().content.get().session(id).map(|(_, s)| s.clone())
}

fn texts_for(arrivals: &[Arrival], chat: i64) -> Vec<String> {
    arrivals
        .iter()
        .filter(|a| a.message.chat_id == chat)
        .map(|a| a.message.text.clone().unwrap_or_default())
        .collect()
}

async fn pending_reminders(bot: &TestBot, session: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT idempotency_key FROM deliveries
         WHERE idempotency_key LIKE 'session:%' AND idempotency_key LIKE ? AND status = 'pending' ORDER BY id",
    )
    .bind(format!("%:{session}:%"))
    .fetch_all(&bot.db)
    .await
    .expect("outbox readable")
}

/// Seeded once: coordinators' edits survive a restart with an older shipped file (a session it still has is
/// not moved back, a cancelled one does not come back, a series it lacks stays), and only a series the
/// database has never seen is taken from the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_an_older_shipped_file_keeps_what_coordinators_changed() {
    let content = ContentCopy::new();
    let mut bot = TestBot::start_with(&[("DIALOGUES_DIR", content.path().as_str())]).await;
    let ctx = bot.ctx();
    let seeded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM season_seeded")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(seeded, 2, "the shipped file's two series are seeded");

    let mut moved = session_of(&bot, "oulu-2024-2").expect("shipped session");
    moved.start = local("2024-04-04 09:00");
    moved.end = local("2024-04-04 13:00");
    season::apply(
        &ctx,
        COORDINATOR,
        ProgrammeChange::EditSession(moved.clone()),
    )
    .await
    .expect("move saved");
    season::apply(
        &ctx,
        COORDINATOR,
        ProgrammeChange::CancelSession {
            session_id: "oulu-2024-5".into(),
        },
    )
    .await
    .expect("cancel saved");
    season::apply(&ctx, COORDINATOR, ProgrammeChange::AddSeries(kajaani()))
        .await
        .expect("series added");
    let edited = bot.ctx().content.get().series.clone();

    // A release whose file is older: its Oulu series has other times and titles, and it ships a new series.
    content.edit_programme(
        "title = { fi = \"Aloitustapaaminen\", en = \"Kick-off meeting\" }\ntheme = { fi = \"Isyyden voimavarat\", en = \"Resources of fatherhood\" }\n\n[[series.session]]\nid = \"oulu-2024-2\"",
        "title = { fi = \"Vanha nimi\", en = \"Old name\" }\ntheme = { fi = \"Isyyden voimavarat\", en = \"Resources of fatherhood\" }\n\n[[series.session]]\nid = \"oulu-2024-2\"",
    );
    let mut file = std::fs::read_to_string(content.file("programme.toml")).unwrap();
    file.push_str(
        "\n[[series]]\nid = \"oulu-2025\"\ncode = \"oulu-kevat25\"\nname = { fi = \"Oulu, kevät 2025\", en = \"Oulu, spring 2025\" }\narea = \"oulu\"\n\n[[series.session]]\nid = \"oulu-2025-1\"\nstart = 2025-03-12T09:00:00\nend = 2025-03-12T12:00:00\nonline = true\ntitle = { fi = \"Aloitus\", en = \"Start\" }\n",
    );
    std::fs::write(content.file("programme.toml"), file).unwrap();
    bot.restart().await;

    let now = bot.ctx().content.get().series.clone();
    assert_eq!(
        now[..3],
        edited[..],
        "the edited programme is kept as it was"
    );
    assert_eq!(now.len(), 4, "the new shipped series is seeded");
    assert_eq!(now[3].id, "oulu-2025");
    assert_eq!(session_of(&bot, "oulu-2024-2"), Some(moved));
    assert_eq!(session_of(&bot, "oulu-2024-5"), None, "stays cancelled");

    bot.restart().await;
    assert_eq!(
        bot.ctx().content.get().series,
        now,
        "a second start changes nothing"
    );
}

/// A series added by a coordinator takes registrations through its deep link; moving one of its sessions
/// tells the participant once, with the old and new time, and the reminders follow the new time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_series_takes_registrations_and_a_moved_session_is_announced_once() {
    let bot = TestBot::start_sped_up(&[("COORDINATOR_IDS", "900")], SPEEDUP).await;
    let ctx = bot.ctx();
    let applied = season::apply(&ctx, COORDINATOR, ProgrammeChange::AddSeries(kajaani()))
        .await
        .expect("series added");
    assert_eq!(applied.notices, 0);

    let (anna, done) = register(&bot, 9501, "Anna Aho", "fi", "kajaani-kevat24").await;
    assert!(
        done.contains(&text(
            Lang::Fi,
            "programme.enrolled",
            &[("series", "Kajaani, kevät 2024")]
        )),
        "{done}"
    );
    bot.advance_to(utc("2024-04-07 16:00")).await;
    assert!(!pending_reminders(&bot, "kajaani-2024-1").await.is_empty());

    // The kick-off moves a day later and an hour earlier: Wed 10.4. 8.00–11.00.
    let mut moved = session_of(&bot, "kajaani-2024-1").unwrap();
    moved.start = local("2024-04-10 08:00");
    moved.end = local("2024-04-10 11:00");
    let applied = season::apply(&ctx, COORDINATOR, ProgrammeChange::EditSession(moved))
        .await
        .expect("move saved");
    assert_eq!((applied.changed_sessions, applied.notices), (1, 1));

    let arrivals = bot.advance_to(utc("2024-04-10 06:00")).await;
    let got = texts_for(&arrivals, anna.id);
    let notice = text(
        Lang::Fi,
        "changes.moved",
        &[
            ("title", "Aloitus"),
            ("old", "ti 9.4.2024 klo 9.00–12.00"),
            ("when", "ke 10.4.2024 klo 8.00–11.00"),
        ],
    );
    assert_eq!(
        got.iter().filter(|t| **t == notice).count(),
        1,
        "one notice: {got:#?}"
    );
    // Reminders of the old time were withdrawn and the day-before reminder came the evening before the new
    // day (9.4. 16.00 local = 13.00 UTC), not before the old one.
    let day_before = text(Lang::Fi, "reminders.day_before", &[("session", "")]);
    let reminders: Vec<_> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == anna.id)
        .filter(|a| {
            a.message
                .text
                .as_deref()
                .is_some_and(|t| t.starts_with(day_before.trim_end()))
        })
        .map(|a| a.at)
        .collect();
    assert_eq!(reminders, [utc("2024-04-09 13:00")], "{got:#?}");

    // Saved once, announced once: nothing more about it later.
    let again = bot.advance_to(utc("2024-04-10 06:30")).await;
    assert!(!texts_for(&again, anna.id).contains(&notice));
}

/// A change that makes the programme invalid is refused with the problems `check` reports for the same
/// programme in a file, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_change_is_refused_in_checks_words_and_nothing_changes() {
    let bot = TestBot::start().await;
    let ctx = bot.ctx();
    let before = ctx.content.get().series.clone();
    let oulu = before.iter().find(|s| s.id == "oulu-2024").unwrap();
    let mut fields = SeriesFields::of(oulu);
    fields.registration_opens = Some(local("2024-03-01 09:00"));
    fields.registration_closes = Some(local("2024-02-01 09:00"));
    let refused = season::apply(
        &ctx,
        COORDINATOR,
        ProgrammeChange::EditSeries {
            id: "oulu-2024".into(),
            fields,
        },
    )
    .await;
    let Err(SeasonError::Invalid(problems)) = refused else {
        panic!("not refused: {refused:?}");
    };
    let said: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    // The same words as tests/bot/timeline.rs gets from `milava-bot check` for this window in the file.
    assert_eq!(
        said,
        [
            "programme.toml: series oulu-2024.registration_opens: must be before registration closes (registration_closes, or the first session's start)"
        ]
    );

    let mut series = kajaani();
    series.sessions[1].end = local("2024-04-23 08:00");
    series.code = "oulu-kevat24".into();
    let Err(SeasonError::Invalid(problems)) =
        season::apply(&ctx, COORDINATOR, ProgrammeChange::AddSeries(series)).await
    else {
        panic!("a session ending before it starts is refused");
    };
    let said: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        said.contains(&"programme.toml: session kajaani-2024-2: ends before it starts".to_string()),
        "{said:#?}"
    );
    assert!(
        said.contains(
            &"programme.toml: series kajaani-2024.code: the same code is used by another series"
                .to_string()
        ),
        "{said:#?}"
    );
    assert_eq!(ctx.content.get().series, before);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM season_series")
        .fetch_one(&bot.db)
        .await
        .unwrap();
    assert_eq!(stored, 2);
}

/// The export is a programme.toml that `check --programme` accepts and that loads as the same programme.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_reads_back_as_the_same_programme() {
    let bot = TestBot::start().await;
    let ctx = bot.ctx();
    season::apply(&ctx, COORDINATOR, ProgrammeChange::AddSeries(kajaani()))
        .await
        .unwrap();
    season::apply(
        &ctx,
        COORDINATOR,
        ProgrammeChange::CancelSession {
            session_id: "oulu-2024-5".into(),
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("programme-export.toml");
    let written =
        milava_bot::ops::programme_export_at(&bot.config(), &out, utc("2024-03-12 07:00"))
            .await
            .expect("exported");
    assert_eq!(written, 3);
    let dialogues = crate::harness::dialogues_dir();
    let read = milava_bot::content::load_with_programme(&dialogues, &out).expect("valid");
    assert_eq!(read.series, ctx.content.get().series);

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("check")
        .arg("--programme")
        .arg(&out)
        .env("DIALOGUES_DIR", &dialogues)
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .expect("runs milava-bot check");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `/reload` takes texts and flows from the files again but keeps the database's programme.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_programme_of_the_database() {
    let content = ContentCopy::new();
    let bot = TestBot::start_with(&[
        ("DIALOGUES_DIR", content.path().as_str()),
        ("COORDINATOR_IDS", "900"),
    ])
    .await;
    let ctx = bot.ctx();
    season::apply(
        &ctx,
        COORDINATOR,
        ProgrammeChange::CancelSession {
            session_id: "oulu-2024-5".into(),
        },
    )
    .await
    .unwrap();
    content.edit_programme("code = \"oulu-kevat24\"\n", "code = \"oulu-k24\"\n");
    let coordinator = FakeUser::new(COORDINATOR, "Venla", Some("fi"));
    let reply = joined(&bot.send(&coordinator, "/reload").await);
    assert_eq!(reply, text(Lang::Fi, "reload.done", &[("notices", "0")]));
    let now = ctx.content.get();
    assert_eq!(now.series("oulu-2024").unwrap().code, "oulu-kevat24");
    assert!(now.session("oulu-2024-5").is_none());
}

/// Moving the programme's end later keeps the privacy promise: a father who consented while the notice said
/// 31.7.2025 is erased when that day is over; one who consented after the move stays until the new end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_programme_end_keeps_nobody_longer_than_they_were_told() {
    let bot = TestBot::start().await;
    let ctx = bot.ctx();
    let told_2025 = testkit::story::register_father(&bot, 9521, "Pekka").await;
    bot.clock.set(utc("2024-03-13 07:00"));
    let ends = NaiveDate::from_ymd_opt(2026, 7, 31).unwrap();
    season::apply(&ctx, COORDINATOR, ProgrammeChange::SetProgrammeEnds(ends))
        .await
        .unwrap();
    assert_eq!(ctx.content.get().programme_ends, ends);
    bot.clock.set(utc("2024-03-14 07:00"));
    let told_2026 = testkit::story::register_father(&bot, 9522, "Matti").await;

    let registered = "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?";
    bot.clock.set(utc("2025-07-31 20:59"));
    bot.settle().await;
    assert_eq!(bot.count(registered, told_2025.id).await, 1);
    bot.clock.set(utc("2025-07-31 21:00"));
    bot.settle().await;
    assert_eq!(
        bot.count(registered, told_2025.id).await,
        0,
        "erased as told"
    );
    assert_eq!(bot.count(registered, told_2026.id).await, 1, "kept to 2026");
    bot.clock.set(utc("2026-07-31 21:00"));
    bot.settle().await;
    assert_eq!(bot.count(registered, told_2026.id).await, 0);
}

/// On today's clock the shipped programme is over and fathers are told so; once a coordinator moves the end
/// to 31.7.2027 (no developer, no file), a father registers and the privacy notice states the new end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_todays_clock_a_coordinator_extends_the_programme_and_fathers_can_register_again() {
    let bot = TestBot::start().await;
    bot.clock.set(utc("2026-12-07 10:00"));
    let matti = FakeUser::new(9531, "Matti", Some("fi"));
    bot.send(&matti, "/start").await;
    let said = joined(&bot.press(&matti, "Isä").await);
    assert!(said.contains("31.7.2025"), "{said}");

    let ends = NaiveDate::from_ymd_opt(2027, 7, 31).unwrap();
    season::apply(
        &bot.ctx(),
        COORDINATOR,
        ProgrammeChange::SetProgrammeEnds(ends),
    )
    .await
    .expect("end saved");
    let pekka = testkit::story::register_father(&bot, 9532, "Pekka").await;
    let privacy = joined(&bot.send(&pekka, "/privacy").await);
    assert!(privacy.contains("31.7.2027"), "{privacy}");
}
