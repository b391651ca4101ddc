//! A doorbell for a background task: producers ring it after committing work for it (outbox rows for the
//! delivery worker, changes for the scheduler), so no task has to poll. It also counts rings and answers, so
//! the simulator and tests can wait until the task has dealt with everything rung so far ("settled").
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Wakes a background task. Cheap to clone. Ring it after the transaction that enqueued rows has
/// committed (a row the worker cannot see yet is picked up at the next wake-up). A ring while the worker is
/// busy is remembered, so none is lost.
#[derive(Clone, Debug, Default)]
pub struct Doorbell(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    bell: Notify,
    rung: AtomicU64,
    answered: AtomicU64,
    answer: Notify,
}

impl Doorbell {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn wake(&self) {
        self.0.rung.fetch_add(1, Ordering::SeqCst);
        self.0.bell.notify_one();
    }

    /// Completes at the next `wake` (at once if one came while nobody was waiting).
    pub async fn woken(&self) {
        self.0.bell.notified().await;
    }

    /// The task calls this before it looks for work: every ring so far will be dealt with by that look.
    pub fn begin(&self) -> u64 {
        self.0.rung.load(Ordering::SeqCst)
    }

    /// The task calls this after the work that began at `begin()`.
    pub fn answered(&self, upto: u64) {
        self.0.answered.fetch_max(upto, Ordering::SeqCst);
        self.0.answer.notify_waiters();
    }

    pub fn is_settled(&self) -> bool {
        self.0.answered.load(Ordering::SeqCst) >= self.0.rung.load(Ordering::SeqCst)
    }

    /// Waits until every ring so far has been answered; false if `timeout` passes first.
    pub async fn settled(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let answer = self.0.answer.notified();
            tokio::pin!(answer);
            answer.as_mut().enable();
            if self.is_settled() {
                return true;
            }
            if tokio::time::timeout_at(deadline, answer).await.is_err() {
                return self.is_settled();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_before_waiting_is_not_lost() {
        let signal = Doorbell::new();
        signal.clone().wake();
        tokio::time::timeout(Duration::from_secs(5), signal.woken())
            .await
            .expect("the earlier wake is remembered");
    }

    #[tokio::test]
    async fn settled_means_every_ring_was_answered() {
        let bell = Doorbell::new();
        assert!(bell.is_settled());
        bell.wake();
        assert!(!bell.is_settled());
        let seen = bell.begin();
        bell.wake();
        bell.answered(seen);
        assert!(
            !bell.is_settled(),
            "the second ring came after the work began"
        );
        let seen = bell.begin();
        bell.answered(seen);
        assert!(bell.settled(Duration::from_secs(1)).await);
    }
}
