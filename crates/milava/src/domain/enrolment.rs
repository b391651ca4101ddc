//! Taking part in a workshop series: enrolled, waiting, offered a freed place, or left.
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrolmentStatus {
    Enrolled,
    Waitlisted,
    /// A freed place is offered until `offered_until`.
    Offered,
    Left,
}

impl EnrolmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentStatus::Enrolled => "enrolled",
            EnrolmentStatus::Waitlisted => "waitlisted",
            EnrolmentStatus::Offered => "offered",
            EnrolmentStatus::Left => "left",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "enrolled" => Some(EnrolmentStatus::Enrolled),
            "waitlisted" => Some(EnrolmentStatus::Waitlisted),
            "offered" => Some(EnrolmentStatus::Offered),
            "left" => Some(EnrolmentStatus::Left),
            _ => None,
        }
    }

    /// Whether this person holds one of the series' places.
    pub fn holds_place(self) -> bool {
        matches!(self, EnrolmentStatus::Enrolled | EnrolmentStatus::Offered)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub telegram_user_id: i64,
    pub series_id: String,
    pub status: EnrolmentStatus,
    pub offered_until: Option<DateTime<Utc>>,
    pub queued_at: DateTime<Utc>,
}

/// How long a freed place stays offered to the first person on the waitlist.
pub const OFFER_VALID: Duration = Duration::hours(48);

/// How early before a session the check-in button works.
pub const CHECK_IN_EARLY: Duration = Duration::minutes(15);

/// Whether a new registrant gets a place: `holding` places are taken out of `capacity` (None = unlimited).
pub fn has_room(capacity: Option<u32>, holding: i64) -> bool {
    capacity.is_none_or(|c| holding < i64::from(c))
}

/// Whether a check-in at `now` (local wall time) falls in the session's window.
pub fn check_in_open(start: NaiveDateTime, end: NaiveDateTime, now: NaiveDateTime) -> bool {
    now >= start - CHECK_IN_EARLY && now <= end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn capacity_and_the_check_in_window() {
        assert!(has_room(None, 10_000));
        assert!(has_room(Some(2), 1));
        assert!(!has_room(Some(2), 2));
        let (start, end) = (t("2024-03-27 08:00"), t("2024-03-27 12:00"));
        assert!(!check_in_open(start, end, t("2024-03-27 07:44")));
        assert!(check_in_open(start, end, t("2024-03-27 07:45")));
        assert!(check_in_open(start, end, t("2024-03-27 12:00")));
        assert!(!check_in_open(start, end, t("2024-03-27 12:01")));
    }
}
