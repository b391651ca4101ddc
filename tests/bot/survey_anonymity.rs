//! Survey anonymity that survives arithmetic: `/results` withholds a scope whose complement within a shown
//! scope would be too small, the in-chat `/export` is coarsened, and `/forget` leaves no pseudonym on a
//! submitted response.
use crate::harness::{TestBot, joined};
use fake_telegram::{FakeUser, SentMessage};
use pretty_assertions::assert_eq;
use testkit::story::register_professional;
use testkit::story::surveys::{OPENS, answer_feedback, attend, start};
use testkit::story::utc;

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
}

/// Stores a submitted response of the final survey of `series` directly (answering through the bot is tested
/// elsewhere); research-consented, with a free-text answer.
async fn stored_response(bot: &TestBot, series: &str, text: &str) {
    let answers = serde_json::json!({"overall": {"likert": 4}, "improve": {"text": text}});
    sqlx::query(
        "INSERT INTO survey_responses (survey_id, survey_version, trigger_key, series_id, session_id, pseudonym,
           research_consent, answers, submitted_at)
         VALUES ('series-end', 1, ?, ?, NULL, NULL, 1, ?, '2024-05-16T09:13:00Z')",
    )
    .bind(format!("series:{series}"))
    .bind(series)
    .bind(answers.to_string())
    .execute(&bot.db)
    .await
    .unwrap();
}

async fn final_results(bot: &TestBot, coordinator: &FakeUser, scope: &str) -> Vec<SentMessage> {
    bot.send(coordinator, "/results").await;
    bot.press(coordinator, "Loppukysely: työpajasarja").await;
    bot.press(coordinator, scope).await
}

fn free_texts(replies: &[SentMessage]) -> Option<String> {
    replies
        .iter()
        .filter_map(|m| m.document.as_ref())
        .find(|d| d.file_name.ends_with("-texts.csv"))
        .map(|d| String::from_utf8(d.bytes.clone()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_withhold_a_scope_whose_complement_within_a_shown_scope_is_too_small() {
    let bot =
        TestBot::start_with(&[("COORDINATOR_IDS", "900"), ("SURVEY_MIN_RESPONSES", "5")]).await;
    let coordinator = FakeUser::new(900, "Kirsi", Some("fi"));
    for i in 0..5 {
        stored_response(&bot, "oulu-2024", &format!("Oulu {i}")).await;
    }
    stored_response(&bot, "rovaniemi-2024", "Rovaniemen ainoa").await;

    // 5 Oulu + 1 Rovaniemi: all six are shown together, with every free text among six.
    let all = final_results(&bot, &coordinator, "Kaikki vastaukset").await;
    assert!(
        joined(&all).contains("Vastauksia 6 / kutsuttuja"),
        "{}",
        joined(&all)
    );
    assert!(free_texts(&all).unwrap().contains("Rovaniemen ainoa"));
    // Oulu alone would give away Rovaniemi's one (all minus Oulu): withheld, free texts too.
    let oulu = final_results(&bot, &coordinator, "Oulu, kevät 2024").await;
    assert_eq!(
        joined(&oulu),
        "Loppukysely: työpajasarja – Oulu, kevät 2024\n\nVastauksia on 5, mutta tuloksia ei näytetä: laajemman joukon tuloksista vähennettyinä ne paljastaisivat alle 5 vastaajan vastaukset. Katso laajempi joukko, esimerkiksi ”Kaikki vastaukset”."
    );
    assert!(oulu.iter().all(|m| m.document.is_none()), "{oulu:?}");
    let rovaniemi = joined(&final_results(&bot, &coordinator, "Rovaniemi, kevät 2024").await);
    assert!(
        rovaniemi.contains("Vastauksia on 1. Tulokset näytetään vasta"),
        "{rovaniemi}"
    );

    // A safe case: 5 + 5, every scope is shown.
    for i in 0..4 {
        stored_response(&bot, "rovaniemi-2024", &format!("Rovaniemi {i}")).await;
    }
    let oulu = final_results(&bot, &coordinator, "Oulu, kevät 2024").await;
    assert!(
        joined(&oulu).contains("Vastauksia 5 / kutsuttuja"),
        "{}",
        joined(&oulu)
    );
    let texts = free_texts(&oulu).unwrap();
    assert!(
        texts.contains("Oulu 4") && !texts.contains("Rovaniemi"),
        "{texts}"
    );
    let rovaniemi = final_results(&bot, &coordinator, "Rovaniemi, kevät 2024").await;
    assert!(
        joined(&rovaniemi).contains("Vastauksia 5 / kutsuttuja"),
        "{}",
        joined(&rovaniemi)
    );
    let all = final_results(&bot, &coordinator, "Kaikki vastaukset").await;
    assert!(
        joined(&all).contains("Vastauksia 10 / kutsuttuja"),
        "{}",
        joined(&all)
    );
}

/// The in-chat export's data rows (header and BOM left out), split into cells.
async fn exported_rows(bot: &TestBot, coordinator: &FakeUser) -> Vec<Vec<String>> {
    bot.send(coordinator, "/export").await;
    let replies = bot.press(coordinator, "Loppukysely: työpajasarja").await;
    let data = replies
        .iter()
        .filter_map(|m| m.document.as_ref())
        .find(|d| !d.file_name.contains("codebook"))
        .unwrap_or_else(|| panic!("no export: {}", joined(&replies)));
    let text = String::from_utf8(data.bytes.clone()).unwrap();
    text.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(';').map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_export_gives_dates_only_and_leaves_out_series_cells_that_are_too_small() {
    let bot =
        TestBot::start_with(&[("COORDINATOR_IDS", "900"), ("SURVEY_MIN_RESPONSES", "5")]).await;
    let coordinator = FakeUser::new(900, "Kirsi", Some("fi"));
    for i in 0..4 {
        stored_response(&bot, "oulu-2024", &format!("Oulu {i}")).await;
    }
    // Four in all: nothing is given in chat, with the reason.
    bot.send(&coordinator, "/export").await;
    let replies = bot.press(&coordinator, "Loppukysely: työpajasarja").await;
    assert!(replies.iter().all(|m| m.document.is_none()));
    assert!(
        joined(&replies).contains("Tutkimukseen suostuneita vastauksia on 4. Aineisto annetaan täällä vasta, kun niitä on vähintään 5"),
        "{}",
        joined(&replies)
    );

    // 5 Oulu + 1 Rovaniemi: the rows are given, but no series cell (Oulu's would single out Rovaniemi's).
    stored_response(&bot, "oulu-2024", "Oulu 4").await;
    stored_response(&bot, "rovaniemi-2024", "Rovaniemen ainoa").await;
    let rows = exported_rows(&bot, &coordinator).await;
    assert_eq!(rows.len(), 6);
    for row in &rows {
        // trigger, series, session, submitted_at
        assert_eq!(row[4..8], ["series", "", "", "2024-05-16"], "{row:?}");
    }

    // 5 + 5: each series' cells are large enough.
    for i in 0..4 {
        stored_response(&bot, "rovaniemi-2024", &format!("Rovaniemi {i}")).await;
    }
    let rows = exported_rows(&bot, &coordinator).await;
    let series: Vec<&str> = rows.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(
        series.iter().filter(|s| **s == "oulu-2024").count(),
        5,
        "{series:?}"
    );
    assert_eq!(
        series.iter().filter(|s| **s == "rovaniemi-2024").count(),
        5,
        "{series:?}"
    );
    assert!(rows.iter().all(|r| r[7] == "2024-05-16"));
}
