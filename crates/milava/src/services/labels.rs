//! Short labels for coordinators' buttons (a label longer than ≈ 30 characters is cut off on phones).
use crate::domain::Lang;
use crate::domain::programme::{Series, Session};

/// As `check` allows for labels in content.
const MAX_BUTTON_CHARS: usize = 30;

/// A series' short name: its name up to the first comma ("Oulu, kevät 2024" → "Oulu").
pub fn series_short(series: &Series, lang: Lang) -> String {
    let name = series.name.get(lang);
    name.split(',').next().unwrap_or(name).trim().to_string()
}

/// A session as "3.4. Verkkotapaaminen 1", or only its date when that would be too long.
pub fn session(session: &Session, lang: Lang) -> String {
    let date = session.start.format("%-d.%-m.").to_string();
    first_that_fits([format!("{date} {}", session.title.get(lang)), date])
}

/// A session with its series, as "Oulu 3.4. Verkkotapaaminen 1", or "Rovaniemi 27.3." when the title does
/// not fit (a series has at most one session a day, so the date tells them apart).
pub fn session_in_series(series: &Series, session: &Session, lang: Lang) -> String {
    let short = series_short(series, lang);
    let date = session.start.format("%-d.%-m.").to_string();
    first_that_fits([
        format!("{short} {date} {}", session.title.get(lang)),
        format!("{short} {date}"),
    ])
}

/// The first label that fits on a button; else the last one cut at a word (with "…").
fn first_that_fits<const N: usize>(labels: [String; N]) -> String {
    if let Some(fits) = labels
        .iter()
        .find(|l| l.chars().count() <= MAX_BUTTON_CHARS)
    {
        return fits.clone();
    }
    cut_at_word(
        labels.last().map(String::as_str).unwrap_or_default(),
        MAX_BUTTON_CHARS,
    )
}

/// `text` as it is when it has at most `max` characters; else cut at a word to fit with "…" (mid-word when
/// its first word is longer).
pub fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut = String::new();
    for word in text.split(' ') {
        let next = if cut.is_empty() {
            word.to_string()
        } else {
            format!("{cut} {word}")
        };
        if next.chars().count() + 1 > max {
            break;
        }
        cut = next;
    }
    if cut.is_empty() {
        cut = text.chars().take(max.saturating_sub(1)).collect();
    }
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_on_a_button() {
        assert_eq!(
            first_that_fits(["Oulu 3.4. Verkkotapaaminen 1".into(), "Oulu 3.4.".into()]),
            "Oulu 3.4. Verkkotapaaminen 1"
        );
        assert_eq!(
            first_that_fits([
                "Rovaniemi 27.3. Verkkotapaaminen 1".into(),
                "Rovaniemi 27.3.".into()
            ]),
            "Rovaniemi 27.3."
        );
        let long = first_that_fits(["a very long label made of many short words indeed".into()]);
        assert_eq!(long, "a very long label made of…");
        assert!(long.chars().count() <= MAX_BUTTON_CHARS);
    }

    #[test]
    fn a_text_is_cut_at_a_word_to_fit() {
        assert_eq!(cut_at_word("Hyvää joulua", 12), "Hyvää joulua");
        assert_eq!(cut_at_word("Hyvää joulua kaikille", 16), "Hyvää joulua…");
        assert_eq!(cut_at_word("Ääääääääää", 5), "Ääää…");
        assert_eq!(cut_at_word("Ääääääääää", 5).chars().count(), 5);
    }
}
