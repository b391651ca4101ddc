//! The registration answers a flow can collect. Flows are data, but each step stores into one of these
//! known fields, so the database and the rules stay typed.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Role,
    Name,
    Area,
    Wants,
    Organisation,
    Profession,
    Email,
    Series,
    Group,
    Consent,
    ResearchConsent,
}

/// How a field is answered, which decides the step kinds allowed for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldShape {
    /// One of a fixed set of values, chosen with buttons.
    Choice(&'static [&'static str]),
    /// Typed free text, validated by `validate::free_text`.
    Text,
    /// One of the workshop series in the programme.
    Series,
    /// A peer group from content; only preset by a deep link.
    Group,
    /// Acceptance of the privacy notice.
    Consent,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Role,
        Field::Name,
        Field::Area,
        Field::Wants,
        Field::Organisation,
        Field::Profession,
        Field::Email,
        Field::Series,
        Field::Group,
        Field::Consent,
        Field::ResearchConsent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Role => "role",
            Field::Name => "name",
            Field::Area => "area",
            Field::Wants => "wants",
            Field::Organisation => "organisation",
            Field::Profession => "profession",
            Field::Email => "email",
            Field::Series => "series",
            Field::Group => "group",
            Field::Consent => "consent",
            Field::ResearchConsent => "research_consent",
        }
    }

    pub fn parse(raw: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == raw)
    }

    pub fn shape(self) -> FieldShape {
        match self {
            Field::Role => FieldShape::Choice(&["father", "professional", "other"]),
            Field::Area => FieldShape::Choice(&["oulu", "kajaani", "rovaniemi", "elsewhere"]),
            Field::Wants => FieldShape::Choice(&["peer_group", "coaching", "both"]),
            Field::Profession => FieldShape::Choice(&[
                "health_care",
                "social_work",
                "early_childhood_education",
                "other",
            ]),
            Field::ResearchConsent => FieldShape::Choice(&["yes", "no"]),
            Field::Name | Field::Organisation | Field::Email => FieldShape::Text,
            Field::Series => FieldShape::Series,
            Field::Group => FieldShape::Group,
            Field::Consent => FieldShape::Consent,
        }
    }
}

/// Answers collected so far (a draft during registration, or a complete profile).
pub type Answers = BTreeMap<Field, String>;
