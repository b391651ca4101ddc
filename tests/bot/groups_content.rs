//! `check` on broken peer-group, prompt, help and coaching content; and prompts after downtime.
use crate::harness::check;
use crate::harness::dialogues_dir;
use testkit::content::{copy_dir, edit};
use testkit::story::groups::{
    arrivals_in, link_oulu, oulu_group, prompts_recorded, start, times, utc,
};

#[test]
fn check_reports_broken_groups_prompts_support_and_coaching() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&dialogues_dir(), dir.path());
    let d = dir.path();
    let groups = d.join("groups.toml");
    edit(
        &groups,
        "schedule = \"0 19 * * Tue\"",
        "schedule = \"0 19 * * 2\"",
    );
    edit(
        &groups,
        "facilitators = []",
        "facilitators = [12345, \"matti\"]",
    );
    edit(
        &groups,
        "plan = [\"resources\",",
        "plan = [\"no-such-theme\", \"resources\",",
    );
    edit(&groups, "code = \"fathers-online\"", "code = \"apua\"");
    let text = std::fs::read_to_string(&groups).unwrap();
    let last_rules = text.rfind("rules = {").unwrap();
    let end = text[last_rules..].find('\n').unwrap() + last_rules;
    std::fs::write(
        &groups,
        format!("{}{}", &text[..last_rules], &text[end + 1..]),
    )
    .unwrap();
    edit(
        &d.join("prompts/02_stress.toml"),
        "id = \"stress-anger\"",
        "id = \"stress-sleep\"",
    );
    edit(
        &d.join("support.toml"),
        "contact = \"112\"",
        "contact = \"0800 000 000\"",
    );
    edit(
        &d.join("coaching.toml"),
        "theme = \"everyday\"",
        "theme = \"hobbies\"",
    );

    let (ok, out) = check(d);
    assert!(!ok, "{out}");
    for expected in [
        "groups.toml: group oulu-isat-fi.schedule: '0 19 * * 2': write days of the week as names (Mon, Tue, … Sun), not numbers",
        "groups.toml: group oulu-isat-fi.facilitators: \"matti\" is not a Telegram user id",
        "groups.toml: group oulu-isat-fi.plan: 'no-such-theme' is neither a theme nor a prompt id in prompts/",
        "groups.toml: group online-fathers-en.code: is reserved for the help resources' link",
        "groups.toml: group online-fathers-en.rules: missing: every group needs its rules in fi and en",
        "prompts (theme stress): prompt stress-sleep: duplicate id",
        "support.toml: resource: the emergency number 112 must be listed",
        "coaching.toml: step c08-couple.theme: unknown theme 'hobbies'",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(!out.contains("12345"), "a numeric id is fine: {out}");
}

/// After downtime only the latest missed slot counts, and only within 6 hours; a restart never posts a prompt
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_after_downtime_catch_up_once_and_restarts_never_repeat() {
    let mut bot = start().await;
    let group = oulu_group();
    link_oulu(&bot).await;
    let first = arrivals_in(&bot.advance_to(utc(2024, 3, 13, 0, 0)).await, group.id);
    assert_eq!(first.len(), 1);

    // Down over the Tuesday 19.3. slot, back an hour later: that prompt comes, late.
    bot.stop().await;
    bot.clock.set(utc(2024, 3, 19, 18, 0));
    let since = bot.sent_count();
    bot.start_again().await;
    let late = arrivals_in(
        &bot.advance_from(since, utc(2024, 3, 20, 0, 0)).await,
        group.id,
    );
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(
        late[0].1.contains("Mitä olet saanut omalta isältäsi"),
        "{}",
        late[0].1
    );

    // Down for two weeks: the slots of 26.3. and 2.4. pass without a message; 9.4. comes on time.
    bot.stop().await;
    bot.clock.set(utc(2024, 4, 3, 9, 0));
    let since = bot.sent_count();
    bot.start_again().await;
    let after = arrivals_in(
        &bot.advance_from(since, utc(2024, 4, 10, 0, 0)).await,
        group.id,
    );
    assert_eq!(times(&after), [utc(2024, 4, 9, 16, 0)]);
    assert!(
        after[0].1.contains("Mistä sinä saat voimia"),
        "the plan continues where it was: {}",
        after[0].1
    );

    // A restart right after a prompt was posted: the next Tuesday brings the next prompt, not the same again.
    bot.restart().await;
    let again = arrivals_in(&bot.advance_to(utc(2024, 4, 17, 0, 0)).await, group.id);
    assert_eq!(times(&again), [utc(2024, 4, 16, 16, 0)]);
    assert!(
        again[0].1.contains("Keneltä sinä saat tukea isänä?"),
        "{}",
        again[0].1
    );
    assert_eq!(prompts_recorded(&bot).await, 4);
}
