//! The input checks real Telegram applies and bots trip over: text length, malformed HTML /
//! MarkdownV2, bad keyboards and over-long callback data.

use super::params::ApiErr;
use serde_json::Value;

const MAX_TEXT: usize = 4096;
const MAX_CAPTION: usize = 1024;
const MAX_CALLBACK_DATA: usize = 64;

const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
];

/// Checks a message text (`is_caption` = false) or caption as Telegram would.
pub(crate) fn check_text(
    text: &str,
    parse_mode: Option<&str>,
    is_caption: bool,
) -> Result<(), ApiErr> {
    let visible = match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        Some("html") => check_html(text)?,
        Some("markdownv2") => {
            check_markdown_v2(text)?;
            text.to_owned()
        }
        _ => text.to_owned(),
    };
    let len = visible.encode_utf16().count();
    if is_caption {
        if len > MAX_CAPTION {
            return Err(ApiErr::bad_request("message caption is too long"));
        }
    } else if visible.trim().is_empty() {
        return Err(ApiErr::bad_request("message text is empty"));
    } else if len > MAX_TEXT {
        return Err(ApiErr::bad_request("message is too long"));
    }
    Ok(())
}

fn entities_error(what: String) -> ApiErr {
    ApiErr::bad_request(format!("can't parse entities: {what}"))
}

/// Validates Telegram-HTML and returns the text without tags.
fn check_html(text: &str) -> Result<String, ApiErr> {
    let mut visible = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(pos) = rest.find('<') {
        visible.push_str(&rest[..pos]);
        let tag_start = offset + pos;
        let after = &rest[pos + 1..];
        let Some(end) = after.find('>') else {
            return Err(entities_error(format!(
                "Unclosed start tag at byte offset {tag_start}"
            )));
        };
        let inner = &after[..end];
        let (closing, body) = match inner.strip_prefix('/') {
            Some(body) => (true, body),
            None => (false, inner),
        };
        let name = body
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if closing {
            match open.pop() {
                Some(expected) if expected == name => {}
                Some(expected) => {
                    return Err(entities_error(format!(
                        "Unmatched end tag at byte offset {tag_start}, expected \"</{expected}>\", found \"</{name}>\""
                    )));
                }
                None => {
                    return Err(entities_error(format!(
                        "Unexpected end tag at byte offset {tag_start}"
                    )));
                }
            }
        } else if HTML_TAGS.contains(&name.as_str()) {
            open.push(name);
        } else {
            return Err(entities_error(format!(
                "Unsupported start tag \"{name}\" at byte offset {tag_start}"
            )));
        }
        let consumed = pos + 1 + end + 1;
        offset += consumed;
        rest = &rest[consumed..];
    }
    visible.push_str(rest);
    if let Some(name) = open.pop() {
        return Err(entities_error(format!(
            "Can't find end tag corresponding to start tag \"{name}\""
        )));
    }
    Ok(visible)
}

/// MarkdownV2: characters that have no meaning by themselves must be escaped outside code.
fn check_markdown_v2(text: &str) -> Result<(), ApiErr> {
    let mut chars = text.chars().peekable();
    let mut in_code = false;
    let mut line_start = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '`' => in_code = !in_code,
            '#' | '+' | '-' | '=' | '{' | '}' | '.' | '!' if !in_code => {
                return Err(entities_error(format!(
                    "Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )));
            }
            '>' if !in_code && !line_start => {
                return Err(entities_error(
                    "Character '>' is reserved and must be escaped with the preceding '\\'"
                        .to_owned(),
                ));
            }
            _ => {}
        }
        line_start = c == '\n';
    }
    Ok(())
}

/// Checks a `reply_markup` object.
pub(crate) fn check_reply_markup(markup: &Value) -> Result<(), ApiErr> {
    let invalid = || ApiErr::bad_request("can't parse reply keyboard markup JSON object");
    let object = markup.as_object().ok_or_else(invalid)?;
    if let Some(rows) = object.get("inline_keyboard") {
        let rows = rows.as_array().ok_or_else(invalid)?;
        for row in rows {
            for button in row.as_array().ok_or_else(invalid)? {
                check_inline_button(button)?;
            }
        }
        Ok(())
    } else if let Some(rows) = object.get("keyboard") {
        let rows = rows.as_array().ok_or_else(invalid)?;
        for row in rows {
            for button in row.as_array().ok_or_else(invalid)? {
                let ok = button.is_string() || button.get("text").is_some_and(Value::is_string);
                if !ok {
                    return Err(ApiErr::bad_request(
                        "can't parse keyboard button: Text must be non-empty",
                    ));
                }
            }
        }
        Ok(())
    } else if object.contains_key("remove_keyboard") || object.contains_key("force_reply") {
        Ok(())
    } else {
        Err(invalid())
    }
}

fn check_inline_button(button: &Value) -> Result<(), ApiErr> {
    if !button.get("text").is_some_and(Value::is_string) {
        return Err(ApiErr::bad_request(
            "can't parse inline keyboard button: Text must be non-empty",
        ));
    }
    const ACTIONS: &[&str] = &[
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    ];
    if !ACTIONS.iter().any(|a| button.get(*a).is_some()) {
        return Err(ApiErr::bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = button.get("callback_data") {
        let len = data.as_str().map(str::len).unwrap_or(0);
        if len == 0 || len > MAX_CALLBACK_DATA {
            return Err(ApiErr::bad_request("BUTTON_DATA_INVALID"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn html_is_checked_like_telegram() {
        assert!(
            check_text(
                "<b>Hi</b> &amp; <a href=\"https://x.y\">link</a>",
                Some("HTML"),
                false
            )
            .is_ok()
        );
        let err = check_text("<b>Hi", Some("HTML"), false).unwrap_err();
        assert!(err.description.contains("Can't find end tag"), "{err:?}");
        let err = check_text("1 <p>2</p>", Some("HTML"), false).unwrap_err();
        assert!(
            err.description.contains("Unsupported start tag \"p\""),
            "{err:?}"
        );
        assert!(
            check_text("<b></b>", Some("HTML"), false).is_err(),
            "empty after entities"
        );
    }

    #[test]
    fn markdown_v2_needs_escapes() {
        assert!(check_text("*bold* 1\\.5", Some("MarkdownV2"), false).is_ok());
        assert!(check_text("Hello.", Some("MarkdownV2"), false).is_err());
        assert!(check_text("`a.b`", Some("MarkdownV2"), false).is_ok());
        assert!(check_text("Hello.", None, false).is_ok());
    }

    #[test]
    fn keyboards_are_checked() {
        let long = "x".repeat(65);
        assert!(
            check_reply_markup(
                &json!({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]})
            )
            .is_ok()
        );
        assert!(
            check_reply_markup(
                &json!({"inline_keyboard": [[{"text": "a", "callback_data": long}]]})
            )
            .is_err()
        );
        assert!(check_reply_markup(&json!({"inline_keyboard": [[{"text": "a"}]]})).is_err());
        assert!(check_reply_markup(&json!({"keyboard": [["a", {"text": "b"}]]})).is_ok());
        assert!(check_reply_markup(&json!({"foo": 1})).is_err());
    }
}
