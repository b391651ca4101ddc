//! Parsing what is typed into the simulator: chat text, button numbers and `:` commands.
use chrono::{Duration, NaiveDateTime};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Text (or a /command) sent as the current user.
    Say(String),
    /// Press the button with this number (1-based) on the newest message that has buttons.
    PressNumber(usize),
    Press(String),
    User {
        name: String,
        lang: Option<String>,
    },
    Coordinator,
    Group(String),
    Advance(Duration),
    Until(NaiveDateTime),
    Now,
    Due,
    Db,
    Edit(String),
    Media(&'static str),
    Help,
    Quit,
    Blank,
}

/// A line the simulator could not understand, with a one-line explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine(pub String);

pub const HELP: &str = "\
Type a message to send it as the current user; /commands work as in Telegram.
  1, 2, …            press that button on the newest message with buttons
  :press LABEL       press the button with this label
  :say TEXT          send TEXT even if it looks like a number or a : command
  :user NAME [fi|en] create or switch to a user (new users get the language given, default fi)
  :coordinator       switch to the coordinator user (COORDINATOR_IDS includes it)
  :group NAME        talk inside a peer-group chat as the current user (:user to leave)
  :edit TEXT         edit your last message
  :sticker, :photo   send a sticker or a photo
  :advance 2h        move the clock forward (m, h, d, w; e.g. 1d2h) and show what the bot sends
  :until DATE TIME   move the clock to a local time (2024-03-27 07:30 or 27.3.2024 7.30)
  :now               show the simulated time
  :due               list what is scheduled to be sent next
  :db                a short summary of what is stored
  :help              this list
  :quit              leave (Ctrl-D works too)";

pub fn parse(raw: &str) -> Result<Line, BadLine> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Line::Blank);
    }
    if let Ok(number) = line.parse::<usize>() {
        return Ok(Line::PressNumber(number));
    }
    let Some(command) = line.strip_prefix(':') else {
        return Ok(Line::Say(line.to_string()));
    };
    let (name, rest) = command
        .split_once(char::is_whitespace)
        .unwrap_or((command, ""));
    let rest = rest.trim();
    let need = |what: &str| -> Result<String, BadLine> {
        if rest.is_empty() {
            Err(BadLine(format!(":{name} needs {what}")))
        } else {
            Ok(rest.to_string())
        }
    };
    match name {
        "say" => Ok(Line::Say(need("the text to send")?)),
        "press" => Ok(Line::Press(need("a button label")?)),
        "user" => {
            let args = need("a name, e.g. :user Matti fi")?;
            let mut words: Vec<&str> = args.split_whitespace().collect();
            let lang = match words.last() {
                Some(&("fi" | "en")) if words.len() > 1 => words.pop().map(str::to_string),
                _ => None,
            };
            Ok(Line::User {
                name: words.join(" "),
                lang,
            })
        }
        "coordinator" => Ok(Line::Coordinator),
        "group" => Ok(Line::Group(need("a group name")?)),
        "advance" => parse_duration(&need("a duration, e.g. :advance 2h")?).map(Line::Advance),
        "until" => parse_local(&need(
            "a local date and time, e.g. :until 2024-03-27 07:30",
        )?)
        .map(Line::Until),
        "now" => Ok(Line::Now),
        "due" => Ok(Line::Due),
        "db" => Ok(Line::Db),
        "edit" => Ok(Line::Edit(need("the new text")?)),
        "sticker" => Ok(Line::Media("sticker")),
        "photo" => Ok(Line::Media("photo")),
        "help" => Ok(Line::Help),
        "quit" | "exit" | "q" => Ok(Line::Quit),
        other => Err(BadLine(format!(
            "unknown command :{other} (:help lists them)"
        ))),
    }
}

/// `90m`, `2h`, `3d`, `1w`, or combinations such as `1d2h30m`.
pub fn parse_duration(raw: &str) -> Result<Duration, BadLine> {
    let bad = || {
        BadLine(format!(
            "'{raw}' is not a duration (use e.g. 30m, 2h, 3d, 1w or 1d2h)"
        ))
    };
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in raw.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total += match c {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            _ => return Err(bad()),
        };
    }
    if !number.is_empty() || total <= Duration::zero() {
        return Err(bad());
    }
    Ok(total)
}

/// `2024-03-27 07:30`, `2024-03-27T07:30` or the Finnish `27.3.2024 7.30`.
pub fn parse_local(raw: &str) -> Result<NaiveDateTime, BadLine> {
    let formats = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%d.%m.%Y %H.%M",
        "%d.%m.%Y %H:%M",
    ];
    formats
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw.trim(), f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| {
            BadLine(format!(
                "'{raw}' is not a local date and time (use 2024-03-27 07:30 or 27.3.2024 7.30)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_parsed() {
        assert_eq!(parse("2"), Ok(Line::PressNumber(2)));
        assert_eq!(parse("/start"), Ok(Line::Say("/start".into())));
        assert_eq!(
            parse(":user Anna Virtanen en"),
            Ok(Line::User {
                name: "Anna Virtanen".into(),
                lang: Some("en".into())
            })
        );
        assert_eq!(
            parse(":user Matti"),
            Ok(Line::User {
                name: "Matti".into(),
                lang: None
            })
        );
        assert_eq!(
            parse(":advance 1d2h"),
            Ok(Line::Advance(Duration::hours(26)))
        );
        assert_eq!(parse("# comment"), Ok(Line::Blank));
        assert!(
            parse(":teleport")
                .unwrap_err()
                .0
                .contains("unknown command :teleport")
        );
        assert!(parse(":advance soon").is_err());
        assert!(parse(":advance 5").is_err());
        assert!(parse(":user").is_err());
    }

    #[test]
    fn local_times_in_two_notations() {
        let expected = NaiveDateTime::parse_from_str("2024-03-27 07:30", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(parse_local("2024-03-27 07:30"), Ok(expected));
        assert_eq!(parse_local("27.3.2024 7.30"), Ok(expected));
        assert!(parse_local("tomorrow").is_err());
    }
}
