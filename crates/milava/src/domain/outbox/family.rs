//! What a queued message is, as a coordinator reads it: each kind of outbox key (its first part) belongs to
//! one family, and the console's overview counts a family's messages together under its text
//! `console.overview.kind.<family>` (a survey's reminders with its invitations, a broadcast's status
//! messages with its copies).

/// Every family; each has a text in both languages (`content::console_keys`).
pub const KEY_FAMILIES: &[&str] = &[
    "broadcast",
    "certificate",
    "change",
    "coaching",
    "group_lost",
    "join",
    "offer",
    "prompt",
    "session",
    "survey",
];

/// The family of a stored key's first part (`survey-reminder` → `survey`); `None` for a kind this version
/// does not write.
pub fn key_family(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "broadcast" | "broadcast-status" | "broadcast-status-edit" | "broadcast-summary" => {
            "broadcast"
        }
        "certificate" => "certificate",
        "change" => "change",
        "coaching" => "coaching",
        "group-lost" => "group_lost",
        "join" => "join",
        "offer" | "offer-expired" => "offer",
        "prompt" => "prompt",
        "session" => "session",
        "survey" | "survey-reminder" => "survey",
        _ => return None,
    })
}
