//! The console's People and Attendance pages over HTTP (the browser walk-through is in console_browser.rs):
//! search and filters over a long list, one person's record as `/mydata` shows it, erase-on-request with its
//! confirmation and audit line, the `.xlsx` downloads read back, and the attendance matrix up to a
//! certificate that reaches the person once.
use crate::console::{Signed, audit_count, client, sign_in};
use crate::harness::{TestBot, console_settings, joined};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use fake_telegram::{FakeUser, SentKind};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use testkit::story::register_father;
use testkit::story::register_professional;

/// A download's bytes and content type.
async fn download(signed: &Signed, path: &str) -> (StatusCode, String, Vec<u8>) {
    let response = client()
        .get(format!("{}{path}", signed.base))
        .header(COOKIE, &signed.cookie)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.bytes().await.unwrap().to_vec())
}

/// The first sheet of an `.xlsx` workbook.
fn sheet(bytes: Vec<u8>) -> Vec<Vec<Data>> {
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
    let range = workbook
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_searched_by_name_or_id_filtered_and_paged() {
    let bot = TestBot::start_with(&console_settings()).await;
    register_father(&bot, 7001, "Pekka Virtanen").await;
    register_professional(&bot, 9001, "Anna Laine").await;
    let halfway = FakeUser::new(7002, "Kalle", Some("fi"));
    bot.send(&halfway, "/start").await;
    bot.press(&halfway, "Isä").await;
    let signed = sign_in(&bot).await;
    let (status, all) = signed.get("people").await;
    assert_eq!(status, StatusCode::OK);
    assert!(all.contains("<h1>Ihmiset</h1>"), "{all}");
    for expected in [
        "Pekka Virtanen",
        "Anna Laine",
        "(ei ilmoittautunut)",
        "Henkilöt 1–4, yhteensä 4.",
    ] {
        assert!(all.contains(expected), "{expected}: {all}");
    }
    let (_, found) = signed.get("people?q=VIRT").await;
    assert!(
        found.contains("Pekka Virtanen") && !found.contains("Anna Laine"),
        "{found}"
    );
    let (_, by_id) = signed.get("people?q=9001").await;
    assert!(
        by_id.contains("Anna Laine") && !by_id.contains("Pekka"),
        "{by_id}"
    );
    let (_, professionals) = signed.get("people?role=professional").await;
    assert!(
        professionals.contains("Anna Laine") && !professionals.contains("Pekka"),
        "{professionals}"
    );
    let (_, series) = signed.get("people?series=oulu-2024").await;
    assert!(
        series.contains("Anna Laine") && !series.contains("Pekka"),
        "{series}"
    );
    let (_, area) = signed.get("people?area=oulu&role=father").await;
    assert!(
        area.contains("Pekka Virtanen") && !area.contains("Anna"),
        "{area}"
    );
    let (_, halfway_page) = signed.get("people?status=in_progress").await;
    assert!(
        halfway_page.contains("href=\"people/7002\""),
        "{halfway_page}"
    );
    assert!(
        halfway_page.contains("Henkilöt 1–1, yhteensä 1."),
        "{halfway_page}"
    );
    // A search with SQL's wildcards finds nothing rather than everyone.
    let (_, wildcard) = signed.get("people?q=%25").await;
    assert!(wildcard.contains("Ei ketään."), "{wildcard}");
    // A long list comes 50 a page, with a link to the next.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
         INSERT INTO users (telegram_user_id, chat_id, language, first_seen, last_seen)
         SELECT 100000 + i, 100000 + i, 'fi', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z' FROM n",
    )
    .execute(&bot.db)
    .await
    .unwrap();
    let (_, first) = signed.get("people").await;
    assert!(first.contains("Henkilöt 1–50, yhteensä 124."), "{first}");
    assert!(first.contains("rel=\"next\""), "{first}");
    let (_, third) = signed.get("people?page=3").await;
    assert!(third.contains("Henkilöt 101–124, yhteensä 124."), "{third}");
    assert!(!third.contains("rel=\"next\""), "{third}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_is_what_mydata_shows_and_erasing_it_needs_a_confirmation_and_is_audited() {
    let bot = TestBot::start_with(&console_settings()).await;
    let pekka = register_father(&bot, 7001, "Pekka Virtanen").await;
    let mydata = joined(&bot.send(&pekka, "/mydata").await);
    let signed = sign_in(&bot).await;
    let (status, record) = signed.get("people/7001").await;
    assert_eq!(status, StatusCode::OK);
    let plain = |line: &str| !line.contains(['&', '<', '>', '"', '\'']);
    let lines: Vec<&str> = mydata.lines().filter(|l| plain(l)).collect();
    assert!(lines.len() > 5, "{mydata}");
    for line in lines {
        assert!(record.contains(line), "{line:?} missing from {record}");
    }
    let (status, confirm) = signed.get("people/7001/erase").await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("id=\"erase-confirm\""), "{confirm}");
    let still = "SELECT COUNT(*) FROM participants WHERE telegram_user_id = ?";
    assert_eq!(
        bot.count(still, 7001).await,
        1,
        "opening the page erases nothing"
    );
    // Without the session's CSRF token nothing happens.
    let refused = signed.post("people/7001/erase", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(bot.count(still, 7001).await, 1);
    let csrf = signed.csrf().await;
    let erased = signed.post("people/7001/erase", &[("csrf", &csrf)]).await;
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    assert_eq!(erased.headers()[LOCATION], "/people?erased=1");
    for table in ["participants", "users", "dialogues", "enrolments"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE telegram_user_id = ?");
        assert_eq!(bot.count(&sql, 7001).await, 0, "{table}");
    }
    assert_eq!(audit_count(&bot, "person_erased").await, 1);
    let (actor, detail): (i64, String) =
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'person_erased'")
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(actor, 900, "the coordinator who erased");
    assert!(
        !detail.contains("Pekka") && !detail.contains("7001"),
        "{detail}"
    );
    let (_, list) = signed.get("people?erased=1").await;
    assert!(list.contains("Henkilön tiedot poistettiin."), "{list}");
    let (status, _) = signed.get("people/7001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Twice is no error: there is no one left to erase.
    let again = signed.post("people/7001/erase", &[("csrf", &csrf)]).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_participants_download_is_an_xlsx_in_the_coordinators_language_with_real_dates() {
    let bot = TestBot::start_with(&console_settings()).await;
    register_father(&bot, 7001, "Pekka Virtanen").await;
    register_professional(&bot, 9001, "Anna Laine").await;
    let signed = sign_in(&bot).await;
    let (status, kind, bytes) = download(&signed, "downloads/participants.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        kind,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let rows = sheet(bytes.clone());
    let headers: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(headers[..3], ["Telegram-tunnus", "Rooli", "Nimi"]);
    assert_eq!(headers.last().unwrap(), "Ilmoittautunut");
    assert_eq!(rows.len(), 3, "a header and two people");
    let pekka = rows
        .iter()
        .find(|r| text(&r[2]) == "Pekka Virtanen")
        .expect("Pekka");
    assert_eq!(text(&pekka[0]), "7001");
    assert_eq!(text(&pekka[1]), "Isä");
    assert!(matches!(pekka[13], Data::DateTime(_)), "{:?}", pekka[13]);
    assert!(matches!(pekka[11], Data::DateTime(_)), "{:?}", pekka[11]);
    assert_eq!(text(&pekka[12]), "kyllä");
    // One series: only its participants.
    let (_, _, oulu) = download(&signed, "downloads/participants.xlsx?series=oulu-2024").await;
    let oulu = sheet(oulu);
    assert_eq!(oulu.len(), 2);
    assert_eq!(text(&oulu[1][2]), "Anna Laine");
    assert_eq!(audit_count(&bot, "participants_export").await, 2);
    // In English once the coordinator switches.
    let csrf = signed.csrf().await;
    signed
        .post(
            "language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "people")],
        )
        .await;
    let (_, _, english) = download(&signed, "downloads/participants.xlsx").await;
    let english = sheet(english);
    assert_eq!(text(&english[0][2]), "Name");
    let (status, _, _) = download(&signed, "downloads/participants.xlsx?series=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // LibreOffice, where installed, opens it as it is and shows the dates in Finnish format.
    if let Some(office) = ["libreoffice", "soffice"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok()
    }) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("participants.xlsx");
        std::fs::write(&file, &bytes).unwrap();
        // As shown: comma-separated, quoted texts, UTF-8 (76), formatted (1).
        let done = std::process::Command::new(office)
            .args([
                "--headless",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76,1",
                "--outdir",
            ])
            .arg(dir.path())
            .arg(&file)
            .output()
            .unwrap();
        assert!(done.status.success(), "{done:?}");
        let csv = std::fs::read_to_string(dir.path().join("participants.csv")).unwrap();
        let pekka = csv
            .lines()
            .find(|l| l.contains("\"Pekka Virtanen\""))
            .unwrap_or_else(|| panic!("{csv}"));
        // Registered at, as Finnish Excel shows a date and time: 7.12.2026 15.06.
        let shown = pekka.rsplit(',').next().unwrap();
        let (date, time) = shown.split_once(' ').unwrap_or_else(|| panic!("{pekka}"));
        let numbers = |s: &str, n: usize| {
            let parts: Vec<&str> = s.split('.').collect();
            parts.len() == n && parts.iter().all(|p| p.parse::<u32>().is_ok())
        };
        assert!(numbers(date, 3) && numbers(time, 2), "{pekka}");
    }
}

/// Marks one cell of the matrix.
async fn mark(signed: &Signed, csrf: &str, session: &str, user: &str, present: &str) {
    let response = signed
        .post(
            "attendance/oulu-2024/mark",
            &[
                ("csrf", csrf),
                ("session", session),
                ("user", user),
                ("present", present),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

fn documents_to(bot: &TestBot, user: i64) -> usize {
    bot.fake
        .sent_to(user)
        .iter()
        .filter(|m| m.kind == SentKind::Document)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attendance_matrix_ticks_cells_shows_who_qualifies_and_issues_the_certificate_once() {
    let bot = TestBot::start_with(&console_settings()).await;
    register_professional(&bot, 9001, "Anna Laine").await;
    let signed = sign_in(&bot).await;
    let (status, matrix) = signed.get("attendance/oulu-2024").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        matrix.contains("Anna Laine") && matrix.contains("ei vielä"),
        "{matrix}"
    );
    assert!(
        matrix.contains("Todistukseen tarvitaan 4 tapaamista 5:stä."),
        "{matrix}"
    );
    let csrf = signed.csrf().await;
    for session in ["oulu-2024-1", "oulu-2024-2", "oulu-2024-3"] {
        mark(&signed, &csrf, session, "9001", "1").await;
    }
    // Ticking twice (a form sent again) does not untick.
    mark(&signed, &csrf, "oulu-2024-3", "9001", "1").await;
    let (_, three) = signed.get("attendance/oulu-2024").await;
    assert!(
        three.contains("3/5") && !three.contains("Lähetä todistus"),
        "{three}"
    );
    mark(&signed, &csrf, "oulu-2024-4", "9001", "1").await;
    mark(&signed, &csrf, "oulu-2024-5", "9001", "1").await;
    mark(&signed, &csrf, "oulu-2024-5", "9001", "0").await;
    let (_, four) = signed.get("attendance/oulu-2024").await;
    assert!(four.contains("4/5") && four.contains("ansaittu"), "{four}");
    // The same rows as the chat's buttons write, marked by the coordinator, each change audited.
    let by_coordinator =
        "SELECT COUNT(*) FROM attendance WHERE telegram_user_id = ? AND marked_by = 900";
    assert_eq!(bot.count(by_coordinator, 9001).await, 4);
    assert_eq!(audit_count(&bot, "attendance_changed").await, 6);
    // Someone not on the list is not marked.
    mark(&signed, &csrf, "oulu-2024-1", "7777", "1").await;
    assert_eq!(bot.count(by_coordinator, 7777).await, 0);

    let issue = signed
        .post(
            "attendance/oulu-2024/certificate",
            &[("csrf", &csrf), ("user", "9001")],
        )
        .await;
    assert_eq!(issue.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        issue.headers()[LOCATION],
        "/attendance/oulu-2024?done=issued#p9001"
    );
    bot.settle().await;
    assert_eq!(documents_to(&bot, 9001), 1);
    assert_eq!(audit_count(&bot, "certificate_issued").await, 1);
    let (_, issued) = signed.get("attendance/oulu-2024?done=issued").await;
    assert!(
        issued.contains("Todistus on matkalla") && issued.contains("Lähetä uudelleen"),
        "{issued}"
    );
    let again = signed
        .post(
            "attendance/oulu-2024/certificate",
            &[("csrf", &csrf), ("user", "9001")],
        )
        .await;
    assert_eq!(
        again.headers()[LOCATION],
        "/attendance/oulu-2024?done=reissued#p9001"
    );
    bot.settle().await;
    assert_eq!(documents_to(&bot, 9001), 2);
    assert_eq!(audit_count(&bot, "certificate_reissued").await, 1);
    // The attendance download: a column per session, 1 where present.
    let (status, _, bytes) = download(&signed, "downloads/attendance.xlsx?series=oulu-2024").await;
    assert_eq!(status, StatusCode::OK);
    let rows = sheet(bytes);
    assert_eq!(text(&rows[0][1]), "Nimi");
    assert!(text(&rows[0][3]).starts_with("19.3. "), "{:?}", rows[0]);
    assert_eq!(
        rows[1][3..8].iter().map(text).collect::<Vec<_>>(),
        ["1", "1", "1", "1", ""]
    );
    assert_eq!(text(&rows[1][8]), "4");
    assert_eq!(text(&rows[1][9]), "kyllä");
}
