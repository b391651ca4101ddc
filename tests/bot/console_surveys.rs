//! The console's Surveys page: results per scope in Finnish and English under the chat's anonymity rule (a
//! scope that would give away a smaller group is withheld), and the research export and codebook as
//! downloads, each an audit line.
use crate::console::{audit_count, sign_in};
use crate::harness::{TestBot, console_settings};
use reqwest::StatusCode;

/// A research-consented response to the final survey of `series`, stored directly.
async fn stored_response(bot: &TestBot, series: &str) {
    let answers = serde_json::json!({"overall": {"likert": 4}});
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

/// The text of the final survey's scope headed `name` on the page, up to the next scope.
fn scope<'a>(page: &'a str, name: &str) -> &'a str {
    let page = &page[page.find("id=\"series-end\"").expect("the final survey")..];
    let start = page.find(&format!("<h3>{name} ")).expect(name);
    let rest = &page[start..];
    let end = rest[4..].find("<h3>").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surveys_show_results_in_both_languages_withhold_small_scopes_and_export_with_a_header() {
    let mut settings = console_settings().to_vec();
    settings.push(("SURVEY_MIN_RESPONSES", "5"));
    let bot = TestBot::start_with(&settings).await;
    for _ in 0..5 {
        stored_response(&bot, "oulu-2024").await;
    }
    stored_response(&bot, "rovaniemi-2024").await;
    let signed = sign_in(&bot).await;

    let (status, page) = signed.get("surveys").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Kyselyt</h1>"), "{page}");
    assert!(
        !page.replace("console.css", "").contains("console."),
        "a text key is missing: {page}"
    );
    let all = scope(&page, "Kaikki vastaukset");
    assert!(
        all.contains("6 vastausta") && all.contains("6 vastasi"),
        "{all}"
    );
    // Oulu's five would give away Rovaniemi's one (all minus Oulu); Rovaniemi is below five.
    let oulu = scope(&page, "Oulu, kevät 2024");
    assert!(oulu.contains("class=\"withheld\""), "{oulu}");
    assert!(!oulu.contains("vastasi"), "{oulu}");
    let rovaniemi = scope(&page, "Rovaniemi, kevät 2024");
    assert!(rovaniemi.contains("class=\"withheld\""), "{rovaniemi}");

    let png = crate::console::client()
        .get(format!(
            "{}surveys/series-end/chart.png?scope=all",
            signed.base
        ))
        .header(reqwest::header::COOKIE, &signed.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), StatusCode::OK);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let (status, _) = signed
        .get("surveys/series-end/chart.png?scope=oulu-2024")
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a withheld scope has no chart"
    );

    let csrf = signed.csrf().await;
    signed
        .post(
            "language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "surveys")],
        )
        .await;
    let (_, page) = signed.get("surveys").await;
    assert!(page.contains("<h1>Surveys</h1>"), "{page}");
    assert!(
        !page.replace("console.css", "").contains("console."),
        "a text key is missing: {page}"
    );
    assert!(scope(&page, "All responses").contains("6 responses"));

    let (status, csv) = signed.get("surveys/series-end/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    let csv = csv.trim_start_matches('\u{feff}');
    assert!(csv.starts_with("response_id;pseudonym;survey_id"), "{csv}");
    let (status, codebook) = signed.get("surveys/series-end/codebook.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(codebook.contains("overall"), "{codebook}");
    assert_eq!(audit_count(&bot, "survey_export").await, 2);
    let (status, _) = signed.get("surveys/no-such/export.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
