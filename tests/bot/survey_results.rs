//! Survey results and the research export: the anonymity threshold, the PNG chart, free-text answers, the
//! export's exact rows and columns (in chat and on the command line), and consent withdrawn.
use crate::harness::{TestBot, joined};
use fake_telegram::{FakeUser, SentKind, SentMessage};
use pretty_assertions::assert_eq;
use testkit::story::register_professional;
use testkit::story::surveys::{OPENS, answer_feedback, attend, start};
use testkit::story::utc;

fn documents(messages: &[SentMessage]) -> Vec<(String, Vec<u8>)> {
    messages
        .iter()
        .filter(|m| m.kind != SentKind::Photo) // the chart also comes as a photo (coordinator_edges.rs)
        .filter_map(|m| m.document.as_ref())
        .map(|d| (d.file_name.clone(), d.bytes.clone()))
        .collect()
}

async fn results(bot: &TestBot, coordinator: &FakeUser, scope: &str) -> Vec<SentMessage> {
    bot.send(coordinator, "/results").await;
    bot.press(coordinator, "Palaute verkkotapaamisesta").await;
    bot.press(coordinator, scope).await
}

async fn pseudonym(bot: &TestBot, user: &FakeUser) -> String {
    sqlx::query_scalar("SELECT pseudonym FROM survey_pseudonyms WHERE telegram_user_id = ?")
        .bind(user.id)
        .fetch_one(&bot.db)
        .await
        .unwrap()
}

/// Decodes a PNG: (width, height, RGB(A) pixels).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).expect("PNG data decodes");
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_withheld_below_the_minimum_then_shown_with_a_chart_and_the_export_is_exact() {
    let bot = start().await;
    let coordinator = FakeUser::new(900, "Kirsi", Some("fi"));
    let anna = register_professional(&bot, 9201, "Anna").await;
    let ben = register_professional(&bot, 9202, "Ben").await;
    let cem = register_professional(&bot, 9203, "Cem").await;
    for user in [&anna, &ben, &cem] {
        attend(&bot, user).await;
    }
    bot.advance_to(utc(OPENS)).await;
    answer_feedback(
        &bot,
        &anna,
        "4 Jokseenkin samaa mieltä",
        "Kyllä",
        "Hyvä; kiitos",
    )
    .await;

    // Someone who is not a coordinator cannot see results.
    let refused = joined(&bot.send(&anna, "/results").await);
    assert!(
        refused.contains("vain hankkeen koordinaattoreille"),
        "{refused}"
    );

    let withheld = joined(&results(&bot, &coordinator, "Oulu 3.4. Verkkotapaaminen 1").await);
    assert!(
        withheld
            .contains("Vastauksia on 1. Tulokset näytetään vasta, kun vastauksia on vähintään 2"),
        "{withheld}"
    );

    bot.press(&ben, "Vastaa kyselyyn").await;
    bot.press(&ben, "2 Jokseenkin eri mieltä").await;
    bot.press(&ben, "En").await;
    bot.press(&ben, "Ohita").await;
    bot.press(&ben, "Lähetä vastaukset").await;

    let shown = results(&bot, &coordinator, "Oulu 3.4. Verkkotapaaminen 1").await;
    let text = joined(&shown);
    assert!(
        text.contains("Vastauksia 2 / kutsuttuja 3 (vastausprosentti 66,7 %)"),
        "{text}"
    );
    assert!(text.contains("n = 2 · keskiarvo 3,0"), "{text}");
    assert!(
        text.contains("  4 Jokseenkin samaa mieltä: 1\n  5 Täysin samaa mieltä: 0"),
        "{text}"
    );
    let files = documents(&shown);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0].0, "session-feedback-oulu-2024-2.png");
    let (width, height, pixels) = decode(&files[0].1);
    assert_eq!(width, 1000);
    assert!(height > 300, "{height}");
    let bar = pixels.chunks(3).filter(|p| *p == [46, 110, 168]).count();
    assert!(bar > 5000, "bars are drawn: {bar} pixels");
    let dark = pixels
        .chunks(3)
        .filter(|p| p.iter().all(|c| *c < 80))
        .count();
    assert!(dark > 1000, "text is drawn: {dark} pixels");
    assert_eq!(
        String::from_utf8(files[1].1.clone()).unwrap(),
        "\u{feff}question_id;answer\r\ncomment;\"Hyvä; kiitos\"\r\n"
    );

    // Cem answers and then withdraws the research consent: his answer leaves the export.
    answer_feedback(&bot, &cem, "5 Täysin samaa mieltä", "Ehkä", "Kiitos").await;
    bot.send(&cem, "/profile").await;
    bot.press(&cem, "✏️ Tutkimuskäyttö").await;
    bot.press(&cem, "Ei, kiitos").await;

    bot.send(&coordinator, "/export").await;
    let exported = bot.press(&coordinator, "Palaute verkkotapaamisesta").await;
    let files = documents(&exported);
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].0, "session-feedback-2024-04-03.csv");
    let (pa, pb) = (pseudonym(&bot, &anna).await, pseudonym(&bot, &ben).await);
    assert_eq!(
        String::from_utf8(files[0].1.clone()).unwrap(),
        format!(
            "\u{feff}response_id;pseudonym;survey_id;survey_version;trigger;series;session;submitted_at;useful;try_method;comment\r\n\
             1;{pa};session-feedback;1;session;oulu-2024;oulu-2024-2;2024-04-03;4;yes;\"Hyvä; kiitos\"\r\n\
             2;{pb};session-feedback;1;session;oulu-2024;oulu-2024-2;2024-04-03;2;no;\r\n"
        )
    );
    assert_eq!(files[1].0, "session-feedback-2024-04-03.codebook.csv");
    let codebook = String::from_utf8(files[1].1.clone()).unwrap();
    let lines: Vec<&str> = codebook.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "\u{feff}question_id;kind;optional;question_fi;question_en;code;label_fi;label_en"
    );
    assert_eq!(
        lines.len(),
        1 + 5 + 3 + 1 + 8 + 1,
        "5 Likert points, 3 options, 1 text question, 8 fixed columns, final line end"
    );
    assert!(
        lines[1].starts_with("useful;likert;0;Tapaamisesta oli hyötyä"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(";1;Täysin eri mieltä;Strongly disagree"),
        "{}",
        lines[1]
    );
    assert!(
        lines[7].starts_with("try_method;single;0;") && lines[7].ends_with(";maybe;Ehkä;Maybe"),
        "{}",
        lines[7]
    );
    assert!(lines[9].starts_with("comment;text;1;"), "{}", lines[9]);
    assert!(
        lines[17].starts_with("submitted_at;column;;\"Lähetyspäivä paikallista aikaa (VVVV-KK-PP); kellonaikaa ei anneta.\";"),
        "{}",
        lines[17]
    );
    let audited = bot
        .count(
            "SELECT COUNT(*) FROM audit_log WHERE actor = ? AND action = 'survey_export'",
            900,
        )
        .await;
    assert_eq!(audited, 1);

    // The command line writes the same rows as JSON, and the codebook beside it.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("feedback.json");
    let database = bot.config().database_url;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .args([
            "export",
            "--survey",
            "session-feedback",
            "--series",
            "oulu-2024",
            "--format",
            "json",
            "--out",
        ])
        .arg(&out)
        .env("DATABASE_URL", &database)
        .env("DIALOGUES_DIR", crate::harness::dialogues_dir())
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .expect("runs milava-bot export");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["survey_id"], "session-feedback");
    let rows = json["responses"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    assert_eq!(rows[0]["pseudonym"], serde_json::json!(pa));
    assert_eq!(rows[0]["submitted_at"], "2024-04-03 12:30");
    assert_eq!(
        rows[1]["answers"],
        serde_json::json!({"useful": 2, "try_method": "no", "comment": null})
    );
    // The command line's export is not coarsened (the minute, the trigger's ids); its codebook says so.
    assert_eq!(rows[0]["trigger"], "session:oulu-2024:oulu-2024-2");
    let codebook_file =
        String::from_utf8(std::fs::read(dir.path().join("feedback.codebook.csv")).unwrap())
            .unwrap();
    let cli_lines: Vec<&str> = codebook_file.split("\r\n").collect();
    assert_eq!(cli_lines[..10], lines[..10], "the same questions");
    assert!(
        cli_lines[17]
            .starts_with("submitted_at;column;;Lähetysaika paikallista aikaa (VVVV-KK-PP TT:MM).;"),
        "{}",
        cli_lines[17]
    );
}
