//! The bot's commands as a type. The adapter parses a command once (`Command::from_name`); every variant has
//! one access rule (`Command::access`: who may use it, and where the bot answers it), written as an exhaustive
//! match, so a new command does not compile without that decision. Descriptions for the menus live in content
//! under `commands.<name>`.

use super::Role;

/// Every command the bot knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    Start,
    Help,
    Apua,
    HelpNow,
    Next,
    Schedule,
    Reminders,
    Certificate,
    Leave,
    Group,
    Rules,
    Coaching,
    Journal,
    Announcements,
    Profile,
    Language,
    Privacy,
    MyData,
    Forget,
    Cancel,
    Stats,
    Participants,
    Attendance,
    Broadcast,
    Broadcasts,
    CancelBroadcast,
    Survey,
    Results,
    Export,
    Reload,
    Admin,
    LinkGroup,
    Prompt,
    Skip,
    Pause,
    Resume,
    Upcoming,
}

/// Who may use a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Everyone,
    /// People in `COORDINATOR_IDS`; anyone else is refused and the attempt logged.
    Coordinators,
    /// The linked group's facilitators (the database's list) and coordinators; anyone else is refused and the attempt logged.
    Facilitators,
}

/// Where the bot answers a command. In a group chat the bot answers only commands allowed there and leaves
/// the rest to other bots; a group-only command sent privately is answered with "use it in the group".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    Private,
    Group,
    PrivateAndGroup,
}

impl Where {
    pub fn private(self) -> bool {
        matches!(self, Where::Private | Where::PrivateAndGroup)
    }

    pub fn group(self) -> bool {
        matches!(self, Where::Group | Where::PrivateAndGroup)
    }
}

/// A command's access rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub who: Who,
    pub answered_in: Where,
}

impl Command {
    /// Every command, in the order menus show them.
    pub const ALL: &[Command] = &[
        Command::Start,
        Command::Help,
        Command::Apua,
        Command::HelpNow,
        Command::Next,
        Command::Schedule,
        Command::Reminders,
        Command::Certificate,
        Command::Leave,
        Command::Group,
        Command::Rules,
        Command::Coaching,
        Command::Journal,
        Command::Announcements,
        Command::Profile,
        Command::Language,
        Command::Privacy,
        Command::MyData,
        Command::Forget,
        Command::Cancel,
        Command::Stats,
        Command::Participants,
        Command::Attendance,
        Command::Broadcast,
        Command::Broadcasts,
        Command::CancelBroadcast,
        Command::Survey,
        Command::Results,
        Command::Export,
        Command::Reload,
        Command::Admin,
        Command::LinkGroup,
        Command::Prompt,
        Command::Skip,
        Command::Pause,
        Command::Resume,
        Command::Upcoming,
    ];

    /// The name typed after `/` (lower case, as Telegram's menus require).
    pub fn name(self) -> &'static str {
        match self {
            Command::Start => "start",
            Command::Help => "help",
            Command::Apua => "apua",
            Command::HelpNow => "help_now",
            Command::Next => "next",
            Command::Schedule => "schedule",
            Command::Reminders => "reminders",
            Command::Certificate => "certificate",
            Command::Leave => "leave",
            Command::Group => "group",
            Command::Rules => "rules",
            Command::Coaching => "coaching",
            Command::Journal => "journal",
            Command::Announcements => "announcements",
            Command::Profile => "profile",
            Command::Language => "language",
            Command::Privacy => "privacy",
            Command::MyData => "mydata",
            Command::Forget => "forget",
            Command::Cancel => "cancel",
            Command::Stats => "stats",
            Command::Participants => "participants",
            Command::Attendance => "attendance",
            Command::Broadcast => "broadcast",
            Command::Broadcasts => "broadcasts",
            Command::CancelBroadcast => "cancel_broadcast",
            Command::Survey => "survey",
            Command::Results => "results",
            Command::Export => "export",
            Command::Reload => "reload",
            Command::Admin => "admin",
            Command::LinkGroup => "linkgroup",
            Command::Prompt => "prompt",
            Command::Skip => "skip",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Upcoming => "upcoming",
        }
    }

    /// Everyone's commands in group chats, in the order the group menu shows them (the rules first).
    pub const GROUP_MENU: &[Command] = &[Command::Rules, Command::Apua, Command::HelpNow];

    /// The command with this name (already lower-cased, without `/` and `@bot`).
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Who may use the command, and where the bot answers it.
    pub fn access(self) -> Access {
        use Command::*;
        let (who, answered_in) = match self {
            Rules | Apua | HelpNow => (Who::Everyone, Where::PrivateAndGroup),
            Start | Help | Next | Schedule | Reminders | Certificate | Leave | Group | Coaching
            | Journal | Announcements | Profile | Language | Privacy | MyData | Forget | Cancel => {
                (Who::Everyone, Where::Private)
            }
            Stats | Participants | Attendance | Broadcast | Broadcasts | CancelBroadcast
            | Survey | Results | Export | Reload | Admin => (Who::Coordinators, Where::Private),
            LinkGroup | Prompt | Skip | Pause | Resume | Upcoming => {
                (Who::Facilitators, Where::Group)
            }
        };
        Access { who, answered_in }
    }

    /// The commands `who` may use where `place` answers them, in menu order.
    pub fn all_for(who: Who, place: Where) -> impl Iterator<Item = Command> {
        Command::ALL.iter().copied().filter(move |c| {
            let access = c.access();
            access.who == who
                && match place {
                    Where::Private => access.answered_in.private(),
                    Where::Group => access.answered_in.group(),
                    Where::PrivateAndGroup => true,
                }
        })
    }

    /// Whether a person's own menu and `/help` show this command for their role (`None`: not registered
    /// yet, who see everyone's commands). Fathers get the peer group and coaching, professionals the workshop
    /// series; commands of no role are everyone's.
    pub fn shown_to(self, role: Option<Role>) -> bool {
        use Command::*;
        match (self, role) {
            (_, None) => true,
            (Group | Rules | Coaching | Journal, Some(role)) => role == Role::Father,
            (Next | Schedule | Reminders | Certificate | Leave, Some(role)) => {
                role == Role::Professional
            }
            _ => true,
        }
    }

    /// Names of `all_for(who, place)`.
    pub fn names_for(who: Who, place: Where) -> Vec<&'static str> {
        Command::all_for(who, place).map(Command::name).collect()
    }
}

/// The everyone's commands a person's own menu and `/help` show for their role, in menu order.
pub fn menu_for(role: Option<Role>) -> Vec<&'static str> {
    Command::all_for(Who::Everyone, Where::Private)
        .filter(|c| c.shown_to(role))
        .map(Command::name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_its_own_commands() {
        let father = menu_for(Some(Role::Father));
        assert!(father.contains(&"coaching") && father.contains(&"group"));
        assert!(!father.contains(&"leave") && !father.contains(&"certificate"));
        let pro = menu_for(Some(Role::Professional));
        assert!(pro.contains(&"leave") && pro.contains(&"certificate") && pro.contains(&"next"));
        assert!(!pro.contains(&"coaching") && !pro.contains(&"group") && !pro.contains(&"journal"));
        let other = menu_for(Some(Role::Other));
        assert!(!other.contains(&"next") && !other.contains(&"coaching"));
        assert!(other.contains(&"profile") && other.contains(&"forget"));
        assert_eq!(
            menu_for(None),
            Command::names_for(Who::Everyone, Where::Private)
        );
    }

    #[test]
    fn names_are_unique_valid_telegram_commands_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &command in Command::ALL {
            let name = command.name();
            assert!(seen.insert(name), "/{name} twice");
            assert!(
                (1..=32).contains(&name.len())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "/{name} is not a valid Telegram command name"
            );
            assert_eq!(Command::from_name(name), Some(command));
        }
        assert_eq!(Command::from_name("nonsense"), None);
        assert_eq!(Command::from_name("START"), None, "names are lower case");
    }

    #[test]
    fn every_command_is_answered_somewhere_and_group_commands_are_for_groups() {
        for &command in Command::ALL {
            let access = command.access();
            if access.who == Who::Facilitators {
                assert_eq!(access.answered_in, Where::Group, "{command:?}");
            }
            if access.who == Who::Coordinators {
                assert_eq!(access.answered_in, Where::Private, "{command:?}");
            }
        }
        let mut in_groups: Vec<Command> = Command::all_for(Who::Everyone, Where::Group).collect();
        in_groups.sort_by_key(|c| c.name());
        let mut menu = Command::GROUP_MENU.to_vec();
        menu.sort_by_key(|c| c.name());
        assert_eq!(
            menu, in_groups,
            "the group menu lists exactly everyone's group commands"
        );
    }
}
