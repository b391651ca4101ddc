//! A survey's free-text answers as a table (the console's `.xlsx` download): one row per answer, no names or
//! Telegram ids. Only what the anonymity rule shows: nothing while "all responses" is withheld, and a
//! response's series and session cells only where that scope is shown (`anonymity`), as in the export.
use super::anonymity;
use crate::content::Content;
use crate::db::surveys::StoredResponse;
use crate::documents::table::{Cell, Table};
use crate::domain::Lang;
use crate::domain::survey::{Answer, QuestionKind, Survey};
use std::collections::BTreeSet;

/// The free-text answers of `responses` (every response to `survey`), question by question in the survey's
/// order. `headers`: question, answer, series, session in the reader's language. None while "all" is withheld.
pub fn table(
    content: &Content,
    lang: Lang,
    survey: &Survey,
    responses: &[StoredResponse],
    shown: &BTreeSet<String>,
    headers: [String; 4],
) -> Option<Table> {
    if !shown.contains(anonymity::ALL) {
        return None;
    }
    let place = |id: Option<&str>, name: &dyn Fn(&str) -> Option<String>| {
        id.filter(|id| shown.contains(*id))
            .and_then(name)
            .map_or(Cell::Empty, Cell::Text)
    };
    let series_name = |id: &str| content.series(id).map(|s| s.name.get(lang).to_string());
    let session_name = |id: &str| {
        content.session(id).map(|(_, s)| {
            format!(
                "{} {}",
                crate::services::present::date(s.start.date()),
                s.title.get(lang)
            )
        })
    };
    let mut rows = Vec::new();
    for (i, q) in survey.questions.iter().enumerate() {
        if q.kind != QuestionKind::Text {
            continue;
        }
        for r in responses {
            let Some(Answer::Text(text)) = r.answers.get(&q.id) else {
                continue;
            };
            rows.push(vec![
                Cell::Text(format!("{}. {}", i + 1, q.text.get(lang))),
                Cell::Text(text.clone()),
                place(r.series_id.as_deref(), &series_name),
                place(r.session_id.as_deref(), &session_name),
            ]);
        }
    }
    Some(Table {
        headers: headers.to_vec(),
        rows,
    })
}
