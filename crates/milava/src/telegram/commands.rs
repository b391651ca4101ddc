//! Publishes the command menus with setMyCommands: per language for everyone, and the longer list for
//! each coordinator's private chat.
use crate::content::Content;
use crate::domain::Lang;
use crate::domain::commands::{Command, Where, Who};
use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};

fn menu(content: &Content, lang: Lang, commands: &[Command]) -> Vec<BotCommand> {
    commands
        .iter()
        .map(|c| {
            BotCommand::new(
                c.name(),
                content.text(lang, &format!("commands.{}", c.name())),
            )
        })
        .collect()
}

pub async fn publish_commands(
    bot: &Bot,
    content: &Content,
    default_lang: Lang,
    coordinators: &[i64],
) -> Result<(), teloxide::RequestError> {
    let everyones: Vec<Command> = Command::all_for(Who::Everyone, Where::Private).collect();
    bot.set_my_commands(menu(content, default_lang, &everyones))
        .await?;
    for lang in Lang::ALL {
        bot.set_my_commands(menu(content, lang, &everyones))
            .language_code(lang.code())
            .await?;
    }
    let everything: Vec<Command> = everyones
        .iter()
        .copied()
        .chain(Command::all_for(Who::Coordinators, Where::Private))
        .collect();
    for id in coordinators {
        // Fails with "chat not found" until the coordinator has started the bot; the menu is a convenience.
        let scope = BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(*id)),
        };
        let mut result = bot
            .set_my_commands(menu(content, default_lang, &everything))
            .scope(scope.clone())
            .await;
        for lang in Lang::ALL {
            if result.is_ok() {
                result = bot
                    .set_my_commands(menu(content, lang, &everything))
                    .scope(scope.clone())
                    .language_code(lang.code())
                    .await;
            }
        }
        if let Err(e) = result {
            log::warn!(
                "coordinator {id}: command menu not published ({e}); it will be after the next start once they have opened the bot"
            );
        }
    }
    // Group chats, after the private menus: everyone's group commands; group administrators (facilitators
    // usually are) also see the facilitators' commands.
    let for_admins: Vec<Command> = Command::GROUP_MENU
        .iter()
        .copied()
        .chain(Command::all_for(Who::Facilitators, Where::Group))
        .collect();
    for (scope, names) in [
        (BotCommandScope::AllGroupChats, Command::GROUP_MENU),
        (
            BotCommandScope::AllChatAdministrators,
            for_admins.as_slice(),
        ),
    ] {
        for lang in Lang::ALL {
            bot.set_my_commands(menu(content, lang, names))
                .scope(scope.clone())
                .language_code(lang.code())
                .await?;
        }
        bot.set_my_commands(menu(content, default_lang, names))
            .scope(scope)
            .await?;
    }
    Ok(())
}

/// Sets one person's menu for their chat (after registration or `/language`). A failure is logged: the menu
/// is a convenience, and the previous one stays.
pub async fn set_chat_menu(bot: &Bot, chat_id: ChatId, menu: &crate::services::ChatMenu) {
    let commands: Vec<BotCommand> = menu
        .commands
        .iter()
        .map(|(name, description)| BotCommand::new(name.clone(), description.clone()))
        .collect();
    let scope = BotCommandScope::Chat {
        chat_id: Recipient::Id(chat_id),
    };
    let mut result = bot
        .set_my_commands(commands.clone())
        .scope(scope.clone())
        .await;
    for code in &menu.language_codes {
        if result.is_ok() {
            result = bot
                .set_my_commands(commands.clone())
                .scope(scope.clone())
                .language_code(code.clone())
                .await;
        }
    }
    if let Err(e) = result {
        log::warn!("chat {}: command menu not set ({e})", chat_id.0);
    }
}
