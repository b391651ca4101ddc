//! Golden transcripts: `milava-bot simulate --script X.sim --expect X.out` for each script in
//! tests/transcripts/. Regenerate one after an intended change with
//! `cargo run -- simulate --script tests/transcripts/X.sim --files simulator-files > tests/transcripts/X.out`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn transcripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts")
}

fn run_script(name: &str) {
    let dir = transcripts_dir();
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .args(["simulate", "--files", "simulator-files", "--script"])
        .arg(dir.join(format!("{name}.sim")))
        .arg("--expect")
        .arg(dir.join(format!("{name}.out")))
        .env(
            "DIALOGUES_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("dialogues"),
        )
        .env("RUST_LOG", "error")
        .env_remove("COORDINATOR_IDS")
        .env_remove("DATABASE_URL")
        .current_dir(work.path())
        .output()
        .expect("runs milava-bot simulate");
    assert!(
        output.status.success(),
        "transcript {name} differs:\n{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_father_registers_in_finnish() {
    run_script("father_fi");
}

#[test]
fn a_professional_registers_in_english_through_a_deep_link() {
    run_script("professional_en");
}

#[test]
fn mydata_forget_and_the_coordinators_view() {
    run_script("privacy");
}

#[test]
fn reminders_and_check_in_appear_when_the_clock_moves() {
    run_script("reminders_fi");
}

#[test]
fn on_todays_clock_no_series_is_open_and_coordinators_need_not_register() {
    run_script("timeline_fi");
}

#[test]
fn simulator_mistakes_get_one_line_explanations() {
    run_script("simulator_errors");
}

#[test]
fn a_changed_transcript_is_reported_with_a_diff() {
    let dir = transcripts_dir();
    let work = tempfile::tempdir().unwrap();
    let expected = work.path().join("wrong.out");
    std::fs::write(&expected, "Clock: Tue 12.3.2024 09:00. You are Matti (fi). Try /start.\nMatti> /start\nbot → Matti: Moi!\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .args(["simulate", "--files", "simulator-files", "--script"])
        .arg(dir.join("father_fi.sim"))
        .arg("--expect")
        .arg(&expected)
        .env(
            "DIALOGUES_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("dialogues"),
        )
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the transcript differs from"), "{stderr}");
    assert!(stderr.contains("-    3 | bot → Matti: Moi!"), "{stderr}");
    assert!(
        stderr.contains("+    3 | bot → Matti · Tue 12.3.2024 09:00"),
        "{stderr}"
    );
}

#[test]
fn a_feedback_survey_arrives_after_an_online_meeting_and_is_answered() {
    run_script("survey_fi");
}

#[test]
fn a_peer_group_is_linked_and_prompts_and_coaching_come_on_time() {
    run_script("groups_fi");
}
