//! Callback data on inline buttons: a small typed enum, encoded with a version prefix to ≤ 64 bytes.
//! Anything that does not decode (an old or forged button) is `None`, and the user gets a friendly answer.
use super::lang::Lang;

/// Telegram's limit for callback data, in bytes.
pub const MAX_CALLBACK_BYTES: usize = 64;
const VERSION: &str = "1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackData {
    /// Answer a step of the current flow.
    Answer { step: String, value: String },
    /// Switch the conversation language.
    SetLanguage(Lang),
    /// Start editing the answer of one step from `/profile`.
    Edit { step: String },
    /// `/forget`: erase everything (true) or keep it (false).
    Forget { confirm: bool },
}

impl CallbackData {
    pub fn encode(&self) -> String {
        match self {
            CallbackData::Answer { step, value } => format!("{VERSION}|a|{step}|{value}"),
            CallbackData::SetLanguage(lang) => format!("{VERSION}|l|{}", lang.code()),
            CallbackData::Edit { step } => format!("{VERSION}|e|{step}"),
            CallbackData::Forget { confirm } => {
                format!("{VERSION}|f|{}", if *confirm { "y" } else { "n" })
            }
        }
    }

    pub fn decode(raw: &str) -> Option<CallbackData> {
        if raw.len() > MAX_CALLBACK_BYTES {
            return None;
        }
        let mut parts = raw.split('|');
        if parts.next()? != VERSION {
            return None;
        }
        let tag = parts.next()?;
        let rest: Vec<&str> = parts.collect();
        let valid = |s: &str| is_token(s);
        match (tag, rest.as_slice()) {
            ("a", [step, value]) if valid(step) && valid(value) => Some(CallbackData::Answer {
                step: step.to_string(),
                value: value.to_string(),
            }),
            ("l", [code]) => Lang::parse(code).map(CallbackData::SetLanguage),
            ("e", [step]) if valid(step) => Some(CallbackData::Edit {
                step: step.to_string(),
            }),
            ("f", ["y"]) => Some(CallbackData::Forget { confirm: true }),
            ("f", ["n"]) => Some(CallbackData::Forget { confirm: false }),
            _ => None,
        }
    }
}

/// Ids and values inside callback data: 1–48 characters of `a-z0-9_-` (content `check` enforces this).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 48
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_within_64_bytes() {
        let all = [
            CallbackData::Answer {
                step: "pro_series".into(),
                value: "rovaniemi-spring-2024".into(),
            },
            CallbackData::SetLanguage(Lang::En),
            CallbackData::Edit {
                step: "father_area".into(),
            },
            CallbackData::Forget { confirm: true },
            CallbackData::Forget { confirm: false },
        ];
        for data in all {
            let encoded = data.encode();
            assert!(encoded.len() <= MAX_CALLBACK_BYTES);
            assert_eq!(CallbackData::decode(&encoded), Some(data));
        }
    }

    #[test]
    fn garbage_and_old_versions_do_not_decode() {
        for raw in [
            "",
            "x",
            "0|a|role|father",
            "1|a|role",
            "1|a|role|father|x",
            "1|a|Role|father",
            "1|l|sv",
            "1|f|maybe",
            "1|a|ro le|x",
        ] {
            assert_eq!(CallbackData::decode(raw), None, "{raw}");
        }
        assert_eq!(
            CallbackData::decode(&format!("1|e|{}", "a".repeat(70))),
            None
        );
    }
}
