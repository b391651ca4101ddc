use crate::harness::dialogues_dir;
use std::path::Path;
use std::process::Command;

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

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

pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_shipped_content_passes_check() {
    let (ok, text) = check(&dialogues_dir());
    assert!(ok, "{text}");
    assert!(text.contains("content is valid"), "{text}");
}

#[test]
fn check_names_file_key_and_problem_of_every_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&dialogues_dir(), dir.path());
    let d = dir.path();
    // A key only in Finnish, a text over 4096 characters, and a long button label.
    edit(
        &d.join("texts/fi.toml"),
        "[help]\n",
        "[help]\nonly_fi = \"vain suomeksi\"\n",
    );
    edit(
        &d.join("texts/en.toml"),
        "[help]\n",
        &format!("[help]\nhuge = \"{}\"\n", "a".repeat(5000)),
    );
    edit(
        &d.join("texts/fi.toml"),
        "consent_accept = \"Hyväksyn\"",
        "consent_accept = \"Hyväksyn tietosuojaselosteen kaikki kohdat\"",
    );
    // An unknown step id, a dangling text reference, and callback data over 64 bytes.
    edit(
        &d.join("registration.toml"),
        "next = \"father_wants\"",
        "next = \"father_hobbies\"",
    );
    edit(
        &d.join("registration.toml"),
        "question = \"registration.pro.email\"",
        "question = \"registration.pro.mail_typo\"",
    );
    edit(
        &d.join("registration.toml"),
        "{ value = \"yes\", label = \"registration.research.yes\" }",
        "{ value = \"yes\", label = \"registration.research.yes\" },\n  { value = \"yes_and_a_very_long_value_that_overflows_telegram\", label = \"registration.research.no\" }",
    );
    let (ok, text) = check(d);
    assert!(!ok, "check must fail: {text}");
    for expected in [
        "texts/en.toml: help.only_fi: missing (present in texts/fi.toml)",
        "texts/fi.toml: help.huge: missing (present in texts/en.toml)",
        "texts/en.toml: help.huge: is 5000 characters; Telegram allows 4096",
        "texts/fi.toml: button.consent_accept: button label is 42 characters; keep it at most 30",
        "registration.toml: step father_area.next: unknown step id 'father_hobbies'",
        "registration.toml: step pro_email.question: refers to text registration.pro.mail_typo, which is missing in texts/fi.toml",
        "registration.toml: step research_consent.option yes_and_a_very_long_value_that_overflows_telegram: callback data is 70 bytes; Telegram allows 64",
        "registration.toml: step father_wants: cannot be reached from the start",
    ] {
        assert!(
            text.contains(expected),
            "missing line '{expected}' in:\n{text}"
        );
    }
}

#[test]
fn texts_may_be_split_into_feature_files_but_a_key_only_once() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&dialogues_dir(), dir.path());
    let d = dir.path();
    std::fs::create_dir_all(d.join("texts/fi")).unwrap();
    std::fs::create_dir_all(d.join("texts/en")).unwrap();
    std::fs::write(
        d.join("texts/fi/zz_extra.toml"),
        "[extra]\ngreeting = \"Hei\"\n[help]\ntext = \"toinen ohje\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("texts/en/zz_extra.toml"),
        "[extra]\nother = \"Hi\"\n",
    )
    .unwrap();
    let (ok, text) = check(d);
    assert!(!ok, "check must fail: {text}");
    for expected in [
        "texts/fi/zz_extra.toml: help.text: is already defined in texts/fi.toml",
        "texts/en.toml: extra.greeting: missing (present in texts/fi.toml)",
        "texts/fi.toml: extra.other: missing (present in texts/en.toml)",
    ] {
        assert!(
            text.contains(expected),
            "missing line '{expected}' in:\n{text}"
        );
    }

    // Once the keys match, the feature files are simply part of the texts.
    std::fs::write(
        d.join("texts/fi/zz_extra.toml"),
        "[extra]\ngreeting = \"Hei\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("texts/en/zz_extra.toml"),
        "[extra]\ngreeting = \"Hi\"\n",
    )
    .unwrap();
    let (ok, text) = check(d);
    assert!(ok, "{text}");
}

#[test]
fn check_reports_malformed_toml_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&dialogues_dir(), dir.path());
    edit(
        &dir.path().join("programme.toml"),
        "area = \"rovaniemi\"",
        "area = \"rovaniemi",
    );
    let (ok, text) = check(dir.path());
    assert!(!ok);
    assert!(
        text.contains("programme.toml: line 17: malformed TOML"),
        "{text}"
    );
}

#[test]
fn a_malformed_setting_stops_start_up_with_exit_code_2_and_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("run")
        .env("DIALOGUES_DIR", dialogues_dir())
        .env("BOT_TIMEZONE", "Europe/Helsingfors")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim(),
        "milava-bot: setting BOT_TIMEZONE: 'Europe/Helsingfors' is not an IANA time zone such as Europe/Helsinki"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("run")
        .env("DIALOGUES_DIR", dialogues_dir())
        .env_remove("TELOXIDE_TOKEN")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("setting TELOXIDE_TOKEN: is not set"));
}
