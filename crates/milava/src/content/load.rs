use super::texts::{Texts, flatten};
use super::{Content, ContentError, ContentProblem, validate};
use crate::domain::Flow;
use crate::domain::groups::{CoachingStep, Resource, Theme};
use crate::domain::programme::{PeerGroup, Series};
use crate::domain::reminders::ReminderOffset;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    privacy_version: String,
    #[serde(deserialize_with = "crate::domain::programme::local_date")]
    programme_ends: chrono::NaiveDate,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProgrammeFile {
    #[serde(default)]
    reminders: Reminders,
    #[serde(default)]
    series: Vec<Series>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reminders {
    offsets: Vec<String>,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            offsets: vec!["day_before 16:00".into(), "1h".into()],
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GroupsFile {
    #[serde(default)]
    group: Vec<PeerGroup>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CoachingFile {
    #[serde(default)]
    step: Vec<CoachingStep>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SupportFile {
    #[serde(default)]
    resource: Vec<Resource>,
}

/// One file of the prompt library: `[theme]` and its `[[prompt]]`s.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptFile {
    theme: ThemeHead,
    #[serde(default)]
    prompt: Vec<crate::domain::groups::Prompt>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeHead {
    id: String,
    name: crate::domain::Localized,
}

/// Loads and validates the content in `dir`. Returns every problem found, not just the first.
pub fn load(dir: &Path) -> Result<Content, ContentError> {
    load_with_programme(dir, Path::new("programme.toml"))
}

/// Loads and validates the content in `dir` with the programme file `programme` (relative to `dir`, or
/// absolute) in place of `programme.toml`: `check --programme` validates an exported programme this way.
pub fn load_with_programme(dir: &Path, programme: &Path) -> Result<Content, ContentError> {
    let mut problems = Vec::new();
    let meta: Option<Meta> = parse_file(dir, "content.toml", &mut problems);
    let registration: Option<Flow> = parse_file(dir, "registration.toml", &mut problems);
    let programme_file = programme.to_string_lossy().into_owned();
    let programme: Option<ProgrammeFile> = parse_file(dir, &programme_file, &mut problems);
    let groups: Option<GroupsFile> = parse_file(dir, "groups.toml", &mut problems);
    let coaching: Option<CoachingFile> = parse_file(dir, "coaching.toml", &mut problems);
    let support: Option<SupportFile> = parse_file(dir, "support.toml", &mut problems);
    let themes = load_prompts(dir, &mut problems);
    let fi = load_language_texts(dir, "fi", &mut problems);
    let en = load_language_texts(dir, "en", &mut problems);
    let surveys = super::surveys::load(dir, &mut problems);

    let (
        Some(meta),
        Some(registration),
        Some(programme),
        Some(groups),
        Some(fi),
        Some(en),
        Some(coaching),
        Some(support),
        Some(themes),
    ) = (
        meta,
        registration,
        programme,
        groups,
        fi,
        en,
        coaching,
        support,
        themes,
    )
    else {
        return Err(ContentError(problems));
    };
    let content = Content {
        texts: Texts { fi, en },
        flow_version: registration.fingerprint(),
        registration,
        privacy_version: meta.privacy_version,
        programme_ends: meta.programme_ends,
        series: programme.series,
        season_extra: Default::default(),
        reminder_offsets: Vec::new(),
        groups: groups.group,
        surveys,
        themes,
        coaching: coaching.step,
        support: support.resource,
    };
    let mut content = content;
    for raw in &programme.reminders.offsets {
        match ReminderOffset::parse(raw) {
            Some(offset) if !content.reminder_offsets.contains(&offset) => content.reminder_offsets.push(offset),
            Some(_) => problems.push(ContentProblem {
                code: "",
                file: "programme.toml".into(),
                key: "reminders.offsets".into(),
                problem: format!("'{raw}' is listed twice"),
            }),
            None => problems.push(ContentProblem {
                code: "",
                file: "programme.toml".into(),
                key: "reminders.offsets".into(),
                problem: format!("'{raw}' is not a reminder offset (use \"day_before 16:00\" or a lead time like \"1h\" or \"30m\")"),
            }),
        }
    }
    problems.extend(validate::validate(&content));
    if problems.is_empty() {
        Ok(content)
    } else {
        Err(ContentError(problems))
    }
}

/// The prompt library: every `prompts/*.toml`, in file-name order, one theme per file.
fn load_prompts(dir: &Path, problems: &mut Vec<ContentProblem>) -> Option<Vec<Theme>> {
    let mut themes = Vec::new();
    let mut complete = true;
    for file in toml_files(dir, "prompts") {
        match parse_file::<PromptFile>(dir, &file, problems) {
            Some(parsed) => themes.push(Theme {
                id: parsed.theme.id,
                name: parsed.theme.name,
                prompts: parsed.prompt,
            }),
            None => complete = false,
        }
    }
    complete.then_some(themes)
}

fn read(dir: &Path, file: &str, problems: &mut Vec<ContentProblem>) -> Option<String> {
    match std::fs::read_to_string(dir.join(file)) {
        Ok(text) => Some(text),
        Err(e) => {
            problems.push(ContentProblem {
                code: "",
                file: file.into(),
                key: "-".into(),
                problem: format!("cannot read {} ({e})", dir.join(file).display()),
            });
            None
        }
    }
}

pub(super) fn parse_file<T: DeserializeOwned>(
    dir: &Path,
    file: &str,
    problems: &mut Vec<ContentProblem>,
) -> Option<T> {
    let text = read(dir, file, problems)?;
    match toml::from_str::<T>(&text) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(toml_problem(file, &text, &e));
            None
        }
    }
}

/// A language's texts: `texts/<lang>.toml` plus every `texts/<lang>/*.toml` (one file per feature, in name
/// order). A key may be defined in only one of them.
fn load_language_texts(
    dir: &Path,
    lang: &str,
    problems: &mut Vec<ContentProblem>,
) -> Option<BTreeMap<String, String>> {
    let mut texts = load_texts(dir, &format!("texts/{lang}.toml"), problems)?;
    let mut origin: BTreeMap<String, String> = texts
        .keys()
        .map(|key| (key.clone(), format!("texts/{lang}.toml")))
        .collect();
    let mut complete = true;
    for file in feature_text_files(dir, lang) {
        let Some(more) = load_texts(dir, &file, problems) else {
            complete = false;
            continue;
        };
        for (key, text) in more {
            if let Some(first) = origin.get(&key) {
                problems.push(ContentProblem {
                    code: "",
                    file: file.clone(),
                    key,
                    problem: format!("is already defined in {first}"),
                });
                continue;
            }
            origin.insert(key.clone(), file.clone());
            texts.insert(key, text);
        }
    }
    complete.then_some(texts)
}

/// `texts/<lang>/*.toml`, relative to the content directory, sorted; none when the folder is absent.
fn feature_text_files(dir: &Path, lang: &str) -> Vec<String> {
    toml_files(dir, &format!("texts/{lang}"))
}

/// The `*.toml` files in `folder` (relative to the content directory, sorted), as `folder/name.toml`; none
/// when the folder is absent.
pub(super) fn toml_files(dir: &Path, folder: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| format!("{folder}/{name}"))
        .collect()
}

fn load_texts(
    dir: &Path,
    file: &str,
    problems: &mut Vec<ContentProblem>,
) -> Option<BTreeMap<String, String>> {
    let table: toml::Table = parse_file(dir, file, problems)?;
    let mut texts = BTreeMap::new();
    let mut not_text = Vec::new();
    flatten(&table, "", &mut texts, &mut not_text);
    for key in not_text {
        problems.push(ContentProblem {
            code: "",
            file: file.into(),
            key,
            problem: "must be a text in quotes".into(),
        });
    }
    Some(texts)
}

/// A TOML syntax or shape error, located by line number.
fn toml_problem(file: &str, text: &str, e: &toml::de::Error) -> ContentProblem {
    let line = e
        .span()
        .map(|span| text.get(..span.start).unwrap_or(text).matches('\n').count() + 1);
    let message = e.message().trim().to_string();
    ContentProblem {
        code: "",
        file: file.into(),
        key: line
            .map(|l| format!("line {l}"))
            .unwrap_or_else(|| "-".into()),
        problem: format!("malformed TOML: {message}"),
    }
}
