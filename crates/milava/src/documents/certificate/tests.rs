//! PDFs are checked with poppler's `pdftotext` (Debian package poppler-utils): what a reader extracts is what
//! the certificate says. The layout itself is checked for overflow directly.
use super::*;
use crate::documents::DocumentError;
use std::path::PathBuf;
use std::process::Command;

fn content() -> Content {
    crate::content::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/dialogues"),
    )
    .unwrap()
}

/// The day `series` ended (its certificates' date).
fn ended(series: &Series) -> NaiveDate {
    series.last_end().unwrap().date()
}

/// The text poppler extracts from the PDF, with runs of white space made single spaces and line breaks
/// after hyphens undone (the layout may break "Öberg-" / "Mäkelä").
fn extract(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("todistus.pdf");
    std::fs::write(&path, pdf).unwrap();
    // -layout keeps a hyphen at the end of a line (the default mode would drop it).
    let output = Command::new("pdftotext")
        .arg("-layout")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext is needed for these tests: apt-get install poppler-utils");
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("- ", "-")
}

fn assert_contains(text: &str, wanted: &str) {
    assert!(
        text.contains(wanted),
        "the PDF text lacks {wanted:?}; it is:\n{text}"
    );
}

/// Every piece of text lies inside the margins and above the bottom of its page.
fn assert_fits(data: &CertificateData) -> usize {
    let fonts = Fonts::load().unwrap();
    let pages = layout(data, &fonts);
    for items in &pages {
        for item in items {
            if let Item::Text {
                x,
                baseline,
                text,
                style,
            } = item
            {
                let right = x + fonts.width(text, style);
                assert!(*x >= MARGIN - 0.01, "{text:?} starts at {x}");
                assert!(
                    right <= PAGE_WIDTH - MARGIN + 0.01,
                    "{text:?} ends at {right}, past the margin at {}",
                    PAGE_WIDTH - MARGIN
                );
                assert!(
                    *baseline <= BOTTOM + 0.01,
                    "{text:?} is below the page bottom"
                );
            }
        }
    }
    pages.len()
}

fn finnish() -> CertificateData {
    let content = content();
    let series = content.series("oulu-2024").unwrap();
    let attended: Vec<&Session> = series.sessions.iter().rev().collect();
    CertificateData::from_content(
        &content,
        Lang::Fi,
        "  Äijä Öberg-Mäkelä ",
        series,
        &attended,
        ended(series),
    )
}

#[test]
fn a_finnish_certificate_says_who_attended_what() {
    let data = finnish();
    assert_eq!(data.name, "Äijä Öberg-Mäkelä");
    assert_eq!(data.title, "Osallistumistodistus");
    assert_eq!(data.series, "Oulu, kevät 2024");
    assert_eq!(data.sessions.len(), 5);
    assert_eq!(data.sessions[0].date, "19.3.2024", "sessions in time order");
    assert_eq!(
        data.sessions[0].title,
        "Aloitustapaaminen – Isyyden voimavarat"
    );
    assert_eq!(data.place_date, "Oulussa 14.5.2024");
    assert_eq!(data.hours, "Osallistumisen laajuus: 20 tuntia");

    let pdf = certificate(&data).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = extract(&pdf);
    for wanted in [
        "Osallistumistodistus",
        "Äijä Öberg-Mäkelä",
        "Oulu, kevät 2024",
        "19.3.2024",
        "3.4.2024",
        "9.4.2024",
        "23.4.2024",
        "14.5.2024",
        "Aloitustapaaminen – Isyyden voimavarat",
        "Verkkotapaaminen 1 – Kuormitustekijät",
        "Verkkotapaaminen 2 – Vanhemmuuden vahvistaminen",
        "Verkkotapaaminen 3 – Menetelmien kokeilu omassa työssä",
        "Päätöstapaaminen – Hyvät isätyön käytännöt eteenpäin",
        "(5/5)",
        "Oulussa 14.5.2024",
        "Oulun ammattikorkeakoulu (päätoteuttaja)",
        "Lapin ammattikorkeakoulu",
        "Diakonia-ammattikorkeakoulu",
        "Kajaanin ammattikorkeakoulu",
        "Oulun yliopisto",
        "Hanke on Euroopan sosiaalirahaston rahoittama. Rahoituksen on myöntänyt ELY-keskus.",
        "1.8.2023–31.7.2025",
        "Osallistumisen laajuus: 20 tuntia",
        "Juha Alakulppi",
        "projektipäällikkö, MILAVA – Mies, lapsi ja vanhemmuus -hanke",
    ] {
        assert_contains(&text, wanted);
    }
    assert_eq!(assert_fits(&data), 1, "five sessions fit on one page");
    assert!(
        !text.contains("botin"),
        "no note that a bot drew it up: {text}"
    );
}

#[test]
fn the_rovaniemi_series_is_certified_in_rovaniemi_on_the_day_it_ended() {
    let content = content();
    let series = content.series("rovaniemi-2024").unwrap();
    let attended: Vec<&Session> = series.sessions.iter().take(4).collect();
    let fi = CertificateData::from_content(
        &content,
        Lang::Fi,
        "Liisa Laine",
        series,
        &attended,
        ended(series),
    );
    assert_eq!(fi.place_date, "Rovaniemellä 15.5.2024");
    assert_eq!(fi.hours, "Osallistumisen laajuus: 16 tuntia");
    assert_eq!(fi.issuer, "Oulun ammattikorkeakoulu");
    let text = extract(&certificate(&fi).unwrap());
    assert_contains(&text, "Rovaniemellä 15.5.2024");
    assert!(!text.contains("Oulussa"), "{text}");
}

#[test]
fn hours_are_written_as_people_write_them() {
    let content = content();
    for (lang, minutes, shown) in [
        (Lang::Fi, 16 * 60, "16 tuntia"),
        (Lang::Fi, 60, "1 tunti"),
        (Lang::Fi, 8 * 60 + 30, "8,5 h"),
        (Lang::Fi, 8 * 60 + 45, "8,75 h"),
        (Lang::En, 16 * 60, "16 hours"),
        (Lang::En, 60, "1 hour"),
        (Lang::En, 8 * 60 + 30, "8.5 hours"),
    ] {
        assert_eq!(hours(&content, lang, minutes), shown, "{lang:?} {minutes}");
    }
}

#[test]
fn an_english_certificate_with_long_texts_wraps_inside_the_page() {
    let content = content();
    let series = content.series("rovaniemi-2024").unwrap();
    let attended: Vec<&Session> = series.sessions.iter().take(4).collect();
    let long_name = "Maximilian Alexander Johannes Öberg-Mäkelä-Väisänen-Heikkilä-Kauppinen";
    let mut data = CertificateData::from_content(
        &content,
        Lang::En,
        long_name,
        series,
        &attended,
        ended(series),
    );
    assert_eq!(data.sessions_heading, "Sessions attended (4 of 5)");
    data.sessions[1].title = "A very long session title that certainly does not fit on one line of the \
        certificate: how professionals can support fathers in everyday family life, in child health clinics \
        and in early childhood education"
        .into();
    data.sessions[2].title = "Supercalifragilisticexpialidocious".repeat(4);

    assert_eq!(assert_fits(&data), 1);
    let fonts = Fonts::load().unwrap();
    assert!(
        fonts.wrap(long_name, &NAME, CONTENT_WIDTH).len() > 1,
        "the long name is on more than one line"
    );

    let pdf = certificate(&data).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = extract(&pdf);
    for wanted in [
        "Certificate of participation",
        long_name,
        "Rovaniemi, spring 2024",
        "13.3.2024",
        "27.3.2024",
        "11.4.2024",
        "24.4.2024",
        "Kick-off meeting – Resources of fatherhood",
        "how professionals can support fathers in everyday family life",
        "Online meeting 3 – Trying the methods in your own work",
        "Oulu University of Applied Sciences (lead partner)",
        "funded by the European Social Fund",
        "Rovaniemi, 15.5.2024",
        "Hours attended: 16 hours",
        "Oulu University of Applied Sciences",
        "Project Manager",
    ] {
        assert_contains(&text, wanted);
    }
    assert!(
        !text.contains("Closing meeting"),
        "a session not attended is not listed"
    );
    // The word longer than a line is broken between characters, and nothing of it is lost.
    assert_contains(
        &text.replace(' ', ""),
        &"Supercalifragilisticexpialidocious".repeat(4),
    );
}

#[test]
fn a_long_list_continues_on_another_page_with_the_closing_block_last() {
    let mut data = finnish();
    let one = data.sessions[0].clone();
    data.sessions = (1..=30)
        .map(|n| CertificateSession {
            date: format!("{n}.3.2024"),
            title: format!("{} {n}", one.title),
        })
        .collect();
    let pages = assert_fits(&data);
    assert!(pages >= 2, "30 sessions take more than one page");
    let fonts = Fonts::load().unwrap();
    let laid_out = layout(&data, &fonts);
    let last_page_texts: Vec<&str> = laid_out
        .last()
        .unwrap()
        .iter()
        .filter_map(|item| match item {
            Item::Text { text, .. } => Some(text.as_str()),
            Item::Rule { .. } => None,
        })
        .collect();
    assert!(last_page_texts.contains(&"Oulussa 14.5.2024"));
    let text = extract(&certificate(&data).unwrap());
    assert_contains(&text, "Aloitustapaaminen – Isyyden voimavarat 30");
}

#[test]
fn a_certificate_needs_a_name() {
    let mut data = finnish();
    data.name = "  ".into();
    assert!(matches!(
        certificate(&data),
        Err(DocumentError::Empty("participant's name"))
    ));
}

#[test]
fn words_break_at_spaces_then_hyphens_then_anywhere() {
    let fonts = Fonts::load().unwrap();
    let style = Style::new(false, 11.0, INK, 1.3);
    let text = "Diakonia-ammattikorkeakoulu ja Kajaanin ammattikorkeakoulu";
    let narrow = fonts.width("Diakonia-ammattikorkeakoulu ja", &style);
    let lines = fonts.wrap(text, &style, narrow);
    assert_eq!(
        lines,
        vec![
            "Diakonia-ammattikorkeakoulu ja",
            "Kajaanin ammattikorkeakoulu"
        ]
    );
    let narrower = fonts.width("Diakonia-ammatti", &style);
    let lines = fonts.wrap(text, &style, narrower);
    assert_eq!(lines[0], "Diakonia-");
    for line in &lines {
        assert!(fonts.width(line, &style) <= narrower, "{line:?}");
    }
    assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    assert_eq!(
        fonts.wrap("Rivi 1\nRivi 2", &style, 500.0),
        vec!["Rivi 1", "Rivi 2"]
    );
}
