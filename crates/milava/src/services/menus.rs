//! Each role sees its own bot: the person's command menu (set by the adapter with setMyCommands scoped to
//! their chat, in their chosen language) and `/help` list the commands of their role.
use super::{ChatMenu, Turn};
use crate::db::{DbError, Tx, participants};
use crate::domain::Lang;
use crate::domain::commands::{Command, Where, Who, menu_for};

async fn names(tx: &mut Tx, turn: &Turn<'_>) -> Result<Vec<&'static str>, DbError> {
    let role = participants::get(tx, turn.user.telegram_user_id)
        .await?
        .map(|p| p.role);
    let mut names = menu_for(role);
    if turn.is_coordinator() {
        names.extend(Command::names_for(Who::Coordinators, Where::Private));
    }
    Ok(names)
}

/// The menu for the person's role, in their chosen language. A coordinator's chat also had a list per app
/// language published at start-up, which outranks a list without a language: theirs is set for each.
pub async fn menu(tx: &mut Tx, turn: &Turn<'_>) -> Result<ChatMenu, DbError> {
    let commands = names(tx, turn)
        .await?
        .into_iter()
        .map(|name| (name.to_string(), turn.text(&format!("commands.{name}"))))
        .collect();
    let language_codes = if turn.is_coordinator() {
        Lang::ALL.iter().map(|l| l.code().to_string()).collect()
    } else {
        Vec::new()
    };
    Ok(ChatMenu {
        commands,
        language_codes,
    })
}

/// `/help` for the person's role: lines of the help text that name a command (`/next – …`) are kept only
/// for the commands of their role.
pub async fn help(tx: &mut Tx, turn: &Turn<'_>) -> Result<String, DbError> {
    let names = names(tx, turn).await?;
    let text = turn.text("help.text");
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| match line.strip_prefix('/') {
            Some(rest) => {
                let command: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.contains(&command.as_str())
            }
            None => true,
        })
        .collect();
    Ok(kept.join("\n"))
}
