//! The integration tests' view of the test kit: the simulated bot (`testkit::bot`) under the name the tests
//! use, and `milava-bot check` run as a program.
use std::path::{Path, PathBuf};
use std::process::Command;

pub use testkit::bot::{
    Arrival, STEP_TIMEOUT, SimulatedBot as TestBot, console_settings, joined, labels, test_key,
};

/// The content the tests run on (the fixture, not the shipped `dialogues/`).
pub fn dialogues_dir() -> PathBuf {
    testkit::content::fixture_dir()
}

/// Runs `milava-bot check` on the content in `dir`: whether it passed, and what it printed.
pub fn check(dir: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("check")
        .env("DIALOGUES_DIR", dir)
        .env_remove("TELOXIDE_TOKEN")
        .current_dir(dir)
        .output()
        .expect("runs milava-bot check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
