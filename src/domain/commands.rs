//! The bot's commands, by who may use them. Descriptions live in content under `commands.<name>`.

/// Everyone's commands, in the order menus show them.
pub const USER_COMMANDS: &[&str] = &[
    "start",
    "help",
    "next",
    "schedule",
    "reminders",
    "certificate",
    "leave",
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
