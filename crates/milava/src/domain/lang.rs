use serde::{Deserialize, Serialize};

/// The languages the bot speaks. Finnish is the programme's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Fi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fi, Lang::En];

    pub fn parse(raw: &str) -> Option<Lang> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "fi" | "suomi" | "finnish" => Some(Lang::Fi),
            "en" | "english" | "englanti" => Some(Lang::En),
            _ => None,
        }
    }

    /// Telegram's `language_code` is the app's language and may be missing: fi → Finnish, anything else → English,
    /// nothing at all → the configured default.
    pub fn from_telegram(code: Option<&str>, default: Lang) -> Lang {
        match code {
            Some(code) if code.to_ascii_lowercase().starts_with("fi") => Lang::Fi,
            Some(code) if !code.trim().is_empty() => Lang::En,
            _ => default,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::En => "en",
        }
    }
}

/// A text given inline in content files in both languages, e.g. a series name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub fi: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fi => &self.fi,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_language_codes_map_to_fi_or_en() {
        assert_eq!(Lang::from_telegram(Some("fi"), Lang::En), Lang::Fi);
        assert_eq!(Lang::from_telegram(Some("fi-FI"), Lang::En), Lang::Fi);
        assert_eq!(Lang::from_telegram(Some("sv"), Lang::Fi), Lang::En);
        assert_eq!(Lang::from_telegram(None, Lang::Fi), Lang::Fi);
        assert_eq!(Lang::from_telegram(Some(""), Lang::En), Lang::En);
    }
}
