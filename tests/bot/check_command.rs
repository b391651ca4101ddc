use crate::harness::{check, dialogues_dir};
use std::process::Command;
use testkit::content::{copy_dir, edit, shipped_dir};

#[test]
fn the_shipped_content_passes_check() {
    let (ok, text) = check(&shipped_dir());
    assert!(ok, "{text}");
    assert!(text.contains("content is valid"), "{text}");
}

#[test]
fn the_fixture_content_the_tests_run_on_passes_check() {
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

#[test]
fn the_token_never_appears_in_logs_or_errors() {
    // Telegram unreachable (nothing listens on the port), every log level on: the start-up error and all
    // logging must not contain the token's secret part.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let secret = "AAE-ThisIsTheSecretPartOfTheToken_123";
    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("run")
        .env("DIALOGUES_DIR", dialogues_dir())
        .env("TELOXIDE_TOKEN", format!("123456789:{secret}"))
        .env("TELOXIDE_API_URL", format!("http://127.0.0.1:{port}/"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("t.db").display()),
        )
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr.contains("cannot reach Telegram"),
        "the failure is explained: {stderr}"
    );
    assert!(
        !stderr.contains(secret) && !stdout.contains(secret),
        "{stderr}"
    );
}
