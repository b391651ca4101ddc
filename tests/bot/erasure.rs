//! Erasure and retention as the privacy notice says: fathers and others go when the programme is over (and
//! are not registered after it), and people who never finished registering go after
//! `UNFINISHED_RETENTION_DAYS` without a message. Coordinators are never erased.
use crate::harness::{TestBot, joined};
use fake_telegram::FakeUser;
use milava_bot::ops;
use pretty_assertions::assert_eq;
use testkit::story::register_father;
use testkit::story::utc;

/// How many rows of `user` each personal table holds, with the tables that hold any.
async fn rows_of(bot: &TestBot, user: i64) -> Vec<(String, i64)> {
    let mut held = Vec::new();
    for table in milava_bot::db::personal_tables(&bot.db).await.unwrap() {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE telegram_user_id = ?");
        let n = bot.count(&sql, user).await;
        if n > 0 {
            held.push((table, n));
        }
    }
    held
}

async fn tables_of(bot: &TestBot, user: i64) -> Vec<String> {
    rows_of(bot, user)
        .await
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

async fn insert(bot: &TestBot, sql: &str, user: i64) {
    sqlx::query(sql).bind(user).execute(&bot.db).await.unwrap();
}

async fn audit(bot: &TestBot) -> Vec<String> {
    sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'retention purge' ORDER BY id")
        .fetch_all(&bot.db)
        .await
        .unwrap()
}

/// The programme ends 31.7.2025 (content.toml): at the start of 1.8.2025 local time (21.00 UTC the day
/// before) fathers and others are erased with everything of theirs (coaching reflections, group
/// memberships), `purge --dry-run` counts them first, and coordinators and workshop participants stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fathers_and_others_are_erased_when_the_programme_ends_and_coordinators_stay() {
    // Workshop participants keep to their series' retention (here long), not to the programme's end.
    let bot = TestBot::start_with(&[
        ("COORDINATOR_IDS", "900"),
        ("PERSONAL_DATA_RETENTION_DAYS", "3650"),
    ])
    .await;
    let pekka = register_father(&bot, 9401, "Pekka").await;
    let anna = testkit::story::register_professional(&bot, 9402, "Anna").await;
    insert(
        &bot,
        "INSERT INTO coaching_reflections (telegram_user_id, step_id, text, at)
         VALUES (?, 'step-1', 'my thoughts', '2024-03-12T09:00:00+00:00')",
        pekka.id,
    )
    .await;
    insert(
        &bot,
        "INSERT INTO group_members (group_id, telegram_user_id, status, at)
         VALUES ('oulu-isat-fi', ?, 'approved', '2024-03-12T09:00:00+00:00')",
        pekka.id,
    )
    .await;
    // A coordinator who registered as a father too.
    let coordinator = FakeUser::new(900, "Venla", Some("fi"));
    bot.send(&coordinator, "/stats").await;
    insert(
        &bot,
        "INSERT INTO participants (telegram_user_id, role, name, privacy_version, consent_at,
             registered_at, updated_at)
         VALUES (?, 'father', 'Venla', 'x', '2024-03-12T09:00:00+00:00', '2024-03-12T09:00:00+00:00',
             '2024-03-12T09:00:00+00:00')",
        coordinator.id,
    )
    .await;

    let config = bot.config();
    let before = ops::purge_at(&config, utc("2025-07-31 20:59"), true)
        .await
        .unwrap();
    assert_eq!(before.programme, None, "31.7.2025 is still the programme's");
    let dry = ops::purge_at(&config, utc("2025-07-31 21:00"), true)
        .await
        .unwrap()
        .programme
        .expect("over at 1.8.2025 0.00 local time");
    assert_eq!((dry.fathers, dry.others), (1, 0));
    assert!(
        !rows_of(&bot, pekka.id).await.is_empty(),
        "a dry run erases nothing"
    );

    // The running scheduler does it at that moment, not a minute early.
    bot.clock.set(utc("2025-07-30 12:00"));
    bot.advance_to(utc("2025-07-31 20:59")).await;
    let held = tables_of(&bot, pekka.id).await;
    for table in [
        "users",
        "participants",
        "coaching_reflections",
        "group_members",
    ] {
        assert!(held.contains(&table.to_string()), "{table} not in {held:?}");
    }
    bot.advance_to(utc("2025-07-31 21:00")).await;
    assert_eq!(rows_of(&bot, pekka.id).await, vec![]);
    let kept = tables_of(&bot, coordinator.id).await;
    assert!(
        kept.contains(&"participants".to_string()) && kept.contains(&"users".to_string()),
        "coordinators are never erased: {kept:?}"
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?",
            anna.id
        )
        .await,
        1,
        "a workshop participant follows the series' retention"
    );
    assert_eq!(
        audit(&bot).await,
        vec!["programme ended 2025-07-31: 1 father(s) and 0 other(s) erased".to_string()]
    );
}

/// After the programme has ended, a father (by the role question or a group's link) or someone else is
/// told kindly, in their language, that registration is closed and where help is, and nothing of them is
/// kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_programme_fathers_and_others_are_not_registered_and_nothing_is_kept() {
    let bot = TestBot::start().await;
    bot.clock.set(utc("2026-12-07 10:00"));
    let matti = FakeUser::new(9411, "Matti", Some("fi"));
    bot.send(&matti, "/start").await;
    let replies = bot.press(&matti, "Isä").await;
    let text = joined(&replies);
    assert!(text.contains("MILAVA-hanke päättyi 31.7.2025"), "{text}");
    assert!(text.contains("/apua"), "{text}");
    assert_eq!(rows_of(&bot, matti.id).await, vec![]);
    // He is not asked anything more, and his next message gets the same answer once he chooses again.
    assert!(bot.stored_step(&matti).await.is_none());

    let jussi = FakeUser::new(9412, "Jussi", Some("fi"));
    let text = joined(&bot.send(&jussi, "/start isat-oulu").await);
    assert!(text.contains("MILAVA-hanke päättyi 31.7.2025"), "{text}");
    assert!(!text.contains("Mikä on etunimesi"), "{text}");
    assert_eq!(rows_of(&bot, jussi.id).await, vec![]);

    let olivia = FakeUser::new(9413, "Olivia", Some("en"));
    bot.send(&olivia, "/start").await;
    let text = joined(&bot.press(&olivia, "Other").await);
    assert!(
        text.contains("The MILAVA programme ended on 31 July 2025"),
        "{text}"
    );
    assert_eq!(rows_of(&bot, olivia.id).await, vec![]);

    // /apua still answers them.
    let text = joined(&bot.send(&matti, "/apua").await);
    assert!(!text.contains("päättyi"), "{text}");
    assert!(!text.is_empty());
}

/// A registration left unfinished, and a join request of someone who never registered, are erased
/// `UNFINISHED_RETENTION_DAYS` (30) after the last trace; someone who wrote again meanwhile, registered
/// people and coordinators stay. The privacy notice says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_registrations_and_join_requests_go_after_thirty_quiet_days() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await;
    let start = utc("2024-03-12 07:00");
    let kalle = FakeUser::new(9501, "Kalle", Some("fi"));
    bot.send(&kalle, "/start").await;
    bot.press(&kalle, "Isä").await;
    bot.send(&kalle, "Keskeneräinen Kalle").await;
    let later = FakeUser::new(9502, "Lauri", Some("fi"));
    bot.send(&later, "/start").await;
    insert(
        &bot,
        "INSERT INTO group_members (group_id, telegram_user_id, status, at)
         VALUES ('oulu-isat-fi', ?, 'declined', '2024-03-12T07:00:00+00:00')",
        9503,
    )
    .await;
    let pekka = register_father(&bot, 9504, "Pekka").await;
    let coordinator = FakeUser::new(900, "Venla", Some("fi"));
    bot.send(&coordinator, "/stats").await;
    let text = joined(&bot.send(&pekka, "/privacy").await);
    assert!(
        text.contains("poistetaan 30 päivän kuluttua hänen viimeisestä viestistään botille"),
        "{text}"
    );

    // Lauri writes again after 20 days: his 30 days start again.
    bot.clock.set(utc("2024-04-01 07:00"));
    bot.send(&later, "Hei").await;

    let config = bot.config();
    let due = start + chrono::Duration::days(30);
    let dry = |at| ops::purge_at(&config, at, true);
    assert_eq!(
        dry(due - chrono::Duration::minutes(1))
            .await
            .unwrap()
            .unfinished,
        0
    );
    assert_eq!(dry(due).await.unwrap().unfinished, 2);

    bot.advance_to(due - chrono::Duration::minutes(1)).await;
    let mut held = tables_of(&bot, kalle.id).await;
    held.sort();
    assert_eq!(held, ["dialogues", "users"], "not a minute early");
    bot.advance_to(due).await;
    assert_eq!(rows_of(&bot, kalle.id).await, vec![]);
    assert_eq!(rows_of(&bot, 9503).await, vec![]);
    assert!(
        !rows_of(&bot, later.id).await.is_empty(),
        "Lauri wrote 10 days ago"
    );
    assert!(!rows_of(&bot, pekka.id).await.is_empty(), "registered");
    assert!(
        !rows_of(&bot, coordinator.id).await.is_empty(),
        "a coordinator"
    );
    assert_eq!(
        audit(&bot).await,
        vec!["never registered, no message for 30 days: 2 person(s) erased".to_string()]
    );
    bot.advance_to(utc("2024-05-01 07:00")).await;
    assert_eq!(rows_of(&bot, later.id).await, vec![]);
}

/// `check` requires the programme's end date and names a malformed one.
#[test]
fn check_requires_the_programme_end_as_a_date() {
    use crate::harness::check;
    use testkit::content::{copy_dir, edit};
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&crate::harness::dialogues_dir(), dir.path());
    let content = dir.path().join("content.toml");
    edit(
        &content,
        "programme_ends = 2025-07-31",
        "programme_ends = \"31.7.2025\"",
    );
    let (ok, text) = check(dir.path());
    assert!(!ok, "{text}");
    assert!(
        text.contains("content.toml") && text.contains("'31.7.2025' is not a date like 2025-07-31"),
        "{text}"
    );
    edit(&content, "programme_ends = \"31.7.2025\"", "");
    let (ok, text) = check(dir.path());
    assert!(
        !ok && text.contains("missing field `programme_ends`"),
        "{text}"
    );
}

/// The scheduler looks for people who never registered only when one can be due: once a look has found the
/// earliest due, passes woken before it (by registrations, many a second at busy times) skip the two queries
/// that read every user. A row slipped in behind the scheduler's back with an old trace (no real input can
/// make one) shows the skip: a pass on its own erases it, the remembering task's pass does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_looks_for_unfinished_registrations_only_when_one_can_be_due() {
    use milava_bot::scheduler::run::{Memory, run_once, run_pass};
    let mut bot = TestBot::start_with(&[]).await;
    bot.stop().await;
    let ctx = crate::reminders::offline_ctx(&bot);
    let now = utc("2024-03-12 07:00");
    let trace = |user: i64, at: chrono::DateTime<chrono::Utc>| {
        let db = ctx.pool.clone();
        async move {
            let mut tx = milava_bot::db::begin_write(&db).await.unwrap();
            milava_bot::db::users::touch(&mut tx, user, user, milava_bot::domain::Lang::Fi, at)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    // Someone who began to register a day ago is due in 29 days.
    trace(9600, now - chrono::Duration::days(1)).await;
    let mut memory = Memory::default();
    let first = run_pass(&ctx, now, &mut memory).await.unwrap();
    assert_eq!(first.purged, 0);
    let due = now + chrono::Duration::days(29);
    assert!(first.next_run.is_some_and(|next| next <= due), "{first:?}");

    trace(9601, now - chrono::Duration::days(31)).await;
    let later = now + chrono::Duration::hours(1);
    let woken = run_pass(&ctx, later, &mut memory).await.unwrap();
    assert_eq!(woken.purged, 0, "a pass before the earliest due looked");
    assert!(!rows_of(&bot, 9601).await.is_empty());
    let alone = run_once(&ctx, later).await.unwrap();
    assert_eq!(alone.purged, 1);
    assert_eq!(rows_of(&bot, 9601).await, vec![]);

    // At the due time the remembering pass looks again and erases the one due.
    let at_due = run_pass(&ctx, due, &mut memory).await.unwrap();
    assert_eq!(at_due.purged, 1);
    assert_eq!(rows_of(&bot, 9600).await, vec![]);
}
