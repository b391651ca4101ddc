//! `milava-bot check` validates the surveys in dialogues/surveys/ and names file, key and problem.
use crate::harness::check;
use crate::harness::dialogues_dir;
use testkit::content::{copy_dir, edit};

#[test]
fn check_reports_every_problem_of_a_survey() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&dialogues_dir(), dir.path());
    let d = dir.path().join("surveys");
    let feedback = d.join("session-feedback.toml");
    edit(
        &feedback,
        "  { fi = \"Täysin eri mieltä\", en = \"Strongly disagree\" },\n",
        "",
    );
    edit(&feedback, "online = true", "sessions = [\"oulu-2024-9\"]");
    edit(&feedback, "remind_after = \"48h\"", "remind_after = \"8d\"");
    edit(
        &feedback,
        "{ code = \"maybe\", label = { fi = \"Ehkä\", en = \"Maybe\" } }",
        "{ code = \"yes\", label = { fi = \"Ehkä, jos työnantaja antaa siihen aikaa\", en = \"\" } }",
    );
    edit(&feedback, "max_length = 500", "max_length = 0");
    let peer = d.join("peer-group-4w.toml");
    edit(&peer, "weeks = 4", "weeks = 4\ngroups = [\"oulu-isat\"]");
    edit(
        &peer,
        "id = \"wish\"",
        "id = \"wish\"\noption = [{ code = \"a\", label = { fi = \"A\", en = \"A\" } }]",
    );
    edit(
        &d.join("series-end.toml"),
        "kind = \"multiple\"",
        "kind = \"scale\"",
    );
    std::fs::copy(&peer, d.join("peer-group.toml")).unwrap();

    let (ok, text) = check(dir.path());
    assert!(!ok, "check must fail: {text}");
    for expected in [
        "surveys/session-feedback.toml: question useful.labels: a Likert question has exactly 5 labels, from 1 to 5 (found 4)",
        "surveys/session-feedback.toml: trigger 1.sessions: unknown session 'oulu-2024-9'",
        "surveys/session-feedback.toml: remind_after: must be shorter than closes_after (no reminder after closing)",
        "surveys/session-feedback.toml: question try_method.option yes: duplicate option code",
        "surveys/session-feedback.toml: question try_method.option yes.label: the en text is empty",
        "surveys/session-feedback.toml: question try_method.option yes.label: 'Ehkä, jos työnantaja antaa siihen aikaa' is shown on a button: keep it at most 30 characters",
        "surveys/session-feedback.toml: question comment.max_length: must be from 1 to 2000 characters",
        "surveys/peer-group-4w.toml: trigger 1.groups: unknown peer group 'oulu-isat'",
        "surveys/peer-group-4w.toml: question wish.option: only choice questions have options",
        "surveys/peer-group.toml: id: the file of survey 'peer-group-4w' must be named peer-group-4w.toml",
        "surveys/peer-group-4w.toml: id: another survey has the same id",
        "unknown variant `scale`, expected one of `likert`, `single`, `multiple`, `text`",
    ] {
        assert!(
            text.contains(expected),
            "missing line '{expected}' in:\n{text}"
        );
    }
    assert!(
        text.contains("surveys/series-end.toml: line 45: malformed TOML"),
        "{text}"
    );
}
