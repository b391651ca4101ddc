//! The research export: one row per research-consented response, stable columns (fixed ones, then one per
//! question id), pseudonyms only, local times; CSV (`;`, UTF-8 with BOM) or JSON, and a codebook CSV beside it.
//! Used by `/export` in chat (coarsened: see `Detail`) and by `milava-bot export` on the command line.
use crate::content::Content;
use crate::db::surveys::{self as store, StoredResponse};
use crate::db::{DbError, Tx};
use crate::domain::Lang;
use crate::domain::survey::{Answer, QuestionKind, Survey};
use crate::services::csv;
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

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

/// How detailed the rows are. The command line's export is `Full`: whoever can run it can read the database
/// file anyway. The chat's `/export` is coarsened, so that with `/participants` a coordinator cannot tell who
/// wrote a row: the trigger without its ids, the submission date without the time, and the series and session
/// cells only where that scope may be shown by the same rule as `/results` (`anonymity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    Full,
    InChat {
        min: usize,
        /// The scopes shown (see `anonymity::shown_scopes`).
        shown: BTreeSet<String>,
    },
}

impl Detail {
    pub fn in_chat(responses: &[StoredResponse], min: usize) -> Detail {
        let shown = super::anonymity::shown_scopes(
            responses
                .iter()
                .map(|r| (r.series_id.as_deref(), r.session_id.as_deref())),
            min,
        );
        Detail::InChat { min, shown }
    }

    /// Whether there are too few responses to export at all (in chat).
    pub fn withholds_all(&self, responses: usize) -> bool {
        match self {
            Detail::Full => false,
            Detail::InChat { shown, .. } => responses > 0 && !shown.contains(super::anonymity::ALL),
        }
    }

    fn scope(&self, id: Option<&String>) -> String {
        match (self, id) {
            (_, None) => String::new(),
            (Detail::Full, Some(id)) => id.clone(),
            (Detail::InChat { shown, .. }, Some(id)) if shown.contains(id) => id.clone(),
            (Detail::InChat { .. }, Some(_)) => String::new(),
        }
    }
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

fn fixed(survey: &Survey, r: &StoredResponse, tz: Tz, detail: &Detail) -> [String; 8] {
    let (trigger, time_format) = match detail {
        Detail::Full => (r.trigger_key.clone(), "%Y-%m-%d %H:%M"),
        Detail::InChat { .. } => (
            r.trigger_key
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string(),
            "%Y-%m-%d",
        ),
    };
    [
        r.id.to_string(),
        r.pseudonym.clone().unwrap_or_default(),
        survey.id.clone(),
        r.survey_version.to_string(),
        trigger,
        detail.scope(r.series_id.as_ref()),
        detail.scope(r.session_id.as_ref()),
        r.submitted_at
            .with_timezone(&tz)
            .format(time_format)
            .to_string(),
    ]
}

pub fn csv_file(survey: &Survey, responses: &[StoredResponse], tz: Tz, detail: &Detail) -> Vec<u8> {
    let mut columns: Vec<&str> = FIXED_COLUMNS.to_vec();
    columns.extend(survey.questions.iter().map(|q| q.id.as_str()));
    let rows: Vec<Vec<String>> = responses
        .iter()
        .map(|r| {
            let mut row = fixed(survey, r, tz, detail).to_vec();
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
            for (column, value) in FIXED_COLUMNS
                .iter()
                .zip(fixed(survey, r, tz, &Detail::Full))
            {
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

/// The codebook: one row per answer code of each question (one row for a text question), then one row per
/// fixed column (kind `column`) saying what it holds in this export.
pub fn codebook(content: &Content, survey: &Survey, detail: &Detail) -> Vec<u8> {
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
    let (variant, min) = match detail {
        Detail::Full => ("", String::new()),
        Detail::InChat { min, .. } => ("_chat", min.to_string()),
    };
    for column in FIXED_COLUMNS {
        let coarsened = matches!(column, "trigger" | "series" | "session" | "submitted_at");
        let key = format!(
            "survey_anonymity.column_{column}{}",
            if coarsened { variant } else { "" }
        );
        let describe = |lang| content.fill(lang, &key, &[("min", &min)]);
        rows.push(vec![
            column.to_string(),
            "column".to_string(),
            String::new(),
            describe(Lang::Fi),
            describe(Lang::En),
            String::new(),
            String::new(),
            String::new(),
        ]);
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

/// Who asks for an export, for its audit line: the command line (actor 0) or a coordinator in the console.
#[derive(Clone, Copy, Debug)]
pub struct Requester<'a> {
    pub actor: i64,
    pub via: &'a str,
}

impl Requester<'static> {
    pub const COMMAND_LINE: Requester<'static> = Requester {
        actor: 0,
        via: "command line",
    };
}

/// `milava-bot export` and the console's survey downloads: the research export of one survey (optionally one
/// series), audited with who asked.
#[allow(clippy::too_many_arguments)]
pub async fn export(
    pool: &crate::db::Db,
    content: &crate::content::Content,
    tz: Tz,
    survey: &str,
    series: Option<&str>,
    format: Format,
    now: chrono::DateTime<chrono::Utc>,
    who: Requester<'_>,
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
        "{}{} ({}): {} responses",
        survey.id,
        series.map(|s| format!(" series {s}")).unwrap_or_default(),
        who.via,
        responses.len()
    );
    crate::db::audit::record(&mut tx, who.actor, "survey_export", &detail, now).await?;
    tx.commit().await.map_err(DbError::from)?;
    let data = match format {
        Format::Csv => csv_file(survey, &responses, tz, &Detail::Full),
        Format::Json => json_file(survey, &responses, tz),
    };
    Ok(ExportFiles {
        data,
        codebook: codebook(content, survey, &Detail::Full),
        responses: responses.len(),
    })
}

/// Where the codebook goes beside the data file: `results.csv` → `results.codebook.csv`.
pub fn codebook_path(out: &std::path::Path) -> std::path::PathBuf {
    out.with_extension("codebook.csv")
}
