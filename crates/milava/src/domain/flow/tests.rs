use super::*;

fn flow() -> Flow {
    toml::from_str(
        r#"
start = "role"
[[step]]
id = "role"
kind = "choice"
field = "role"
question = "q.role"
option = [
  { value = "father", label = "l.father", next = "name" },
  { value = "professional", label = "l.pro", next = "email" },
]
[[step]]
id = "name"
kind = "text"
field = "name"
question = "q.name"
next = "consent"
[[step]]
id = "email"
kind = "text"
field = "email"
question = "q.email"
next = "series"
[[step]]
id = "series"
kind = "series"
field = "series"
question = "q.series"
next = "consent"
[[step]]
id = "consent"
kind = "consent"
field = "consent"
question = "q.consent"
next = "done"
"#,
    )
    .expect("test flow parses")
}

const SERIES: &[&str] = &["rovaniemi-2024", "oulu-2024"];

fn button(step: &str, value: &str) -> Input {
    Input::Button {
        step: step.into(),
        value: value.into(),
    }
}

fn go(answers: &mut Answers, at: &str, input: Input) -> Outcome {
    advance(&flow(), SERIES, answers, at, &input, Mode::Register)
}

#[test]
fn a_father_walks_through_to_completion() {
    let mut a = Answers::new();
    assert_eq!(
        go(&mut a, "role", button("role", "father")),
        Outcome::Ask("name".into())
    );
    assert_eq!(
        go(&mut a, "name", Input::Text(" Pekka ".into())),
        Outcome::Ask("consent".into())
    );
    assert_eq!(
        go(&mut a, "consent", button("consent", CONSENT_ACCEPT)),
        Outcome::Complete
    );
    assert_eq!(a.get(&Field::Name).map(String::as_str), Some("Pekka"));
    assert_eq!(a.get(&Field::Role).map(String::as_str), Some("father"));
}

#[test]
fn a_professional_branch_asks_email_and_series() {
    let mut a = Answers::new();
    assert_eq!(
        go(&mut a, "role", button("role", "professional")),
        Outcome::Ask("email".into())
    );
    assert_eq!(
        go(&mut a, "email", Input::Text("not-an-email".into())),
        Outcome::Reask {
            step: "email".into(),
            problem: Problem::BadEmail
        }
    );
    assert_eq!(
        go(&mut a, "email", Input::Text("a@b.fi".into())),
        Outcome::Ask("series".into())
    );
    assert_eq!(
        go(&mut a, "series", button("series", "kajaani-2030")),
        Outcome::Reask {
            step: "series".into(),
            problem: Problem::StaleButton
        }
    );
    assert_eq!(
        go(&mut a, "series", button("series", "oulu-2024")),
        Outcome::Ask("consent".into())
    );
}

#[test]
fn wrong_kinds_of_input_reask_without_changing_answers() {
    let mut a = Answers::new();
    let before = a.clone();
    assert!(matches!(
        go(&mut a, "role", Input::Text("isä".into())),
        Outcome::Reask {
            problem: Problem::NeedButton,
            ..
        }
    ));
    assert!(matches!(
        go(&mut a, "role", Input::Media("sticker".into())),
        Outcome::Reask {
            problem: Problem::Media(_),
            ..
        }
    ));
    assert!(matches!(
        go(&mut a, "role", button("name", "father")),
        Outcome::Reask {
            problem: Problem::StaleButton,
            ..
        }
    ));
    assert!(matches!(
        go(&mut a, "role", button("role", "pirate")),
        Outcome::Reask {
            problem: Problem::StaleButton,
            ..
        }
    ));
    assert!(matches!(
        go(&mut a, "name", button("name", "x")),
        Outcome::Reask {
            problem: Problem::StaleButton,
            ..
        }
    ));
    assert!(matches!(
        go(&mut a, "name", Input::Text("x".repeat(500))),
        Outcome::Reask {
            problem: Problem::TooLong { .. },
            ..
        }
    ));
    assert_eq!(a, before);
}

#[test]
fn declining_consent_ends_the_flow() {
    let mut a = Answers::new();
    a.insert(Field::Role, "father".into());
    assert_eq!(
        go(&mut a, "consent", button("consent", CONSENT_DECLINE)),
        Outcome::Declined
    );
    assert!(!a.contains_key(&Field::Consent));
}

#[test]
fn preset_answers_are_skipped() {
    let f = flow();
    let mut a = Answers::new();
    a.insert(Field::Role, "professional".into());
    a.insert(Field::Series, "oulu-2024".into());
    assert_eq!(f.first_open_step(&a, &f.start), "email");
    assert_eq!(
        go(&mut a, "email", Input::Text("n@x.fi".into())),
        Outcome::Ask("consent".into())
    );
}

#[test]
fn a_missing_step_restarts_at_the_first_open_one() {
    let mut a = Answers::new();
    a.insert(Field::Role, "father".into());
    assert_eq!(
        go(&mut a, "removed_step", Input::Text("hi".into())),
        Outcome::Ask("name".into())
    );
}

#[test]
fn editing_one_answer_completes_after_that_step() {
    let mut a = Answers::new();
    a.insert(Field::Name, "Old".into());
    let out = advance(
        &flow(),
        SERIES,
        &mut a,
        "name",
        &Input::Text("New".into()),
        Mode::EditOne,
    );
    assert_eq!(out, Outcome::Complete);
    assert_eq!(a[&Field::Name], "New");
}

#[test]
fn the_fingerprint_changes_with_structure_only() {
    let f = flow();
    let mut g = flow();
    assert_eq!(f.fingerprint(), g.fingerprint());
    g.steps[1].next = Some("done".into());
    assert_ne!(f.fingerprint(), g.fingerprint());
}
