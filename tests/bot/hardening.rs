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
