//! Coordinators' broadcasts: who receives one, and how its progress reads.
use super::participant::Role;

/// Who a broadcast goes to. Encoded as a short code for buttons and storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    Role(Role),
    Series(String),
    Area(String),
    /// People who gave the research consent.
    Research,
    /// Members of a fathers' peer group.
    Group(String),
}

impl Audience {
    pub fn code(&self) -> String {
        match self {
            Audience::Everyone => "all".into(),
            Audience::Role(role) => format!("role-{}", role.as_str()),
            Audience::Series(id) => format!("series-{id}"),
            Audience::Area(area) => format!("area-{area}"),
            Audience::Research => "research".into(),
            Audience::Group(id) => format!("group-{id}"),
        }
    }

    pub fn parse(code: &str) -> Option<Audience> {
        match code {
            "all" => return Some(Audience::Everyone),
            "research" => return Some(Audience::Research),
            _ => {}
        }
        let (kind, value) = code.split_once('-')?;
        if value.is_empty() {
            return None;
        }
        match kind {
            "role" => Role::parse(value).map(Audience::Role),
            "series" => Some(Audience::Series(value.into())),
            "area" => Some(Audience::Area(value.into())),
            "group" => Some(Audience::Group(value.into())),
            _ => None,
        }
    }
}

/// Where a broadcast is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BroadcastStatus {
    /// Being put together: waiting for the audience, the message, or the time.
    Draft,
    Scheduled,
    Sending,
    Done,
    Cancelled,
}

impl BroadcastStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastStatus::Draft => "draft",
            BroadcastStatus::Scheduled => "scheduled",
            BroadcastStatus::Sending => "sending",
            BroadcastStatus::Done => "done",
            BroadcastStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Scheduled,
            Self::Sending,
            Self::Done,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Seconds left at `rate` messages a second for `remaining` messages (rounded up).
pub fn seconds_left(remaining: i64, rate: f64) -> i64 {
    if remaining <= 0 || rate <= 0.0 {
        0
    } else {
        (remaining as f64 / rate).ceil() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_round_trip_through_their_codes() {
        for audience in [
            Audience::Everyone,
            Audience::Role(Role::Father),
            Audience::Series("oulu-2024".into()),
            Audience::Area("kajaani".into()),
            Audience::Research,
            Audience::Group("oulu-isat-fi".into()),
        ] {
            assert_eq!(Audience::parse(&audience.code()), Some(audience));
        }
        for bad in ["", "role-pirate", "series-", "planet-mars", "everyone"] {
            assert_eq!(Audience::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn time_left_is_rounded_up() {
        assert_eq!(seconds_left(0, 25.0), 0);
        assert_eq!(seconds_left(26, 25.0), 2);
        assert_eq!(seconds_left(10_000, 25.0), 400);
    }
}
