//! The research export: one row per research-consented response, stable columns (fixed ones, then one per
//! question id), pseudonyms only, local times; CSV (`;`, UTF-8 with BOM) or JSON, and a codebook CSV beside it.
//! Used by `/export` in chat and by `milava-bot export` on the command line.
use crate::db::surveys::{self as store, StoredResponse};
use crate::db::{DbError, Tx};
use crate::domain::survey::{Answer, QuestionKind, Survey};
use crate::services::csv;
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

/// The columns before the question ids.
pub const FIXED_COLUMNS: [&str; 8] = [
    "response_id",
    "pseudonym",
    "survey_id",
    "survey_version",
    "trigger",
    "series",
    "session",
    "submitted_at",
];

/// Responses that may go to research: the person's current consent (pseudonymous), or the consent given at
/// submission (anonymous). A response whose person used /forget has no link left and is never exported.
pub async fn research_responses(
    tx: &mut Tx,
    survey: &Survey,
    series: Option<&str>,
) -> Result<Vec<StoredResponse>, DbError> {
    let all = store::responses(tx, &survey.id, series, None).await?;
    Ok(all.into_iter().filter(|r| r.research_consent).collect())
}

/// How one answer is written in a cell: Likert 1–5, option codes (several joined with `|`), the text; empty
/// when skipped or not asked.
fn cell(answer: Option<&Answer>) -> String {
    match answer {
        Some(Answer::Likert(n)) => n.to_string(),
        Some(Answer::Single(code)) => code.clone(),
        Some(Answer::Multiple(codes)) => codes.join("|"),
        Some(Answer::Text(text)) => text.clone(),
        Some(Answer::Skipped) | None => String::new(),
    }
}

fn fixed(survey: &Survey, r: &StoredResponse, tz: Tz) -> [String; 8] {
    [
        r.id.to_string(),
        r.pseudonym.clone().unwrap_or_default(),
        survey.id.clone(),
        r.survey_version.to_string(),
        r.trigger_key.clone(),
        r.series_id.clone().unwrap_or_default(),
        r.session_id.clone().unwrap_or_default(),
        r.submitted_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
    ]
}

pub fn csv_file(survey: &Survey, responses: &[StoredResponse], tz: Tz) -> Vec<u8> {
    let mut columns: Vec<&str> = FIXED_COLUMNS.to_vec();
    columns.extend(survey.questions.iter().map(|q| q.id.as_str()));
    let rows: Vec<Vec<String>> = responses
        .iter()
        .map(|r| {
            let mut row = fixed(survey, r, tz).to_vec();
            row.extend(survey.questions.iter().map(|q| cell(r.answers.get(&q.id))));
            row
        })
        .collect();
    csv::table(&columns, &rows)
}

/// JSON: `{"survey_id", "survey_version", "responses": [{fixed columns…, "answers": {question id: value}}]}`;
/// a value is a number (Likert), a code, a list of codes, a text, or null (skipped).
pub fn json_file(survey: &Survey, responses: &[StoredResponse], tz: Tz) -> Vec<u8> {
    let rows: Vec<Value> = responses
        .iter()
        .map(|r| {
            let mut row = Map::new();
            for (column, value) in FIXED_COLUMNS.iter().zip(fixed(survey, r, tz)) {
                let value = match *column {
                    "response_id" => json!(r.id),
                    "survey_version" => json!(r.survey_version),
                    "pseudonym" | "series" | "session" if value.is_empty() => Value::Null,
                    _ => json!(value),
                };
                row.insert(column.to_string(), value);
            }
            let answers: Map<String, Value> = survey
                .questions
                .iter()
                .map(|q| {
                    let value = match r.answers.get(&q.id) {
                        Some(Answer::Likert(n)) => json!(n),
                        Some(Answer::Single(code)) => json!(code),
                        Some(Answer::Multiple(codes)) => json!(codes),
                        Some(Answer::Text(text)) => json!(text),
                        Some(Answer::Skipped) | None => Value::Null,
                    };
                    (q.id.clone(), value)
                })
                .collect();
            row.insert("answers".into(), Value::Object(answers));
            Value::Object(row)
        })
        .collect();
    let file = json!({
        "survey_id": survey.id,
        "survey_version": survey.version,
        "responses": rows,
    });
    let mut bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The codebook: one row per answer code of each question (one row for a text question).
pub fn codebook(survey: &Survey) -> Vec<u8> {
    let columns = [
        "question_id",
        "kind",
        "optional",
        "question_fi",
        "question_en",
        "code",
        "label_fi",
        "label_en",
    ];
    let mut rows = Vec::new();
    for q in &survey.questions {
        let base = |code: String, fi: &str, en: &str| {
            vec![
                q.id.clone(),
                q.kind.as_str().to_string(),
                if q.optional { "1" } else { "0" }.to_string(),
                q.text.fi.clone(),
                q.text.en.clone(),
                code,
                fi.to_string(),
                en.to_string(),
            ]
        };
        match q.kind {
            QuestionKind::Likert => {
                for (n, label) in q.labels.iter().enumerate() {
                    rows.push(base((n + 1).to_string(), &label.fi, &label.en));
                }
            }
            QuestionKind::Single | QuestionKind::Multiple => {
                for option in &q.options {
                    rows.push(base(
                        option.code.clone(),
                        &option.label.fi,
                        &option.label.en,
                    ));
                }
            }
            QuestionKind::Text => rows.push(base(String::new(), "", "")),
        }
    }
    csv::table(&columns, &rows)
}

/// The export's file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Format> {
        match raw {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The data file, its codebook and how many responses it holds.
#[derive(Clone, Debug)]
pub struct ExportFiles {
    pub data: Vec<u8>,
    pub codebook: Vec<u8>,
    pub responses: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no survey '{0}' in the content (see dialogues/surveys/)")]
    UnknownSurvey(String),
    #[error("no series '{0}' in the content (see dialogues/programme.toml)")]
    UnknownSeries(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `milava-bot export`: the research export of one survey (optionally one series), audited as done from the
/// command line (actor 0).
pub async fn export(
    pool: &sqlx::SqlitePool,
    content: &crate::content::Content,
    tz: Tz,
    survey: &str,
    series: Option<&str>,
    format: Format,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ExportFiles, ExportError> {
    let survey = content
        .survey(survey)
        .ok_or_else(|| ExportError::UnknownSurvey(survey.to_string()))?;
    if let Some(id) = series
        && content.series(id).is_none()
    {
        return Err(ExportError::UnknownSeries(id.to_string()));
    }
    let mut tx = crate::db::begin_write(pool).await?;
    let responses = research_responses(&mut tx, survey, series).await?;
    let detail = format!(
        "{}{} (command line): {} responses",
        survey.id,
        series.map(|s| format!(" series {s}")).unwrap_or_default(),
        responses.len()
    );
    crate::db::audit::record(&mut tx, 0, "survey_export", &detail, now).await?;
    tx.commit().await.map_err(DbError::from)?;
    let data = match format {
        Format::Csv => csv_file(survey, &responses, tz),
        Format::Json => json_file(survey, &responses, tz),
    };
    Ok(ExportFiles {
        data,
        codebook: codebook(survey),
        responses: responses.len(),
    })
}

/// Where the codebook goes beside the data file: `results.csv` → `results.codebook.csv`.
pub fn codebook_path(out: &std::path::Path) -> std::path::PathBuf {
    out.with_extension("codebook.csv")
}
