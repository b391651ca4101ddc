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

/// A response to the session feedback of `session` (in `series`) with a typed comment, stored directly.
async fn session_response(bot: &TestBot, series: &str, session: &str, comment: &str) {
    let answers = serde_json::json!({"useful": {"likert": 5}, "comment": {"text": comment}});
    sqlx::query(
        "INSERT INTO survey_responses (survey_id, survey_version, trigger_key, series_id, session_id, pseudonym,
           research_consent, answers, submitted_at)
         VALUES ('session-feedback', 1, ?, ?, ?, NULL, 0, ?, '2024-04-10T09:13:00Z')",
    )
    .bind(format!("session:{series}:{session}"))
    .bind(series)
    .bind(session)
    .bind(answers.to_string())
    .execute(&bot.db)
    .await
    .unwrap();
}

/// The section of one scope of the session feedback.
fn section<'a>(page: &'a str, scope: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"session-feedback--{scope}\""))
        .unwrap_or_else(|| panic!("no scope {scope}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The first sheet of an `.xlsx` workbook, as text.
fn sheet(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
    let range = workbook.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_have_results_of_their_own_under_the_rule_and_free_text_answers_download_as_xlsx()
{
    let mut settings = console_settings().to_vec();
    settings.push(("SURVEY_MIN_RESPONSES", "2"));
    let bot = TestBot::start_with(&settings).await;
    for (series, session, n) in [
        ("oulu-2024", "oulu-2024-2", 2),
        ("oulu-2024", "oulu-2024-3", 2),
        ("oulu-2024", "oulu-2024-4", 1),
        ("rovaniemi-2024", "rovaniemi-2024-2", 2),
    ] {
        for i in 0..n {
            session_response(&bot, series, session, &format!("kommentti {session} {i}")).await;
        }
    }
    let signed = sign_in(&bot).await;
    let (status, page) = signed.get("surveys").await;
    assert_eq!(status, StatusCode::OK);
    // 9.4.: two responses, shown with its chart link.
    let shown = section(&page, "oulu-2024-3");
    assert!(
        shown.contains("Oulu, kevät 2024 – 9.4.2024") && shown.contains("2 vastausta"),
        "{shown}"
    );
    assert!(
        shown.contains("chart.png?scope=oulu-2024-3") && !shown.contains("withheld"),
        "{shown}"
    );
    // 23.4. has one; 3.4. has two, but with 9.4. it would give away 23.4.'s one (Oulu minus both).
    for withheld in ["oulu-2024-4", "oulu-2024-2"] {
        let scope = section(&page, withheld);
        assert!(scope.contains("class=\"withheld\""), "{scope}");
        assert!(!scope.contains("chart.png"), "{scope}");
    }
    assert!(!section(&page, "rovaniemi-2024-2").contains("withheld"));
    let chart = |scope: &'static str| {
        let signed = &signed;
        async move {
            crate::console::client()
                .get(format!(
                    "{}surveys/session-feedback/chart.png?scope={scope}",
                    signed.base
                ))
                .header(reqwest::header::COOKIE, &signed.cookie)
                .send()
                .await
                .unwrap()
        }
    };
    let png = chart("oulu-2024-3").await;
    assert_eq!(png.status(), StatusCode::OK);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    for withheld in ["oulu-2024-4", "oulu-2024-2"] {
        assert_eq!(chart(withheld).await.status(), StatusCode::NOT_FOUND);
    }

    // The free-text answers: every answer, a session named only where its scope is shown, no ids.
    assert!(
        page.contains("surveys/session-feedback/texts.xlsx"),
        "{page}"
    );
    let response = crate::console::client()
        .get(format!(
            "{}surveys/session-feedback/texts.xlsx",
            signed.base
        ))
        .header(reqwest::header::COOKIE, &signed.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rows = sheet(response.bytes().await.unwrap().to_vec());
    assert_eq!(
        rows[0],
        ["Kysymys", "Vastaus", "Työpajasarja", "Tapaaminen"]
    );
    assert_eq!(rows.len(), 1 + 7, "{rows:?}");
    let row = |answer: &str| {
        rows.iter()
            .find(|r| r[1] == answer)
            .unwrap_or_else(|| panic!("{answer} in {rows:?}"))
            .clone()
    };
    let shown = row("kommentti oulu-2024-3 0");
    assert_eq!(shown[2], "Oulu, kevät 2024");
    assert!(shown[3].starts_with("9.4.2024 "), "{shown:?}");
    assert!(shown[0].starts_with("3. "), "{shown:?}");
    for hidden in ["kommentti oulu-2024-4 0", "kommentti oulu-2024-2 1"] {
        let r = row(hidden);
        assert_eq!((r[2].as_str(), r[3].as_str()), ("Oulu, kevät 2024", ""));
    }
    assert!(rows.iter().all(|r| r.len() == 4));
    assert_eq!(audit_count(&bot, "survey_texts_export").await, 1);
    // No responses to the final survey: its answers are withheld.
    let (status, _) = signed.get("surveys/series-end/texts.xlsx").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("surveys/series-end/texts.xlsx"));

    let csrf = signed.csrf().await;
    signed
        .post(
            "language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "surveys")],
        )
        .await;
    let (_, page) = signed.get("surveys").await;
    assert!(
        section(&page, "oulu-2024-3").contains("2 responses"),
        "{page}"
    );
    let response = crate::console::client()
        .get(format!(
            "{}surveys/session-feedback/texts.xlsx",
            signed.base
        ))
        .header(reqwest::header::COOKIE, &signed.cookie)
        .send()
        .await
        .unwrap();
    let rows = sheet(response.bytes().await.unwrap().to_vec());
    assert_eq!(
        rows[0],
        ["Question", "Answer", "Workshop series", "Session"]
    );
    assert_eq!(audit_count(&bot, "survey_texts_export").await, 2);
}
