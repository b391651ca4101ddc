//! Failed sign-in links are rate-limited, per client address and in all: a client that opened `PER_CLIENT`
//! bad links is refused (429) until its budget refills, and so is everyone once `ALL` failures came together
//! (someone guessing from many addresses). Good links cost nothing. Token buckets of `domain::budget`.
use crate::domain::budget::{Buckets, Budget, Verdict};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// Bad links one client address may open at once, then one more a minute.
const PER_CLIENT: Budget = Budget {
    burst: 5,
    per_second: 1.0 / 60.0,
};
/// Bad links all clients together may open at once, then one more every 10 seconds.
const ALL: Budget = Budget {
    burst: 30,
    per_second: 0.1,
};

pub struct Limits {
    per_client: Buckets<IpAddr>,
    all: Buckets<()>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_client: Buckets::new(PER_CLIENT),
            all: Buckets::new(ALL),
        }
    }
}

impl Limits {
    /// Whether `client` may try a link now.
    pub fn allows(&mut self, client: IpAddr, now: DateTime<Utc>) -> bool {
        self.all.has_room(&(), now) && self.per_client.has_room(&client, now)
    }

    /// A link `client` tried was bad.
    pub fn failed(&mut self, client: IpAddr, now: DateTime<Utc>) {
        let _: Verdict = self.all.take(&(), now);
        let _: Verdict = self.per_client.take(&client, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_client_is_held_after_five_failures_until_a_minute_passes_and_others_are_not() {
        let mut limits = Limits::default();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..5 {
            assert!(limits.allows(one, now));
            limits.failed(one, now);
        }
        assert!(!limits.allows(one, now));
        assert!(limits.allows(other, now));
        assert!(limits.allows(one, now + TimeDelta::seconds(61)));
    }

    #[test]
    fn everyone_is_held_after_thirty_failures_from_anywhere() {
        let mut limits = Limits::default();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        for i in 0..30u8 {
            let client = IpAddr::from([198, 51, 100, i]);
            assert!(limits.allows(client, now));
            limits.failed(client, now);
        }
        assert!(!limits.allows(IpAddr::from([203, 0, 113, 1]), now));
        assert!(limits.allows(IpAddr::from([203, 0, 113, 1]), now + TimeDelta::seconds(10)));
    }
}
