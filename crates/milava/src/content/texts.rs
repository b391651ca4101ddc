use crate::domain::Lang;
use std::collections::BTreeMap;

/// All texts by language, keyed by dotted paths (`registration.role.question`).
#[derive(Clone, Debug, Default)]
pub struct Texts {
    pub fi: BTreeMap<String, String>,
    pub en: BTreeMap<String, String>,
}

impl Texts {
    pub fn of(&self, lang: Lang) -> &BTreeMap<String, String> {
        match lang {
            Lang::Fi => &self.fi,
            Lang::En => &self.en,
        }
    }

    /// A text by key. Validation guarantees every key the code uses exists; should one be missing anyway,
    /// the key itself is shown (and logged) rather than failing the user's request.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        match self.of(lang).get(key) {
            Some(text) => text,
            None => {
                log::error!("missing text {key} ({})", lang.code());
                key
            }
        }
    }

    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.of(lang).contains_key(key)
    }
}

/// Flattens nested TOML tables into dotted keys; non-string leaves are reported.
pub fn flatten(
    table: &toml::Table,
    prefix: &str,
    out: &mut BTreeMap<String, String>,
    bad: &mut Vec<String>,
) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(path, s.clone());
            }
            toml::Value::Table(t) => flatten(t, &path, out, bad),
            _ => bad.push(path),
        }
    }
}

/// Replaces `{name}` placeholders with values; unknown placeholders stay as they are.
/// One pass over the template: a value is never searched for placeholders itself (a name someone typed
/// that looks like `{command}` stays as typed).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (close, value))
        });
        match value {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholder}` names a text uses, sorted.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if after[..close]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && close > 0 =>
            {
                names.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_value_is_not_filled_again() {
        assert_eq!(
            fill("{a} and {b} {", &[("a", "{b}"), ("b", "B")]),
            "{b} and B {"
        );
        assert_eq!(fill("{x}{x}", &[("x", "ä")]), "ää");
        assert_eq!(fill("no {such} thing", &[("x", "y")]), "no {such} thing");
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        assert_eq!(
            placeholders("Hi {name}, {name} {x_1} {not valid} {}"),
            vec!["name", "x_1"]
        );
        assert_eq!(fill("Hi {name}!", &[("name", "Pekka")]), "Hi Pekka!");
    }
}
