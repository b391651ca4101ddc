//! The outbox's doorbell: producers ring it after committing new rows, so the worker never has to poll.
use std::sync::Arc;
use tokio::sync::Notify;

/// Wakes the delivery worker. Cheap to clone. Ring it after the transaction that enqueued rows has
/// committed (a row the worker cannot see yet is picked up at the next wake-up). A ring while the worker is
/// busy is remembered, so none is lost.
#[derive(Clone, Debug, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Completes at the next `wake` (at once if one came while nobody was waiting).
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_wake_before_waiting_is_not_lost() {
        let signal = OutboxSignal::new();
        signal.clone().wake();
        tokio::time::timeout(Duration::from_secs(5), signal.woken())
            .await
            .expect("the earlier wake is remembered");
    }
}
