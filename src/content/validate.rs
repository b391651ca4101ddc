//! Content checks: everything `milava-bot check` reports. Each check adds problems; none stops early.
use super::texts::placeholders;
use super::{Content, ContentProblem};
use crate::domain::callback::{CallbackData, MAX_CALLBACK_BYTES, is_token};
use crate::domain::fields::FieldShape;
use crate::domain::flow::DONE;
use crate::domain::validate::is_deep_link_payload;
use crate::domain::{Field, Lang, Localized, StepKind};
use std::collections::{BTreeSet, HashSet};

/// Telegram's limit for a message text.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longer button labels are cut off on phones.
pub const MAX_BUTTON_CHARS: usize = 30;

/// Text keys the code uses directly (flow keys are checked from the flow itself).
pub const CODE_KEYS: &[&str] = &[
    "start.welcome",
    "start.deep_link_series",
    "start.deep_link_group",
    "start.unknown_code",
    "start.already_registered",
    "start.resume",
    "start.flow_changed",
    "registration.declined",
    "registration.done.father",
    "registration.done.professional",
    "registration.done.other",
    "problem.empty",
    "problem.too_short",
    "problem.too_long",
    "problem.not_a_name",
    "problem.bad_email",
    "problem.bad_characters",
    "problem.need_button",
    "problem.need_text",
    "problem.stale_button",
    "problem.media",
    "problem.unknown_command",
    "problem.edited",
    "problem.button_expired",
    "problem.save_failed",
    "problem.not_registered",
    "problem.idle",
    "help.text",
    "help.coordinator",
    "privacy.notice",
    "privacy.show",
    "privacy.consent_given",
    "privacy.consent_none",
    "privacy.research_yes",
    "privacy.research_no",
    "language.question",
    "language.changed",
    "profile.title",
    "profile.edit_hint",
    "profile.updated",
    "profile.empty_value",
    "mydata.title",
    "mydata.telegram",
    "mydata.language",
    "mydata.registered",
    "mydata.consent",
    "mydata.research",
    "mydata.in_progress",
    "mydata.nothing",
    "mydata.yes",
    "mydata.no",
    "forget.question",
    "forget.done",
    "forget.kept",
    "cancel.done",
    "cancel.edit",
    "cancel.nothing",
    "coordinator.refused",
    "coordinator.stats_title",
    "coordinator.stats_roles",
    "coordinator.stats_series",
    "coordinator.stats_areas",
    "coordinator.stats_line",
    "coordinator.stats_in_progress",
    "coordinator.stats_unreachable",
    "coordinator.participants_caption",
    "button.consent_accept",
    "button.consent_decline",
    "button.forget_yes",
    "button.forget_no",
    "button.language_fi",
    "button.language_en",
    "button.edit_prefix",
    "certificate.document.title",
    "certificate.document.lead_in",
    "certificate.document.sessions_heading",
    "certificate.document.session",
    "certificate.document.place_date",
    "certificate.document.organiser",
    "certificate.document.footer",
    "calendar.summary",
    "calendar.description",
    "calendar.description_no_theme",
    "calendar.online_no_link",
];

struct Report(Vec<ContentProblem>);

impl Report {
    fn add(&mut self, file: &str, key: impl Into<String>, problem: impl Into<String>) {
        self.0.push(ContentProblem {
            file: file.into(),
            key: key.into(),
            problem: problem.into(),
        });
    }
}

pub fn validate(content: &Content) -> Vec<ContentProblem> {
    let mut report = Report(Vec::new());
    check_texts(content, &mut report);
    check_flow(content, &mut report);
    check_programme(content, &mut report);
    check_groups(content, &mut report);
    if content.privacy_version.trim().is_empty() {
        report.add("content.toml", "privacy_version", "must not be empty");
    }
    report.0
}

fn text_file(lang: Lang) -> String {
    format!("texts/{}.toml", lang.code())
}

fn check_texts(content: &Content, report: &mut Report) {
    let texts = &content.texts;
    for (lang, other) in [(Lang::Fi, Lang::En), (Lang::En, Lang::Fi)] {
        for (key, text) in texts.of(lang) {
            match texts.of(other).get(key) {
                None => report.add(
                    &text_file(other),
                    key,
                    format!("missing (present in {})", text_file(lang)),
                ),
                Some(other_text)
                    if lang == Lang::Fi && placeholders(text) != placeholders(other_text) =>
                {
                    report.add(
                        &text_file(other),
                        key,
                        format!(
                            "placeholders {:?} differ from {:?} in {}",
                            placeholders(other_text),
                            placeholders(text),
                            text_file(lang)
                        ),
                    )
                }
                Some(_) => {}
            }
            if text.trim().is_empty() {
                report.add(&text_file(lang), key, "is empty");
            }
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                report.add(
                    &text_file(lang),
                    key,
                    format!("is {chars} characters; Telegram allows {MAX_TEXT_CHARS}"),
                );
            }
            if key.starts_with("button.") {
                check_label(report, &text_file(lang), key, text);
            }
        }
    }
    let field_keys = Field::ALL
        .iter()
        .map(|f| format!("profile.field.{}", f.name()));
    let command_keys = crate::domain::commands::USER_COMMANDS
        .iter()
        .chain(crate::domain::commands::COORDINATOR_COMMANDS)
        .map(|c| format!("commands.{c}"));
    let used = CODE_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(field_keys)
        .chain(command_keys);
    for key in used {
        for lang in Lang::ALL {
            if !texts.has(lang, &key) {
                report.add(&text_file(lang), &key, "missing (the bot uses this text)");
            }
        }
    }
}

fn check_label(report: &mut Report, file: &str, key: &str, label: &str) {
    let chars = label.chars().count();
    if chars > MAX_BUTTON_CHARS {
        report.add(
            file,
            key,
            format!("button label is {chars} characters; keep it at most {MAX_BUTTON_CHARS}"),
        );
    }
}

/// A text key referenced from a structural file must exist in both languages and, for labels, be short.
fn check_key_ref(
    content: &Content,
    report: &mut Report,
    file: &str,
    at: &str,
    key: &str,
    is_label: bool,
) {
    for lang in Lang::ALL {
        match content.texts.of(lang).get(key) {
            None => report.add(
                file,
                at,
                format!(
                    "refers to text {key}, which is missing in {}",
                    text_file(lang)
                ),
            ),
            Some(text) if is_label => check_label(report, &text_file(lang), key, text),
            Some(_) => {}
        }
    }
}

fn check_flow(content: &Content, report: &mut Report) {
    const FILE: &str = "registration.toml";
    let flow = &content.registration;
    let ids: HashSet<&str> = flow.steps.iter().map(|s| s.id.as_str()).collect();
    if flow.step(&flow.start).is_none() {
        report.add(FILE, "start", format!("unknown step id '{}'", flow.start));
    }
    let mut seen = HashSet::new();
    for step in &flow.steps {
        let at = format!("step {}", step.id);
        if !seen.insert(step.id.as_str()) {
            report.add(FILE, &at, "duplicate step id");
        }
        if !is_token(&step.id) || step.id == DONE {
            report.add(
                FILE,
                &at,
                "step ids use a-z, 0-9, _ and - (at most 48), and 'done' is reserved",
            );
        }
        check_key_ref(
            content,
            report,
            FILE,
            &format!("{at}.question"),
            &step.question,
            false,
        );
        let Some(field) = step.field() else {
            report.add(
                FILE,
                format!("{at}.field"),
                format!("unknown field '{}'", step.field),
            );
            continue;
        };
        let kind_fits = matches!(
            (step.kind, field.shape()),
            (StepKind::Choice, FieldShape::Choice(_))
                | (StepKind::Text, FieldShape::Text)
                | (StepKind::Series, FieldShape::Series)
                | (StepKind::Consent, FieldShape::Consent)
        );
        if !kind_fits {
            report.add(
                FILE,
                format!("{at}.kind"),
                format!("kind {:?} cannot fill field '{}'", step.kind, step.field),
            );
        }
        let next_refs = step.next.iter().map(|n| (format!("{at}.next"), n));
        let option_refs = step.options.iter().filter_map(|o| {
            o.next
                .as_ref()
                .map(|n| (format!("{at}.option {}.next", o.value), n))
        });
        for (where_, next) in next_refs.chain(option_refs) {
            if next != DONE && !ids.contains(next.as_str()) {
                report.add(FILE, where_, format!("unknown step id '{next}'"));
            }
        }
        if step.kind == StepKind::Choice {
            check_options(content, report, step, field);
        } else if !step.options.is_empty() {
            report.add(FILE, &at, "only choice steps have options");
        }
        if step.next.is_none() && step.options.iter().any(|o| o.next.is_none()) {
            report.add(
                FILE,
                &at,
                "has no next step (use next = \"done\" to finish)",
            );
        }
        if step.kind == StepKind::Series && content.series.is_empty() {
            report.add(FILE, &at, "asks for a series but programme.toml has none");
        }
    }
    check_flow_shape(content, report);
}

fn check_options(content: &Content, report: &mut Report, step: &crate::domain::Step, field: Field) {
    const FILE: &str = "registration.toml";
    if step.options.len() < 2 {
        report.add(
            FILE,
            format!("step {}", step.id),
            "a choice needs at least two options",
        );
    }
    let mut values = HashSet::new();
    for option in &step.options {
        let at = format!("step {}.option {}", step.id, option.value);
        if !values.insert(option.value.as_str()) {
            report.add(FILE, &at, "duplicate option value");
        }
        if let FieldShape::Choice(allowed) = field.shape()
            && !allowed.contains(&option.value.as_str())
        {
            report.add(
                FILE,
                &at,
                format!(
                    "'{}' is not a value of field '{}' (allowed: {})",
                    option.value,
                    step.field,
                    allowed.join(", ")
                ),
            );
        }
        let data = CallbackData::Answer {
            step: step.id.clone(),
            value: option.value.clone(),
        }
        .encode();
        if data.len() > MAX_CALLBACK_BYTES {
            report.add(
                FILE,
                &at,
                format!(
                    "callback data is {} bytes; Telegram allows {MAX_CALLBACK_BYTES}",
                    data.len()
                ),
            );
        }
        check_key_ref(
            content,
            report,
            FILE,
            &format!("{at}.label"),
            &option.label,
            true,
        );
    }
}

/// Every step reachable from the start, and no path that loops back on itself.
fn check_flow_shape(content: &Content, report: &mut Report) {
    let flow = &content.registration;
    let successors = |id: &str| -> Vec<String> {
        flow.step(id)
            .map(|s| {
                s.next
                    .iter()
                    .chain(s.options.iter().filter_map(|o| o.next.as_ref()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut reached = BTreeSet::new();
    let mut stack = vec![(flow.start.clone(), vec![flow.start.clone()])];
    while let Some((id, path)) = stack.pop() {
        reached.insert(id.clone());
        for next in successors(&id) {
            if next == DONE || flow.step(&next).is_none() {
                continue;
            }
            if path.contains(&next) {
                report.add(
                    "registration.toml",
                    format!("step {id}"),
                    format!("leads back to step {next}: the flow would loop"),
                );
                continue;
            }
            let mut longer = path.clone();
            longer.push(next.clone());
            if longer.len() <= flow.steps.len() {
                stack.push((next, longer));
            }
        }
    }
    for step in &flow.steps {
        if !reached.contains(&step.id) {
            report.add(
                "registration.toml",
                format!("step {}", step.id),
                "cannot be reached from the start",
            );
        }
    }
}

fn check_localized(report: &mut Report, file: &str, at: &str, text: &Localized, is_label: bool) {
    for lang in Lang::ALL {
        let value = text.get(lang);
        if value.trim().is_empty() {
            report.add(file, at, format!("the {} text is empty", lang.code()));
        }
        if is_label && value.chars().count() > MAX_BUTTON_CHARS {
            report.add(
                file,
                at,
                format!(
                    "'{value}' is used on a button: keep it at most {MAX_BUTTON_CHARS} characters"
                ),
            );
        }
    }
}

fn check_programme(content: &Content, report: &mut Report) {
    const FILE: &str = "programme.toml";
    let mut series_ids = HashSet::new();
    let mut session_ids = HashSet::new();
    let areas = match Field::Area.shape() {
        FieldShape::Choice(values) => values,
        _ => &[],
    };
    for series in &content.series {
        let at = format!("series {}", series.id);
        if !series_ids.insert(series.id.as_str()) {
            report.add(FILE, &at, "duplicate series id");
        }
        if !is_token(&series.id) {
            report.add(FILE, &at, "series ids use a-z, 0-9, _ and - (at most 48)");
        }
        if !is_deep_link_payload(&series.code) {
            report.add(
                FILE,
                format!("{at}.code"),
                "a deep-link code is 1-64 characters of A-Z a-z 0-9 _ -",
            );
        }
        if !areas.contains(&series.area.as_str()) {
            report.add(
                FILE,
                format!("{at}.area"),
                format!("unknown area '{}' (use {})", series.area, areas.join(", ")),
            );
        }
        check_localized(report, FILE, &format!("{at}.name"), &series.name, true);
        if series.sessions.is_empty() {
            report.add(FILE, &at, "has no sessions");
        }
        let mut sessions: Vec<_> = series.sessions.iter().collect();
        sessions.sort_by_key(|s| s.start);
        for pair in sessions.windows(2) {
            if pair[1].start < pair[0].end {
                report.add(
                    FILE,
                    format!("session {}", pair[1].id),
                    format!("overlaps session {}", pair[0].id),
                );
            }
        }
        for session in &series.sessions {
            let at = format!("session {}", session.id);
            if !session_ids.insert(session.id.as_str()) {
                report.add(FILE, &at, "duplicate session id");
            }
            if !is_token(&session.id) {
                report.add(FILE, &at, "session ids use a-z, 0-9, _ and - (at most 48)");
            }
            if session.end <= session.start {
                report.add(FILE, &at, "ends before it starts");
            }
            check_localized(report, FILE, &format!("{at}.title"), &session.title, false);
            if let Some(theme) = &session.theme {
                check_localized(report, FILE, &format!("{at}.theme"), theme, false);
            }
            if let Some(link) = &session.link
                && (!link.starts_with("https://") || url::Url::parse(link).is_err())
            {
                report.add(
                    FILE,
                    format!("{at}.link"),
                    format!("'{link}' is not an https link"),
                );
            }
            match (&session.place, session.online || session.link.is_some()) {
                (None, false) => {
                    report.add(FILE, &at, "needs a place (in person) or online = true")
                }
                (Some(_), true) => {
                    report.add(FILE, &at, "is either in person (place) or online, not both")
                }
                (Some(place), false) => {
                    check_localized(report, FILE, &format!("{at}.place"), place, false)
                }
                (None, true) => {}
            }
        }
    }
}

fn check_groups(content: &Content, report: &mut Report) {
    const FILE: &str = "groups.toml";
    let mut ids = HashSet::new();
    let mut codes: HashSet<&str> = content.series.iter().map(|s| s.code.as_str()).collect();
    for group in &content.groups {
        let at = format!("group {}", group.id);
        if !ids.insert(group.id.as_str()) || !is_token(&group.id) {
            report.add(FILE, &at, "group ids are unique and use a-z, 0-9, _ and -");
        }
        if !is_deep_link_payload(&group.code) {
            report.add(
                FILE,
                format!("{at}.code"),
                "a deep-link code is 1-64 characters of A-Z a-z 0-9 _ -",
            );
        }
        if !codes.insert(group.code.as_str()) {
            report.add(
                FILE,
                format!("{at}.code"),
                "the same code is used by another group or series",
            );
        }
        check_localized(report, FILE, &format!("{at}.name"), &group.name, false);
    }
    let mut series_codes = HashSet::new();
    for series in &content.series {
        if !series_codes.insert(series.code.as_str()) {
            report.add(
                "programme.toml",
                format!("series {}.code", series.id),
                "the same code is used by another series",
            );
        }
    }
}
