//! Validation of typed answers. Returns the problem so the step can re-ask with a clear reason.
use super::fields::Field;
use super::flow::Problem;

pub const NAME_MAX: usize = 40;
pub const ORGANISATION_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;

/// Cleans and checks free text for a field: trims, collapses inner whitespace, enforces length and shape.
pub fn free_text(field: Field, raw: &str) -> Result<String, Problem> {
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Problem::BadCharacters);
    }
    let cleaned = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let length = cleaned.chars().count();
    match field {
        Field::Name => {
            if length == 0 {
                return Err(Problem::Empty);
            }
            if length > NAME_MAX {
                return Err(Problem::TooLong { max: NAME_MAX });
            }
            if !cleaned.chars().any(char::is_alphabetic) {
                return Err(Problem::NotAName);
            }
            Ok(cleaned)
        }
        Field::Organisation => {
            if length < 2 {
                return Err(Problem::TooShort { min: 2 });
            }
            if length > ORGANISATION_MAX {
                return Err(Problem::TooLong {
                    max: ORGANISATION_MAX,
                });
            }
            Ok(cleaned)
        }
        Field::Email => {
            if cleaned.chars().count() > EMAIL_MAX {
                return Err(Problem::TooLong { max: EMAIL_MAX });
            }
            if is_email(&cleaned) {
                Ok(cleaned.to_lowercase())
            } else {
                Err(Problem::BadEmail)
            }
        }
        _ => Err(Problem::NeedButton),
    }
}

/// A practical email check: one `@`, a non-empty local part, a domain with a dot and a 2+ letter TLD, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || s.contains(char::is_whitespace)
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
    {
        return false;
    }
    let tld = labels[labels.len() - 1];
    tld.len() >= 2
        && tld.chars().all(char::is_alphabetic)
        && labels
            .iter()
            .all(|l| l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

/// Deep-link payloads: 1–64 characters of `A-Za-z0-9_-` (Telegram's rule).
pub fn is_deep_link_payload(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_limited() {
        assert_eq!(
            free_text(Field::Name, "  Matti   Meikäläinen ").unwrap(),
            "Matti Meikäläinen"
        );
        assert_eq!(free_text(Field::Name, "   "), Err(Problem::Empty));
        assert_eq!(free_text(Field::Name, "1234"), Err(Problem::NotAName));
        assert_eq!(
            free_text(Field::Name, &"a".repeat(41)),
            Err(Problem::TooLong { max: 40 })
        );
        assert_eq!(
            free_text(Field::Name, "bad\u{0}name"),
            Err(Problem::BadCharacters)
        );
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert_eq!(
            free_text(Field::Email, " Venla.V@Diak.fi ").unwrap(),
            "venla.v@diak.fi"
        );
        for bad in [
            "venla",
            "venla@",
            "@diak.fi",
            "venla@diak",
            "ve nla@diak.fi",
            "v@@diak.fi",
            "v@diak.f1",
            "v..x@diak.fi",
        ] {
            assert_eq!(
                free_text(Field::Email, bad),
                Err(Problem::BadEmail),
                "{bad}"
            );
        }
    }

    #[test]
    fn deep_link_payloads_follow_telegram_rules() {
        assert!(is_deep_link_payload("rovaniemi-kevat24"));
        assert!(!is_deep_link_payload(""));
        assert!(!is_deep_link_payload("äiti"));
        assert!(!is_deep_link_payload(&"a".repeat(65)));
    }
}
