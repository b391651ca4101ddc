//! `/apua` and `/help_now`: the support resources from content (dialogues/support.toml), always privately.
//! In a group the asker is answered in their private chat; if the bot may not write to them (they never
//! started it), the group gets only a neutral line with a button to the bot's private chat, whose start
//! payload shows the resources — no name, no reply to the asker's message.
use super::Response;
use crate::content::Content;
use crate::domain::{Button, Lang, Reply};

pub use crate::domain::groups::HELP_NOW_PAYLOAD as START_PAYLOAD;

pub fn resources(content: &Content, lang: Lang) -> Reply {
    let mut lines = vec![content.text(lang, "help_now.title").to_string()];
    for resource in &content.support {
        let mut line = content.fill(
            lang,
            "help_now.line",
            &[
                ("name", resource.name.get(lang)),
                ("contact", &resource.contact),
            ],
        );
        if let Some(note) = &resource.note {
            line.push_str("\n   ");
            line.push_str(note.get(lang));
        }
        lines.push(line);
    }
    lines.push(content.text(lang, "help_now.footer").to_string());
    Reply::text(lines.join("\n\n"))
}

/// The answer to `/apua` in a group: resources privately, the neutral fallback, and the command deleted from
/// the group when the bot has the right to (so fewer people see who asked).
pub fn in_group(content: &Content, lang: Lang, bot_username: &str) -> Response {
    let button = Button::url(
        content.text(lang, "button.help_now.open"),
        format!("https://t.me/{bot_username}?start={START_PAYLOAD}"),
    );
    Response {
        private: vec![resources(content, lang)],
        private_fallback: vec![Reply::with_buttons(
            content.text(lang, "help_now.group_fallback"),
            vec![vec![button]],
        )],
        delete_input: true,
        ..Response::default()
    }
}
