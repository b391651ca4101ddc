//! Survey anonymity that survives arithmetic: `/results` withholds a scope whose complement within a shown
//! scope would be too small, the in-chat `/export` is coarsened, and `/forget` leaves no pseudonym on a
//! submitted response.
use crate::harness::{TestBot, joined};
use crate::programme::register_professional;
use crate::reminders::utc;
use crate::surveys::{OPENS, answer_feedback, attend, start};
use milava_bot::fake_telegram::FakeUser;
use pretty_assertions::assert_eq;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_forget_a_submitted_response_no_longer_carries_the_pseudonym_shown_in_mydata() {
    let bot = start().await;
    let anna = register_professional(&bot, 9301, "Anna").await;
    attend(&bot, &anna).await;
    bot.advance_to(utc(OPENS)).await;
    answer_feedback(&bot, &anna, "4 Jokseenkin samaa mieltä", "Kyllä", "Hyvä").await;
    let pseudonym: String =
        sqlx::query_scalar("SELECT pseudonym FROM survey_pseudonyms WHERE telegram_user_id = ?")
            .bind(anna.id)
            .fetch_one(&bot.db)
            .await
            .unwrap();
    let mydata = joined(&bot.send(&anna, "/mydata").await);
    assert!(mydata.contains(&pseudonym), "{mydata}");

    bot.send(&anna, "/forget").await;
    let replies = bot.press(&anna, "Kyllä, poista kaikki").await;
    assert!(joined(&replies).contains("Tietosi on poistettu."));

    let stored: Vec<(Option<String>, Option<bool>, String)> = sqlx::query_as(
        "SELECT pseudonym, research_consent, answers FROM survey_responses ORDER BY id",
    )
    .fetch_all(&bot.db)
    .await
    .unwrap();
    assert_eq!(stored.len(), 1, "the answers stay, anonymous");
    assert_eq!(stored[0].0, None, "no pseudonym left on the response");
    assert_eq!(stored[0].1, Some(false), "and not for research");
    assert!(stored[0].2.contains("likert"), "{}", stored[0].2);
    let anywhere: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM survey_responses WHERE pseudonym = ?1)
              + (SELECT COUNT(*) FROM survey_pseudonyms WHERE pseudonym = ?1)",
    )
    .bind(&pseudonym)
    .fetch_one(&bot.db)
    .await
    .unwrap();
    assert_eq!(anywhere, 0, "the pseudonym is nowhere in the database");
    let _ = FakeUser::new(1, "unused", None);
}
