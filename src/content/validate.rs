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
    "access.calendar_not_in_series",
    "access.link_not_admin",
    "access.link_taken",
    "announcements.changed",
    "announcements.off",
    "announcements.on",
    "attendance.choose_series",
    "attendance.choose_session",
    "attendance.no_sessions",
    "attendance.title",
    "attendance.unknown_session",
    "broadcast.ask_time",
    "flood.busy",
    "flood.slow_down",
    "broadcast.audience_all",
    "broadcast.audience_area",
    "broadcast.audience_group",
    "broadcast.audience_question",
    "broadcast.audience_research",
    "broadcast.audience_role_father",
    "broadcast.audience_role_other",
    "broadcast.audience_role_professional",
    "broadcast.audience_series",
    "broadcast.bad_time",
    "broadcast.cancel_line",
    "broadcast.cancel_question",
    "broadcast.cancelled",
    "broadcast.choose_area",
    "broadcast.choose_group",
    "broadcast.choose_series",
    "broadcast.draft_cancelled",
    "broadcast.list_line",
    "broadcast.list_title",
    "broadcast.no_recipients",
    "broadcast.none_to_cancel",
    "broadcast.nothing",
    "broadcast.past_time",
    "broadcast.preview",
    "broadcast.progress",
    "broadcast.scheduled",
    "broadcast.send_message",
    "broadcast.started",
    "broadcast.status_cancelled",
    "broadcast.status_done",
    "broadcast.status_scheduled",
    "broadcast.status_sending",
    "broadcast.summary",
    "button.broadcast.announcements_off",
    "button.broadcast.announcements_on",
    "button.broadcast.area",
    "button.broadcast.back",
    "button.broadcast.cancel",
    "button.broadcast.cancel_one",
    "button.broadcast.everyone",
    "button.broadcast.fathers",
    "button.broadcast.group",
    "button.broadcast.others",
    "button.broadcast.professionals",
    "button.broadcast.research",
    "button.broadcast.schedule",
    "button.broadcast.send_now",
    "button.broadcast.series",
    "button.coaching.change",
    "button.coaching.newer",
    "button.coaching.older",
    "button.coaching.pause",
    "button.coaching.resume",
    "button.coaching.stop",
    "button.consent_accept",
    "button.consent_decline",
    "button.edit_prefix",
    "button.forget_no",
    "button.forget_yes",
    "button.groups.join",
    "button.groups.register",
    "button.help_now.open",
    "button.language_en",
    "button.language_fi",
    "button.programme.accept_place",
    "button.programme.add_to_calendar",
    "button.programme.attendance_csv",
    "button.programme.calendar_all",
    "button.programme.check_in",
    "button.programme.decline_place",
    "button.programme.leave_no",
    "button.programme.leave_yes",
    "button.programme.reminders_off",
    "button.programme.reminders_on",
    "button.survey.back",
    "button.survey.change",
    "button.survey.continue",
    "button.survey.done",
    "button.survey.keep",
    "button.survey.send",
    "button.survey.skip",
    "button.survey.start",
    "button.survey.submit",
    "button.timeline.join_series",
    "button.timeline.no_series",
    "calendar.description",
    "calendar.description_no_theme",
    "calendar.online_no_link",
    "calendar.summary",
    "cancel.done",
    "cancel.edit",
    "cancel.nothing",
    "button.programme.email_reminders",
    "email.certificate.body",
    "email.certificate.subject",
    "email.reminder.body",
    "email.reminder.subject",
    "registration.pro.email_chat_only",
    "certificate.caption",
    "certificate.document.default_place",
    "certificate.document.funding",
    "certificate.document.hours",
    "certificate.document.hours_fraction",
    "certificate.document.hours_one",
    "certificate.document.hours_whole",
    "certificate.document.issuer",
    "certificate.document.lead_in",
    "certificate.document.organiser",
    "certificate.document.place_date",
    "certificate.document.session",
    "certificate.document.sessions_heading",
    "certificate.document.signer_name",
    "certificate.document.signer_title",
    "certificate.document.title",
    "certificate.file_name",
    "certificate.not_finished",
    "certificate.not_qualified",
    "changes.cancelled",
    "changes.link",
    "changes.moved",
    "changes.place",
    "checkin.already",
    "checkin.closed",
    "checkin.done",
    "checkin.pressed",
    "checkin.prompt",
    "coaching.choose_day",
    "coaching.choose_time",
    "coaching.journal_empty",
    "coaching.journal_entry",
    "coaching.journal_title",
    "coaching.mydata",
    "coaching.paused",
    "coaching.resumed",
    "coaching.saved",
    "coaching.scheduled",
    "coaching.state_active",
    "coaching.state_paused",
    "coaching.state_stopped",
    "coaching.status_active",
    "coaching.status_finished",
    "coaching.status_paused",
    "coaching.step",
    "coaching.stopped",
    "coaching.weekdays",
    "coordinator.participants_caption",
    "coordinator.refused",
    "coordinator.stats_areas",
    "coordinator.stats_in_progress",
    "coordinator.stats_line",
    "coordinator.stats_roles",
    "coordinator.stats_series",
    "coordinator.stats_title",
    "coordinator.stats_unreachable",
    "erasure.programme_ended",
    "forget.done",
    "forget.kept",
    "forget.question",
    "groups.bot_lost",
    "groups.facilitators_only",
    "groups.inactive",
    "groups.join",
    "groups.join_declined_other",
    "groups.join_declined_register",
    "groups.link_failed",
    "groups.link_missing_right",
    "groups.link_usage",
    "groups.linked",
    "groups.mydata_member",
    "groups.no_group",
    "groups.no_schedule",
    "groups.none_available",
    "groups.not_linked",
    "groups.not_linked_yet",
    "groups.not_peer",
    "groups.paused",
    "groups.plan_done",
    "groups.prompt",
    "groups.prompt_follow_up",
    "groups.resumed",
    "groups.right_invite_users",
    "groups.right_not_admin",
    "groups.right_not_in_group",
    "groups.rules",
    "groups.skipped",
    "groups.upcoming_line",
    "groups.upcoming_paused",
    "groups.upcoming_title",
    "groups.upcoming_unscheduled",
    "groups.use_in_group",
    "groups.welcome",
    "help.coordinator",
    "help.text",
    "help_now.footer",
    "help_now.group_fallback",
    "help_now.line",
    "help_now.title",
    "language.changed",
    "language.question",
    "leave.done",
    "leave.kept",
    "leave.question",
    "mydata.consent",
    "mydata.in_progress",
    "mydata.language",
    "mydata.no",
    "mydata.nothing",
    "mydata.registered",
    "mydata.research",
    "mydata.telegram",
    "mydata.title",
    "mydata.yes",
    "participants_csv.area",
    "participants_csv.consent_at",
    "participants_csv.email",
    "participants_csv.group_id",
    "participants_csv.name",
    "participants_csv.no",
    "participants_csv.organisation",
    "participants_csv.privacy_version",
    "participants_csv.profession",
    "participants_csv.registered_at",
    "participants_csv.research_consent",
    "participants_csv.role",
    "participants_csv.series_id",
    "participants_csv.telegram_user_id",
    "participants_csv.wants",
    "participants_csv.yes",
    "privacy.consent_given",
    "privacy.consent_none",
    "privacy.notice",
    "privacy.research_no",
    "privacy.research_yes",
    "privacy.show",
    "problem.bad_characters",
    "problem.bad_email",
    "problem.button_expired",
    "problem.edited",
    "problem.empty",
    "problem.idle",
    "problem.media",
    "problem.need_button",
    "problem.need_text",
    "problem.not_a_name",
    "problem.not_registered",
    "problem.save_failed",
    "problem.stale_button",
    "problem.too_long",
    "problem.too_short",
    "problem.unknown_command",
    "profile.edit_hint",
    "profile.title",
    "profile.updated",
    "programme.calendar_caption",
    "programme.enrolled",
    "programme.held",
    "programme.next",
    "programme.no_next",
    "programme.not_enrolled",
    "programme.online_link",
    "programme.online_no_link",
    "programme.place",
    "programme.running",
    "programme.schedule_title",
    "programme.session",
    "programme.time_range",
    "programme.waitlisted",
    "programme.weekdays",
    "registration.declined",
    "registration.done.father",
    "registration.done.other",
    "registration.done.professional",
    "reload.done",
    "reload.failed",
    "reminders.before",
    "reminders.day_before",
    "reminders.none_chosen",
    "reminders.offset_day_before",
    "reminders.offset_hours",
    "reminders.offset_minutes",
    "reminders.status_off",
    "reminders.status_on",
    "reminders.updated",
    "start.already_registered",
    "start.deep_link_group",
    "start.deep_link_series",
    "start.flow_changed",
    "start.resume",
    "start.unknown_code",
    "start.welcome",
    "survey_anonymity.export_withheld",
    "survey_anonymity.results_withheld_complement",
    "survey_anonymity.column_response_id",
    "survey_anonymity.column_pseudonym",
    "survey_anonymity.column_survey_id",
    "survey_anonymity.column_survey_version",
    "survey_anonymity.column_trigger",
    "survey_anonymity.column_trigger_chat",
    "survey_anonymity.column_series",
    "survey_anonymity.column_series_chat",
    "survey_anonymity.column_session",
    "survey_anonymity.column_session_chat",
    "survey_anonymity.column_submitted_at",
    "survey_anonymity.column_submitted_at_chat",
    "survey.already_submitted",
    "survey.change_question",
    "survey.choose_many",
    "survey.closed",
    "survey.current_answer",
    "survey.export_caption",
    "survey.invitation",
    "survey.mydata_answers",
    "survey.mydata_invitation",
    "survey.mydata_pseudonym",
    "survey.need_choice",
    "survey.need_text",
    "survey.none_manual",
    "survey.pick_audience",
    "survey.pick_export",
    "survey.pick_results",
    "survey.pick_scope",
    "survey.pick_to_send",
    "survey.question",
    "survey.reminder",
    "survey.results_mean",
    "survey.results_n",
    "survey.results_texts_caption",
    "survey.results_title",
    "survey.results_withheld",
    "survey.scope_all",
    "survey.send_preview",
    "survey.sent",
    "survey.skipped",
    "survey.stale",
    "survey.status_answering",
    "survey.status_invited",
    "survey.status_submitted",
    "survey.submitted",
    "survey.summary",
    "survey.too_long",
    "survey.type_answer",
    "timeline.done_enrolled",
    "timeline.done_no_series",
    "timeline.done_waitlisted",
    "timeline.no_series_open",
    "timeline.not_enrolled_join",
    "timeline.not_enrolled_none_open",
    "timeline.series_closed",
    "timeline.series_not_open_yet",
    "timeline.waitlist_note",
    "waitlist.accepted",
    "waitlist.declined",
    "waitlist.expired",
    "waitlist.offer",
    "waitlist.offer_gone",
];

pub(super) struct Report(pub(super) Vec<ContentProblem>);

impl Report {
    pub(super) fn add(&mut self, file: &str, key: impl Into<String>, problem: impl Into<String>) {
        self.coded(file, key, "", problem);
    }

    /// A problem with its kind (`ContentProblem::code`).
    pub(super) fn coded(
        &mut self,
        file: &str,
        key: impl Into<String>,
        code: &'static str,
        problem: impl Into<String>,
    ) {
        self.0.push(ContentProblem {
            file: file.into(),
            key: key.into(),
            problem: problem.into(),
            code,
        });
    }
}

pub fn validate(content: &Content) -> Vec<ContentProblem> {
    let mut report = Report(Vec::new());
    check_texts(content, &mut report);
    check_flow(content, &mut report);
    check_programme(content, &mut report);
    check_groups(content, &mut report);
    super::surveys::validate(content, &mut report.0);
    super::validate_groups::check(content, &mut report);
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
    let command_keys = crate::domain::commands::Command::ALL
        .iter()
        .map(|c| format!("commands.{}", c.name()));
    let console_keys = super::console_keys::ALL
        .iter()
        .flat_map(|keys| keys.iter())
        .map(|k| k.to_string());
    let used = CODE_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(console_keys)
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
            report.coded(
                file,
                at,
                "text_empty",
                format!("the {} text is empty", lang.code()),
            );
        }
        if is_label && value.chars().count() > MAX_BUTTON_CHARS {
            report.coded(
                file,
                at,
                "label_too_long",
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
            report.coded(FILE, &at, "series.duplicate_id", "duplicate series id");
        }
        if !is_token(&series.id) {
            report.coded(
                FILE,
                &at,
                "series.bad_id",
                "series ids use a-z, 0-9, _ and - (at most 48)",
            );
        }
        if !is_deep_link_payload(&series.code) {
            report.coded(
                FILE,
                format!("{at}.code"),
                "series.bad_code",
                "a deep-link code is 1-64 characters of A-Z a-z 0-9 _ -",
            );
        }
        if !areas.contains(&series.area.as_str()) {
            report.coded(
                FILE,
                format!("{at}.area"),
                "series.unknown_area",
                format!("unknown area '{}' (use {})", series.area, areas.join(", ")),
            );
        }
        check_localized(report, FILE, &format!("{at}.name"), &series.name, true);
        if series.sessions.is_empty() {
            report.coded(FILE, &at, "series.no_sessions", "has no sessions");
        }
        if series.id == crate::domain::flow::NO_SERIES {
            report.coded(
                FILE,
                &at,
                "series.reserved_id",
                "the series id 'none' is reserved",
            );
        }
        if let (Some(opens), Some(closes)) =
            (series.registration_opens, series.registration_closes_at())
            && opens >= closes
        {
            report.coded(
                FILE,
                format!("{at}.registration_opens"),
                "series.window_order",
                "must be before registration closes (registration_closes, or the first session's start)",
            );
        }
        if let (Some(closes), Some(end)) = (series.registration_closes, series.last_end())
            && closes > end
        {
            report.coded(
                FILE,
                format!("{at}.registration_closes"),
                "series.closes_after_end",
                "is after the series' last session ends",
            );
        }
        let mut sessions: Vec<_> = series.sessions.iter().collect();
        sessions.sort_by_key(|s| s.start);
        for pair in sessions.windows(2) {
            if pair[1].start < pair[0].end {
                report.coded(
                    FILE,
                    format!("session {}", pair[1].id),
                    "session.overlaps",
                    format!("overlaps session {}", pair[0].id),
                );
            }
        }
        for session in &series.sessions {
            let at = format!("session {}", session.id);
            if !session_ids.insert(session.id.as_str()) {
                report.coded(FILE, &at, "session.duplicate_id", "duplicate session id");
            }
            if !is_token(&session.id) {
                report.coded(
                    FILE,
                    &at,
                    "session.bad_id",
                    "session ids use a-z, 0-9, _ and - (at most 48)",
                );
            }
            if session.end <= session.start {
                report.coded(
                    FILE,
                    &at,
                    "session.ends_before_start",
                    "ends before it starts",
                );
            }
            check_localized(report, FILE, &format!("{at}.title"), &session.title, false);
            if let Some(theme) = &session.theme {
                check_localized(report, FILE, &format!("{at}.theme"), theme, false);
            }
            if let Some(link) = &session.link
                && (!link.starts_with("https://") || url::Url::parse(link).is_err())
            {
                report.coded(
                    FILE,
                    format!("{at}.link"),
                    "session.bad_link",
                    format!("'{link}' is not an https link"),
                );
            }
            match (&session.place, session.online || session.link.is_some()) {
                (None, false) => report.coded(
                    FILE,
                    &at,
                    "session.needs_place",
                    "needs a place (in person) or online = true",
                ),
                (Some(_), true) => report.coded(
                    FILE,
                    &at,
                    "session.place_and_online",
                    "is either in person (place) or online, not both",
                ),
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
            report.coded(
                FILE,
                format!("{at}.code"),
                "code_taken",
                "the same code is used by another group or series",
            );
        }
        check_localized(report, FILE, &format!("{at}.name"), &group.name, false);
    }
    let mut series_codes = HashSet::new();
    for series in &content.series {
        if !series_codes.insert(series.code.as_str()) {
            report.coded(
                "programme.toml",
                format!("series {}.code", series.id),
                "code_taken",
                "the same code is used by another series",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CODE_KEYS;

    /// The flow version kept at loading is the loaded flow's fingerprint (persisted dialogues compare it).
    #[test]
    fn the_flow_version_is_the_loaded_flows_fingerprint() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let content = crate::content::load(&root.join("dialogues")).expect("shipped content loads");
        assert_eq!(content.flow_version(), content.registration.fingerprint());
        assert_eq!(content.flow_version().len(), 16);
    }

    /// Every text key written as a literal in the code must be in CODE_KEYS, so `check` notices when content
    /// loses a text the bot uses. (Keys built at run time are listed in CODE_KEYS by hand.)
    #[test]
    fn every_text_key_in_the_code_is_checked() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let content = crate::content::load(&root.join("dialogues")).expect("shipped content loads");
        let keys = &content.texts.fi;
        let mut missing = Vec::new();
        let mut stack = vec![root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("validate.rs")
                {
                    let source = std::fs::read_to_string(&path).unwrap();
                    for literal in source.split('"').skip(1).step_by(2) {
                        let console = crate::content::console_keys::ALL
                            .iter()
                            .any(|keys| keys.contains(&literal));
                        if keys.contains_key(literal) && !CODE_KEYS.contains(&literal) && !console {
                            missing.push(format!("{}: {literal}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(missing.is_empty(), "add these to CODE_KEYS: {missing:#?}");
    }
}
