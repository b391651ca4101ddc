//! The bot's commands, by who may use them. Descriptions live in content under `commands.<name>`.
use super::Role;

/// Everyone's commands, in the order menus show them.
pub const USER_COMMANDS: &[&str] = &[
    "start",
    "help",
    "apua",
    "help_now",
    "next",
    "schedule",
    "reminders",
    "certificate",
    "leave",
    "group",
    "rules",
    "coaching",
    "journal",
    "announcements",
    "profile",
    "language",
    "privacy",
    "mydata",
    "forget",
    "cancel",
];
/// Commands only coordinators (COORDINATOR_IDS) may use; anyone else is refused and the attempt logged.
pub const COORDINATOR_COMMANDS: &[&str] = &[
    "stats",
    "participants",
    "attendance",
    "broadcast",
    "broadcasts",
    "cancel_broadcast",
    "survey",
    "results",
    "export",
    "reload",
];
/// Peer-group facilitators' commands, used in the linked Telegram group. The group's facilitators (content)
/// and coordinators may use them; anyone else is refused and the attempt logged.
pub const FACILITATOR_COMMANDS: &[&str] =
    &["linkgroup", "prompt", "skip", "pause", "resume", "upcoming"];
/// Everyone's commands the bot answers inside group chats (other commands there are left to other bots).
pub const GROUP_USER_COMMANDS: &[&str] = &["rules", "apua", "help_now"];

/// The commands a person's own menu and `/help` show for their role (`None`: not registered yet, who see
/// everyone's commands). Fathers get the peer group and coaching, professionals the workshop series.
pub fn menu_for(role: Option<Role>) -> Vec<&'static str> {
    const FATHER: &[&str] = &["group", "rules", "coaching", "journal"];
    const PROFESSIONAL: &[&str] = &["next", "schedule", "reminders", "certificate", "leave"];
    let own: &[&str] = match role {
        None => return USER_COMMANDS.to_vec(),
        Some(Role::Father) => FATHER,
        Some(Role::Professional) => PROFESSIONAL,
        Some(Role::Other) => &[],
    };
    USER_COMMANDS
        .iter()
        .copied()
        .filter(|name| {
            own.contains(name) || !(FATHER.contains(name) || PROFESSIONAL.contains(name))
        })
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
        assert_eq!(menu_for(None), USER_COMMANDS);
    }
}
