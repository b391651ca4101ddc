//! Operations: an online backup while the bot runs, restoring it, and the retention purge (the running
//! scheduler's and `purge --dry-run`'s).
use crate::harness::{TestBot, joined};
use fake_telegram::FakeUser;
use milava_bot::config::Config;
use milava_bot::ops;
use milava_bot::services::retention;
use pretty_assertions::assert_eq;
use testkit::story::{SPEEDUP, register, utc};

async fn participants(pool: &sqlx::SqlitePool) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT telegram_user_id, name FROM participants ORDER BY telegram_user_id")
        .fetch_all(pool)
        .await
        .expect("participants readable")
}

fn with_database(config: &Config, file: &std::path::Path) -> Config {
    let mut config = config.clone();
    config.database_url = format!("sqlite://{}", file.display());
    config
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_the_bot_runs_restores_everything_it_had() {
    let bot = TestBot::start().await;
    let (aino, _) = register(&bot, 9301, "Aino Aalto", "fi", "oulu-kevat24").await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("milava-backup.db");
    ops::backup(&bot.config(), &backup).await.expect("backup");
    #[cfg(unix)]
    assert_eq!(mode(&backup), 0o600, "the backup holds personal data");
    // The bot keeps answering after (and during) the backup; a second backup to the same name is refused.
    assert!(!bot.send(&aino, "/profile").await.is_empty());
    let again = ops::backup(&bot.config(), &backup).await.unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    // Restore into a fresh place: the registration is there.
    let target = dir.path().join("restored.db");
    let config = with_database(&bot.config(), &target);
    assert_eq!(ops::restore(&config, &backup).await.expect("restore"), None);
    let pool = milava_bot::db::connect(&config.database_url).await.unwrap();
    assert_eq!(participants(&pool).await, vec![(9301, "Aino Aalto".into())]);
    pool.close().await;
    #[cfg(unix)]
    assert_eq!(mode(&target), 0o600);

    // Restoring over an existing database keeps that one aside instead of deleting it.
    let kept = ops::restore(&config, &backup)
        .await
        .expect("restore again")
        .expect("the replaced database is kept");
    assert!(kept.exists() && kept.to_string_lossy().contains("before-restore"));

    // Something that is not a database is refused, and the current database stays as it was.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database at all, just text").unwrap();
    let err = ops::restore(&config, &junk).await.unwrap_err();
    assert!(err.to_string().contains("junk.db"), "{err}");
    let pool = milava_bot::db::connect(&config.database_url).await.unwrap();
    assert_eq!(participants(&pool).await.len(), 1);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_are_erased_the_promised_number_of_days_after_their_series_ends() {
    let bot = TestBot::start_sped_up(&[("PERSONAL_DATA_RETENTION_DAYS", "30")], SPEEDUP).await;
    let (oulu, _) = register(&bot, 9311, "Olli Oulu", "fi", "oulu-kevat24").await;
    let (both, _) = register(&bot, 9312, "Bea Both", "fi", "oulu-kevat24").await;
    // Bea is also in the Rovaniemi series, which ends a day later (15.5.2024 12.00).
    sqlx::query(
        "INSERT INTO enrolments (telegram_user_id, series_id, status, queued_at, updated_at)
         VALUES (9312, 'rovaniemi-2024', 'enrolled', '2024-03-01T00:00:00Z', '2024-03-01T00:00:00Z')",
    )
    .execute(&bot.db)
    .await
    .unwrap();
    let father = FakeUser::new(9313, "Pekka", Some("fi"));
    bot.send(&father, "/start").await;
    bot.press(&father, "Isä").await;
    bot.send(&father, "Pekka").await;
    bot.press(&father, "Oulu").await;
    bot.press(&father, "Vertaisryhmä").await;
    bot.press(&father, "Hyväksyn").await;
    let done = joined(&bot.press(&father, "Ei, kiitos").await);
    assert!(!done.is_empty());
    assert_eq!(participants(&bot.db).await.len(), 3);

    // Oulu's last session ends 14.5.2024 12.00 (9.00 UTC); 30 days later is 13.6.2024 9.00 UTC.
    let content = milava_bot::content::load(&crate::harness::dialogues_dir()).unwrap();
    let tz = chrono_tz::Europe::Helsinki;
    let dry = |now| retention::purge(bot.store(), &content, tz, 30, now, true);
    assert_eq!(dry(utc("2024-06-13 08:59")).await.unwrap(), vec![]);
    let due = dry(utc("2024-06-13 09:00")).await.unwrap();
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(
        (due[0].series_id.as_str(), &due[0].erased, &due[0].kept),
        ("oulu-2024", &vec![9311], &vec![9312])
    );
    assert_eq!(
        participants(&bot.db).await.len(),
        3,
        "a dry run erases nothing"
    );

    // The running scheduler erases Olli when the time comes, and Bea a day later; the father stays. (The
    // clock jumps past the spring first: the reminders in between are not what this test is about.)
    bot.clock.set(utc("2024-06-12 09:00"));
    bot.advance_to(utc("2024-06-13 08:59")).await;
    assert_eq!(participants(&bot.db).await.len(), 3, "not a minute early");
    bot.advance_to(utc("2024-06-13 09:00")).await;
    let left: Vec<i64> = participants(&bot.db).await.iter().map(|p| p.0).collect();
    assert_eq!(left, vec![9312, 9313]);
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM enrolments WHERE telegram_user_id = ?",
            oulu.id
        )
        .await,
        0
    );
    bot.advance_to(utc("2024-06-14 09:00")).await;
    let left: Vec<i64> = participants(&bot.db).await.iter().map(|p| p.0).collect();
    assert_eq!(left, vec![9313]);
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM users WHERE telegram_user_id = ?",
            both.id
        )
        .await,
        0
    );
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'retention purge' ORDER BY id",
    )
    .fetch_all(&bot.db)
    .await
    .unwrap();
    assert_eq!(
        audit,
        vec![
            "series oulu-2024 ended 30 days ago: 1 participant(s) erased".to_string(),
            "series rovaniemi-2024 ended 30 days ago: 1 participant(s) erased".to_string(),
        ]
    );
}
