//! Storage faults in a story: writes refused as on a full disk, another program holding the write lock, and
//! two people (Finnish and English) who must be answered politely meanwhile and carry on afterwards.
use crate::bot::{SimulatedBot, joined};
use fake_telegram::FakeUser;

/// Makes every write to the registration state whose new row matches `condition` (SQL on `NEW`; `1` for
/// all) fail as a full disk would, until the triggers `injected_full_INSERT`/`_UPDATE` are dropped.
pub async fn inject_storage_fault_where(bot: &SimulatedBot, condition: &str) {
    for event in ["INSERT", "UPDATE"] {
        sqlx::query(&format!(
            "CREATE TRIGGER injected_full_{event} BEFORE {event} ON dialogues
             WHEN {condition}
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
        ))
        .execute(&bot.db)
        .await
        .unwrap();
    }
}

/// Another program (a backup script, an admin's sqlite3 shell) takes the database's write lock and holds it
/// until `ROLLBACK` on the returned connection.
pub async fn another_program_locks(bot: &SimulatedBot) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let mut other = sqlx::SqliteConnection::connect(&bot.config().database_url)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    other
}

/// Pekka (Finnish) half-way through registering, at the question of his name; Sam (English) not started yet.
pub async fn pekka_at_his_name_and_sam(bot: &SimulatedBot, first_id: i64) -> (FakeUser, FakeUser) {
    let pekka = FakeUser::new(first_id, "Pekka", Some("fi"));
    let sam = FakeUser::new(first_id + 1, "Sam", Some("en"));
    bot.send(&pekka, "/start").await;
    bot.press(&pekka, "Isä").await;
    (pekka, sam)
}

/// While storage refuses writes: both are told politely, each in their language, and Pekka does not move on.
pub async fn assert_refused_politely(bot: &SimulatedBot, pekka: &FakeUser, sam: &FakeUser) {
    let replies = joined(&bot.send(pekka, "Pekka").await);
    assert!(
        replies.contains("Tallentaminen ei juuri nyt onnistunut. Aiemmat tietosi ovat tallessa"),
        "{replies}"
    );
    assert!(
        !replies.contains("Millä alueella"),
        "no step forward: {replies}"
    );
    let replies = joined(&bot.send(sam, "/start").await);
    assert!(
        replies.contains("I could not save that just now"),
        "in the user's language: {replies}"
    );
}

/// Once storage takes writes again: the same messages go through and both carry on.
pub async fn assert_carries_on(bot: &SimulatedBot, pekka: &FakeUser, sam: &FakeUser) {
    let replies = joined(&bot.send(pekka, "Pekka").await);
    assert!(replies.contains("Millä alueella"), "carries on: {replies}");
    let replies = joined(&bot.send(sam, "/start").await);
    assert!(replies.contains("Who are you?"), "{replies}");
}
