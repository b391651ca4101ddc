//! The benchmarks still run and count right (their speed is measured on demand, never here): each scenario
//! with a tiny load through the real binary, checking the JSON line it prints.
use crate::harness::dialogues_dir;
use serde_json::Value;
use std::process::Command;

fn bench(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("bench")
        .args(args)
        .current_dir(dir.path())
        .env("DIALOGUES_DIR", dialogues_dir())
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("DATABASE_URL")
        .env_remove("HEALTH_ADDR")
        .output()
        .expect("milava-bot bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench {args:?}: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().last().expect("one JSON line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[test]
fn bench_interactive_registers_everyone_through_a_separate_bot_process() {
    let result = bench(&["interactive", "--users", "5", "--registered", "10"]);
    assert_eq!(result["scenario"], "interactive");
    assert_eq!(result["registrations_completed"], 5, "{result}");
    assert_eq!(result["updates_answered"], 35, "7 steps each: {result}");
    assert!(
        result["bot_peak_rss_mib"].as_f64().unwrap() > 1.0,
        "{result}"
    );
    assert!(result["latency_p99_ms"].as_f64().is_some(), "{result}");
}

#[test]
fn bench_interactive_answers_new_people_writing_twice() {
    let result = bench(&[
        "interactive",
        "--users",
        "5",
        "--registered",
        "10",
        "--new-people",
    ]);
    assert_eq!(result["scenario"], "interactive, new people", "{result}");
    assert_eq!(result["updates_answered"], 10, "two each: {result}");
}

#[test]
fn bench_broadcast_delivers_to_every_recipient() {
    let result = bench(&[
        "broadcast",
        "--recipients",
        "20",
        "--chatters",
        "3",
        "--chat-period-ms",
        "600",
    ]);
    assert_eq!(result["delivered"], 20, "{result}");
    assert_eq!(result["failed"], 0, "{result}");
    assert_eq!(result["interactive_unanswered"], 0, "{result}");
    assert_eq!(result["chatters"], 3, "{result}");
    assert_eq!(result["http_429_not_obeyed"], 0, "{result}");
}

#[test]
fn bench_plan_plans_each_reminder_once() {
    let result = bench(&["plan", "--participants", "5", "--sessions", "2"]);
    // Per participant and session: two reminders and a check-in prompt.
    assert_eq!(result["rows_planned"], 5 * 2 * 3, "{result}");
}

#[test]
fn bench_flood_answers_the_others_and_cuts_the_flood() {
    let result = bench(&[
        "flood",
        "--messages",
        "100",
        "--others",
        "3",
        "--rounds",
        "2",
        "--think-ms",
        "50",
    ]);
    assert_eq!(result["scenario"], "flood");
    assert_eq!(result["others_answered"], 6, "{result}");
    assert_eq!(result["others_unanswered"], 0, "{result}");
    assert_eq!(result["flooder_slow_down_notices"], 1, "{result}");
    assert!(result["latency_p99_ms"].as_f64().is_some(), "{result}");
}

#[test]
fn bench_console_answers_every_page_while_people_chat() {
    let result = bench(&[
        "console",
        "--people",
        "200",
        "--chat-rate",
        "20",
        "--seconds",
        "2",
        "--coordinators",
        "2",
        "--pause-ms",
        "5",
    ]);
    assert_eq!(result["scenario"], "console", "{result}");
    assert_eq!(result["coordinators"], 2, "{result}");
    assert_eq!(result["pause_ms"], 5, "{result}");
    assert_eq!(result["people"], 200, "{result}");
    // Every page answered 200 (else the run fails) in every round, and each is reported.
    let pages = result["pages"].as_object().expect("pages");
    for page in [
        "overview",
        "audit",
        "audit page 5",
        "audit filtered",
        "programme",
        "programme series",
        "people",
        "people page 100",
        "people search",
        "people role",
        "people series",
        "people area",
        "people group",
        "people status registered",
        "people status in_progress",
        "people status left",
        "people status unreachable",
        "person record",
        "attendance",
        "attendance matrix",
        "announcements",
        "groups",
        "surveys",
        "survey chart png",
        "participants xlsx",
        "attendance xlsx",
    ] {
        let stats = &pages[page];
        // Each of the two coordinators asked for every page at least once.
        assert!(stats["n"].as_u64().unwrap() >= 2, "{page}: {result}");
        for field in ["p50_ms", "p99_ms", "max_ms"] {
            assert!(stats[field].as_f64().is_some(), "{page} {field}: {result}");
        }
    }
    assert_eq!(pages.len(), 26, "{result}");
    assert!(result["console_rounds"].as_u64().unwrap() >= 1, "{result}");
    for field in [
        "page_p99_max_ms",
        "chat_alone_p50_ms",
        "chat_alone_p99_ms",
        "chat_alone_updates_per_second",
        "chat_with_console_p50_ms",
        "chat_with_console_p99_ms",
        "chat_with_console_updates_per_second",
        "chat_p99_ratio",
        "pages_per_second",
        "bot_peak_rss_mib",
    ] {
        assert!(result[field].as_f64().is_some(), "{field}: {result}");
    }
    assert!(
        result["chat_alone_updates"].as_u64().unwrap() > 0,
        "{result}"
    );
    assert!(
        result["chat_with_console_updates"].as_u64().unwrap() > 0,
        "{result}"
    );
}
