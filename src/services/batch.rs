//! Group commit: inputs that arrive while others are being handled are handled one after another in one
//! write transaction, and all are answered when it has committed.
//!
//! Why: SQLite has one writer, so every input waits for its turn (`db::turns`). Each statement is a round
//! trip to the connection's own thread (sqlx-sqlite), about 0.15 ms here, and `BEGIN` and `COMMIT` are two
//! of an input's four or so; under load the queue of inputs behind the writer made the slow tail of reply
//! times (README, Performance). Handled together, a batch pays for `BEGIN`, `COMMIT`, the turn and the pool
//! once.
//!
//! Each input is still all or nothing: if any input of a batch fails (or the commit does), the batch is
//! rolled back and every input of it is handled again alone, so one person's failure is only theirs. One
//! chat's inputs stay in order because a chat's lane waits for each answer before sending the next input.
use super::{Ctx, Handled, Incoming, Response, handle_alone, handle_on};
use crate::db::{self, DbError};
use crate::fault_log::Fault;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// The most inputs handled in one transaction (there are 64 handling lanes, so rarely more wait at once);
/// bounds how long the first of a batch waits for the rest.
const MAX_BATCH: usize = 64;

/// The queue of inputs waiting to be handled and the task that handles them. Started on first use, in the
/// runtime of that use; started again if it has ended (its runtime stopped, or a handler panicked).
#[derive(Debug, Default)]
pub struct Batcher {
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    counts: Arc<Counts>,
}

/// What the batches were like, for tests and the benchmark's understanding.
#[derive(Debug, Default)]
struct Counts {
    largest: AtomicUsize,
    /// Batches that failed as a whole and whose inputs were then handled alone.
    retried_alone: AtomicUsize,
}

struct Job {
    ctx: Ctx,
    incoming: Incoming,
    answer: oneshot::Sender<Response>,
}

/// Queues `incoming` to be handled with whatever else is waiting; `None` if the handling task could not take
/// it (then the caller handles it alone).
pub(super) async fn handle_with_others(ctx: &Ctx, incoming: &Incoming) -> Option<Response> {
    let (answer, answered) = oneshot::channel();
    let job = Job {
        ctx: ctx.clone(),
        incoming: incoming.clone(),
        answer,
    };
    if !ctx.handling.queue(job) {
        return None;
    }
    answered.await.ok()
}

impl Batcher {
    /// The most inputs handled in one transaction so far.
    pub fn largest_batch(&self) -> usize {
        self.counts.largest.load(Ordering::Relaxed)
    }

    /// How many batches failed as a whole, so that each of their inputs was handled again alone.
    pub fn batches_retried_alone(&self) -> usize {
        self.counts.retried_alone.load(Ordering::Relaxed)
    }

    /// Whether the handling task took the job.
    fn queue(&self, job: Job) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let sender = match queue.as_ref().filter(|sender| !sender.is_closed()) {
            Some(sender) => sender,
            None => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return false;
                };
                let (sender, jobs) = mpsc::unbounded_channel();
                runtime.spawn(handle_batches(jobs, self.counts.clone()));
                queue.insert(sender)
            }
        };
        sender.send(job).is_ok()
    }
}

/// The handling task: takes what is waiting (up to `MAX_BATCH`), handles it, and again.
async fn handle_batches(mut jobs: mpsc::UnboundedReceiver<Job>, counts: Arc<Counts>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        counts.largest.fetch_max(batch.len(), Ordering::Relaxed);
        handle_batch(std::mem::take(&mut batch), &counts).await;
    }
}

async fn handle_batch(mut batch: Vec<Job>, counts: &Counts) {
    if batch.len() == 1 {
        let job = batch.remove(0);
        let response = handle_alone(&job.ctx, &job.incoming).await;
        let _ = job.answer.send(response);
        return;
    }
    match handle_together(&batch).await {
        Ok(handled) => {
            batch[0].ctx.faults.recovered(Fault::Handling);
            for (job, handled) in batch.into_iter().zip(handled) {
                handled.after_commit(&job.ctx);
                let _ = job.answer.send(handled.response);
            }
        }
        Err(e) => {
            counts.retried_alone.fetch_add(1, Ordering::Relaxed);
            log::debug!(
                "a batch of {} inputs failed ({e}); handling each alone",
                batch.len()
            );
            for job in batch {
                let response = handle_alone(&job.ctx, &job.incoming).await;
                let _ = job.answer.send(response);
            }
        }
    }
}

/// Every input of the batch in one write transaction; nothing is kept if any of them fails.
async fn handle_together(batch: &[Job]) -> Result<Vec<Handled>, DbError> {
    let mut tx = db::begin_write(&batch[0].ctx.pool).await?;
    let mut handled = Vec::with_capacity(batch.len());
    for job in batch {
        handled.push(handle_on(&mut tx, &job.ctx, &job.incoming).await?);
    }
    tx.commit().await?;
    Ok(handled)
}
