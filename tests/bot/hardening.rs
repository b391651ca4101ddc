//! Issue 18's smaller findings: CSV formulas, private files, foreign restores, the webhook server's limits,
//! the cached health probe and what never reaches the logs.
use crate::harness::TestBot;
use fake_telegram::FakeUser;
use testkit::story::register_father;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formula_after_a_comma_is_defused_in_the_participant_list() {
    let bot = TestBot::start_with(&[("COORDINATOR_IDS", "900")]).await;
    register_father(&bot, 7010, "Matti,=cmd|'/c calc'!A1").await;
    let coordinator = FakeUser::new(900, "Venla", Some("fi"));
    let replies = bot.send(&coordinator, "/participants").await;
    let document = replies
        .iter()
        .find_map(|m| m.document.clone())
        .expect("a CSV document");
    let csv = String::from_utf8(document.bytes[3..].to_vec()).unwrap();
    assert!(
        csv.contains(";Matti,'=cmd|'/c calc'!A1;"),
        "Excel splitting on commas must not see a formula: {csv}"
    );
    assert!(!csv.contains(",=cmd"), "{csv}");
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn export_to(bot: &TestBot, out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .args(["export", "--survey", "session-feedback", "--out"])
        .arg(out)
        .env("DATABASE_URL", bot.config().database_url)
        .env("DIALOGUES_DIR", crate::harness::dialogues_dir())
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .expect("runs milava-bot export")
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_creates_new_owner_only_files_and_follows_no_link() {
    let bot = TestBot::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("feedback.csv");
    let codebook = dir.path().join("feedback.codebook.csv");
    let first = export_to(&bot, &out);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        mode(&out),
        0o600,
        "the export is readable by its owner only"
    );
    assert_eq!(mode(&codebook), 0o600, "the codebook too");

    // An existing file is not overwritten.
    std::fs::write(&out, b"earlier work").unwrap();
    let again = export_to(&bot, &out);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), b"earlier work");

    // A symbolic link planted where the export goes is not followed.
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"not yours").unwrap();
    let link = dir.path().join("planted.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let linked = export_to(&bot, &link);
    assert!(!linked.status.success());
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours");
    assert!(
        !dir.path().join("planted.codebook.csv").exists(),
        "nothing is written when the export is refused"
    );
}

#[cfg(unix)]
#[test]
fn simulator_documents_are_owner_only_and_never_written_through_a_link() {
    let work = tempfile::tempdir().unwrap();
    let files = work.path().join("simulator-files");
    std::fs::create_dir(&files).unwrap();
    let victim = work.path().join("victim.txt");
    std::fs::write(&victim, b"not yours").unwrap();
    std::os::unix::fs::symlink(&victim, files.join("milava-participants-2024-03-12.csv")).unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/privacy.sim");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .args(["simulate", "--files", "simulator-files", "--script"])
        .arg(&script)
        .env("DIALOGUES_DIR", crate::harness::dialogues_dir())
        .env("RUST_LOG", "error")
        .env_remove("COORDINATOR_IDS")
        .env_remove("DATABASE_URL")
        .current_dir(work.path())
        .output()
        .expect("runs milava-bot simulate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours");
    let saved = files.join("milava-participants-2024-03-12-2.csv");
    assert!(
        stdout.contains("simulator-files/milava-participants-2024-03-12-2.csv"),
        "{stdout}"
    );
    assert_eq!(mode(&saved), 0o600);
}

/// A sound SQLite file made by some other program: `tables` are its statements.
async fn foreign_database(path: &std::path::Path, statements: &[&str]) {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_database_that_is_not_this_bots() {
    let bot = TestBot::start().await;
    register_father(&bot, 7020, "Pekka").await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("good.db");
    milava_bot::ops::backup(&bot.config(), &backup)
        .await
        .unwrap();
    let target = dir.path().join("live.db");
    let mut config = bot.config();
    config.database_url = format!("sqlite://{}", target.display());
    milava_bot::ops::restore(&config, &backup)
        .await
        .expect("our own backup restores");

    let notes = dir.path().join("notes.db");
    foreign_database(
        &notes,
        &["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"],
    )
    .await;
    // Another sqlx program's database: a migrations table, but not our migrations.
    let other_app = dir.path().join("other-app.db");
    foreign_database(
        &other_app,
        &[
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
            "INSERT INTO _sqlx_migrations VALUES (1, 'init', CURRENT_TIMESTAMP, 1, x'00', 1)",
            "CREATE TABLE users (id INTEGER PRIMARY KEY)",
        ],
    )
    .await;
    for foreign in [&notes, &other_app] {
        let err = milava_bot::ops::restore(&config, foreign)
            .await
            .expect_err("a foreign database is refused");
        assert!(
            err.to_string().contains("is not a milava-bot database"),
            "{err}"
        );
        // The live database is untouched and nothing was moved aside.
        let pool = milava_bot::db::connect(&config.database_url).await.unwrap();
        let people: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM participants")
            .fetch_one(pool.read())
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(people, 1);
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("before-restore")
            })
            .count();
        assert_eq!(aside, 0, "{err}");
    }
    // The foreign file itself was not migrated.
    let pool =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&notes))
            .await
            .unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_name_username_or_text_reaches_the_log_even_at_trace() {
    use fake_telegram::{FAKE_BOT_TOKEN, FakeTelegram};
    let fake = FakeTelegram::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("stderr.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("run")
        .current_dir(dir.path())
        .env("DIALOGUES_DIR", crate::harness::dialogues_dir())
        .env("TELOXIDE_TOKEN", FAKE_BOT_TOKEN)
        .env("TELOXIDE_API_URL", fake.api_url().as_str())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("t.db").display()),
        )
        .env("RUST_LOG", "trace")
        .env_remove("HEALTH_ADDR")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("starts milava-bot run");

    // An update teloxide cannot parse (a date that is not a number), full of personal data ...
    fake.push_update(serde_json::json!({
        "message": {
            "message_id": 1,
            "date": "yesterday",
            "chat": {"id": 7030, "type": "private", "first_name": "Qzxfirst"},
            "from": {"id": 7030, "is_bot": false, "first_name": "Qzxfirst", "username": "qzx_user"},
            "text": "Qzxtext my private matter"
        }
    }));
    // ... and then a person with a name and username writing an ordinary message (and registering a name).
    let kalle = FakeUser::new(7031, "Qzxkalle", Some("fi")).with_username("qzx_kalle");
    fake.send_private_text(&kalle, "/start");
    fake.wait_for_messages_to(7031, 1, std::time::Duration::from_secs(20))
        .await;
    fake.send_private_text(&kalle, "Qzxtyped free text");
    fake.wait_for_messages_to(7031, 2, std::time::Duration::from_secs(20))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("an update could not be handled"),
        "the unparsable update is still reported: {log}"
    );
    assert!(log.contains("TRACE"), "every level was on");
    for line in log.lines() {
        assert!(
            !line.to_lowercase().contains("qzx"),
            "a name, username or text reached the log: {line}"
        );
    }
}
