use super::fields::{Answers, Field};
use super::lang::Lang;
use chrono::{DateTime, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Father,
    Professional,
    Other,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Father, Role::Professional, Role::Other];

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "father" => Some(Role::Father),
            "professional" => Some(Role::Professional),
            "other" => Some(Role::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Father => "father",
            Role::Professional => "professional",
            Role::Other => "other",
        }
    }
}

/// A person who has completed registration and consented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub telegram_user_id: i64,
    pub role: Role,
    pub name: String,
    pub area: Option<String>,
    pub wants: Option<String>,
    pub organisation: Option<String>,
    pub profession: Option<String>,
    pub email: Option<String>,
    pub series_id: Option<String>,
    pub group_id: Option<String>,
    pub privacy_version: String,
    pub consent_at: DateTime<Utc>,
    pub research_consent: bool,
    pub research_consent_at: Option<DateTime<Utc>>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Participant {
    /// The registration answers, as the flow stores them.
    pub fn answers(&self) -> Answers {
        let mut answers = Answers::new();
        answers.insert(Field::Role, self.role.as_str().to_string());
        answers.insert(Field::Name, self.name.clone());
        let optional = [
            (Field::Area, &self.area),
            (Field::Wants, &self.wants),
            (Field::Organisation, &self.organisation),
            (Field::Profession, &self.profession),
            (Field::Email, &self.email),
            (Field::Series, &self.series_id),
            (Field::Group, &self.group_id),
        ];
        for (field, value) in optional {
            if let Some(v) = value {
                answers.insert(field, v.clone());
            }
        }
        answers.insert(
            Field::Consent,
            crate::domain::flow::CONSENT_ACCEPT.to_string(),
        );
        answers.insert(
            Field::ResearchConsent,
            if self.research_consent { "yes" } else { "no" }.to_string(),
        );
        answers
    }
}

/// What a user record holds before and after registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub telegram_user_id: i64,
    pub chat_id: i64,
    pub language: Lang,
}
