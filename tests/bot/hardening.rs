//! Issue 18's smaller findings: CSV formulas, private files, foreign restores, the webhook server's limits,
//! the cached health probe and what never reaches the logs.
use crate::harness::TestBot;
use crate::registration::register_father;
use milava_bot::fake_telegram::FakeUser;

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
