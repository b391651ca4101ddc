//! The bot's commands, by who may use them. Descriptions live in content under `commands.<name>`.

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
