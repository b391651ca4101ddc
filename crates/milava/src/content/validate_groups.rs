//! `check` for peer groups (schedule, facilitators, plan, rules), the prompt library, help resources and the
//! coaching path.
use super::Content;
use super::validate::{MAX_TEXT_CHARS, Report};
use crate::domain::callback::is_token;
use crate::domain::groups::IdValue;
use crate::domain::schedule::LocalSchedule;
use crate::domain::{Lang, Localized};
use std::collections::HashSet;

type Problems = Report;

impl Report {
    /// Both languages present, not empty, within Telegram's limit.
    fn text(&mut self, file: &str, at: &str, text: &Localized) {
        for lang in Lang::ALL {
            let value = text.get(lang);
            if value.trim().is_empty() {
                self.add(
                    file,
                    at,
                    format!("the {} text is missing or empty", lang.code()),
                );
            }
            let chars = value.chars().count();
            if chars > MAX_TEXT_CHARS {
                self.add(
                    file,
                    at,
                    format!(
                        "the {} text is {chars} characters; Telegram allows {MAX_TEXT_CHARS}",
                        lang.code()
                    ),
                );
            }
        }
    }

    fn id(&mut self, file: &str, at: &str, id: &str, seen: &mut HashSet<String>) {
        if !is_token(id) {
            self.add(file, at, "ids use a-z, 0-9, _ and - (at most 48)");
        }
        if !seen.insert(id.to_string()) {
            self.add(file, at, "duplicate id");
        }
    }
}

pub(super) fn check(content: &Content, report: &mut Report) {
    check_prompts(content, report);
    check_groups(content, report);
    check_support(content, report);
    check_coaching(content, report);
}

fn check_prompts(content: &Content, p: &mut Problems) {
    let mut theme_ids = HashSet::new();
    let mut prompt_ids = HashSet::new();
    for theme in &content.themes {
        let file = format!("prompts (theme {})", theme.id);
        p.id(
            &file,
            &format!("theme {}", theme.id),
            &theme.id,
            &mut theme_ids,
        );
        p.text(&file, &format!("theme {}.name", theme.id), &theme.name);
        if theme.prompts.is_empty() {
            p.add(&file, format!("theme {}", theme.id), "has no prompts");
        }
        for prompt in &theme.prompts {
            let at = format!("prompt {}", prompt.id);
            p.id(&file, &at, &prompt.id, &mut prompt_ids);
            p.text(&file, &format!("{at}.text"), &prompt.text);
            if let Some(follow_up) = &prompt.follow_up {
                p.text(&file, &format!("{at}.follow_up"), follow_up);
            }
        }
    }
    for id in &prompt_ids {
        if theme_ids.contains(id) {
            p.add(
                "prompts",
                format!("prompt {id}"),
                "has the same id as a theme",
            );
        }
    }
}

fn check_groups(content: &Content, p: &mut Problems) {
    const FILE: &str = "groups.toml";
    let mut fallbacks: HashSet<Lang> = HashSet::new();
    for group in &content.groups {
        let at = format!("group {}", group.id);
        if group.code == crate::domain::groups::HELP_NOW_PAYLOAD {
            p.add(
                FILE,
                format!("{at}.code"),
                "is reserved for the help resources' link",
            );
        }
        for f in &group.facilitators {
            if f.id().is_none() {
                let shown = match f {
                    IdValue::Number(n) => n.to_string(),
                    IdValue::Text(t) => format!("\"{t}\""),
                };
                p.add(
                    FILE,
                    format!("{at}.facilitators"),
                    format!("{shown} is not a Telegram user id (a positive number without quotes)"),
                );
            }
        }
        match &group.schedule {
            Some(expr) => {
                if let Err(e) = LocalSchedule::parse(expr) {
                    p.add(FILE, format!("{at}.schedule"), e);
                }
                if group.plan.is_empty() {
                    p.add(
                        FILE,
                        format!("{at}.plan"),
                        "has a schedule but no prompt plan",
                    );
                }
            }
            None if !group.plan.is_empty() => p.add(
                FILE,
                format!("{at}.schedule"),
                "missing: the plan is posted on a schedule (e.g. \"0 19 * * Tue\")",
            ),
            None => {}
        }
        for entry in &group.plan {
            let known =
                content.themes.iter().any(|t| &t.id == entry) || content.prompt(entry).is_some();
            if !known {
                p.add(
                    FILE,
                    format!("{at}.plan"),
                    format!("'{entry}' is neither a theme nor a prompt id in prompts/"),
                );
            }
        }
        match &group.rules {
            Some(rules) => p.text(FILE, &format!("{at}.rules"), rules),
            None => p.add(
                FILE,
                format!("{at}.rules"),
                "missing: every group needs its rules in fi and en",
            ),
        }
        if group.fallback && !fallbacks.insert(group.language) {
            p.add(
                FILE,
                format!("{at}.fallback"),
                "only one group per language may be the fallback group",
            );
        }
    }
}

fn check_support(content: &Content, p: &mut Problems) {
    const FILE: &str = "support.toml";
    let mut ids = HashSet::new();
    for resource in &content.support {
        let at = format!("resource {}", resource.id);
        p.id(FILE, &at, &resource.id, &mut ids);
        p.text(FILE, &format!("{at}.name"), &resource.name);
        if let Some(note) = &resource.note {
            p.text(FILE, &format!("{at}.note"), note);
        }
        if resource.contact.trim().is_empty() {
            p.add(FILE, format!("{at}.contact"), "is empty");
        }
    }
    if !content.support.iter().any(|r| r.contact.trim() == "112") {
        p.add(
            FILE,
            "resource",
            "the emergency number 112 must be listed (contact = \"112\")",
        );
    }
}

fn check_coaching(content: &Content, p: &mut Problems) {
    const FILE: &str = "coaching.toml";
    let mut ids = HashSet::new();
    for step in &content.coaching {
        let at = format!("step {}", step.id);
        p.id(FILE, &at, &step.id, &mut ids);
        if !content.themes.iter().any(|t| t.id == step.theme) {
            p.add(
                FILE,
                format!("{at}.theme"),
                format!(
                    "unknown theme '{}' (themes are the ids in prompts/)",
                    step.theme
                ),
            );
        }
        p.text(FILE, &format!("{at}.title"), &step.title);
        p.text(FILE, &format!("{at}.text"), &step.text);
        p.text(FILE, &format!("{at}.question"), &step.question);
    }
    if content.coaching.is_empty() {
        p.add(FILE, "step", "the coaching path has no steps");
    }
}
