//! Property tests: whatever arrives from outside — callback data, deep-link payloads, typed answers, a
//! sequence of inputs to the registration dialogue, a content file an editor broke — the code never panics
//! and never produces an invalid state.
use milava_bot::domain::fields::{Field, FieldShape};
use milava_bot::domain::flow::{Input, Mode, Outcome, advance};
use milava_bot::domain::validate::{NAME_MAX, free_text, is_deep_link_payload};
use milava_bot::domain::{Answers, CallbackData};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn dialogues() -> PathBuf {
    testkit::content::fixture_dir()
}

fn content() -> &'static milava_bot::content::Content {
    static CONTENT: OnceLock<milava_bot::content::Content> = OnceLock::new();
    CONTENT.get_or_init(|| milava_bot::content::load(&dialogues()).expect("fixture content loads"))
}

/// Strings shaped like callback data (`1|tag|…`) as well as anything at all.
fn callback_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]\\|[a-z]{1,3}(\\|[a-z0-9_-]{0,12}){0,4}",
        "1\\|(a|l|e|f|c|ca|ci|lv|of|r|an|at|ac|b)(\\|[a-z0-9-]{0,20}){0,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn callback_data_decodes_without_panicking_and_round_trips(raw in callback_like()) {
        if let Some(data) = CallbackData::decode(&raw) {
            let encoded = data.encode();
            prop_assert_eq!(CallbackData::decode(&encoded), Some(data.clone()), "{}", raw);
            // Whatever decodes is either for coordinators or not — the question always has an answer.
            let _ = data.coordinators_only();
        }
    }

    #[test]
    fn deep_link_payloads_are_accepted_only_in_telegrams_alphabet(raw in any::<String>()) {
        if is_deep_link_payload(&raw) {
            prop_assert!(!raw.is_empty() && raw.len() <= 64);
            prop_assert!(raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        }
    }

    #[test]
    fn free_text_answers_are_clean_or_refused_with_a_reason(
        raw in prop_oneof![any::<String>(), "[ \\t\\na-zA-ZåäöÅÄÖ@.\\-]{0,300}"],
        field in prop::sample::select(vec![Field::Name, Field::Organisation, Field::Email, Field::Area]),
    ) {
        match free_text(field, &raw) {
            Ok(clean) => {
                prop_assert_eq!(clean.trim(), clean.as_str());
                prop_assert!(!clean.contains("  "));
                prop_assert!(!clean.chars().any(char::is_control), "{:?}", clean);
                if field == Field::Name {
                    prop_assert!(clean.chars().count() <= NAME_MAX);
                }
                prop_assert!(clean.chars().count() <= 254);
            }
            Err(problem) => prop_assert!(problem.text_key().starts_with("problem.")),
        }
    }
}

/// An input a person could send at any step: text, a button for some step with some value, or media.
fn input() -> impl Strategy<Value = Input> {
    let flow = &content().registration;
    let steps: Vec<String> = flow.steps.iter().map(|s| s.id.clone()).collect();
    let mut values: Vec<String> = flow
        .steps
        .iter()
        .flat_map(|s| s.options.iter().map(|o| o.value.clone()))
        .collect();
    values.extend(
        [
            "accept",
            "decline",
            "oulu-2024",
            "rovaniemi-2024",
            "nonsense",
        ]
        .map(String::from),
    );
    prop_oneof![
        any::<String>().prop_map(Input::Text),
        "[A-Za-zÅÄÖåäö .@-]{0,50}".prop_map(Input::Text),
        (prop::sample::select(steps), prop::sample::select(values))
            .prop_map(|(step, value)| Input::Button { step, value }),
        "[a-z]{1,10}".prop_map(Input::Media),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_registration_dialogue_never_reaches_an_invalid_state(inputs in prop::collection::vec(input(), 1..40)) {
        let content = content();
        let flow = &content.registration;
        let series: Vec<&str> = content.series.iter().map(|s| s.id.as_str()).collect();
        let mut answers = Answers::new();
        let mut current = flow.start.clone();
        for input in &inputs {
            match advance(flow, &series, &mut answers, &current, input, Mode::Register) {
                Outcome::Ask(next) => {
                    prop_assert!(flow.step(&next).is_some(), "asked for unknown step {}", next);
                    current = next;
                }
                Outcome::Reask { step, problem } => {
                    prop_assert_eq!(&step, &current);
                    prop_assert!(problem.text_key().starts_with("problem."));
                }
                Outcome::Complete | Outcome::Declined => break,
            }
            // Every stored answer is valid for its field.
            for (field, value) in &answers {
                match field.shape() {
                    FieldShape::Choice(allowed) => prop_assert!(allowed.contains(&value.as_str()), "{field:?} = {value}"),
                    FieldShape::Series => prop_assert!(series.contains(&value.as_str())),
                    _ => {}
                }
            }
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The content files an editor touches.
const FILES: &[&str] = &[
    "registration.toml",
    "programme.toml",
    "groups.toml",
    "content.toml",
    "texts/fi.toml",
    "texts/en.toml",
];

proptest! {
    // Each case writes a content folder, so fewer of them.
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn broken_content_is_reported_never_a_panic(
        file in prop::sample::select(FILES.to_vec()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..12, "[\\[\\]=\"{}#,.a-z0-9 \\n]{0,8}"), 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&dialogues(), dir.path());
        let path = dir.path().join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        for (at, cut, insert) in &edits {
            let mut start = at.index(text.len().max(1));
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, insert);
        }
        std::fs::write(&path, &text).unwrap();
        match milava_bot::content::load(dir.path()) {
            Ok(content) => prop_assert!(!content.registration.steps.is_empty()),
            Err(problems) => {
                prop_assert!(!problems.0.is_empty());
                for problem in &problems.0 {
                    prop_assert!(!problem.file.is_empty() && !problem.problem.is_empty(), "{problem}");
                }
            }
        }
    }
}
