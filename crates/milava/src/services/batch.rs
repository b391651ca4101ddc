//! Group commit: inputs that arrive while others are being handled are handled one after another in one
//! write transaction, and all are answered when it has committed.
//!
//! Why: SQLite has one writer, so every input waits for its turn (`db::turns`). Each statement is a round
//! trip to the connection's own thread (sqlx-sqlite), about 0.15 ms here, and `BEGIN` and `COMMIT` are two
//! of an input's four or so; under load the queue of inputs behind the writer made the slow tail of reply
//! times (README, Performance). Handled together, a batch pays for `BEGIN`, `COMMIT`, the turn and the pool
//! once.
//!
//! Each input is still all or nothing: if an input of a batch fails, the batch is rolled back, that input is
//! handled again alone and the others again together, so one person's failure is only theirs; if the
//! database as a whole fails (locked by another program, full, read-only), everyone waiting gets the polite
//! answer at once. One chat's inputs stay in order because a chat's lane waits for each answer before
//! sending the next input.
use super::{Ctx, Handled, Incoming, Response, handle_alone, handle_on, refused};
use crate::db::{self, DbError, TURN_TIMEOUT};
use crate::fault_log::Fault;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The most inputs handled in one transaction (there are 64 handling lanes, so rarely more wait at once);
/// bounds how long the first of a batch waits for the rest.
const MAX_BATCH: usize = 64;

/// A transaction takes no further inputs after this long, so answers are not held back by a slow one (an
/// input takes about 0.3 ms; a certificate PDF or a large export far longer).
const BATCH_TIME: Duration = Duration::from_millis(10);

/// An input that has waited this long when its batch starts is not tried (see `handle_batch`): most of a
/// writer's `TURN_TIMEOUT`, so that inputs that arrived during one failed 5 s wait are not each made to wait
/// another 5 s (under normal load an input waits milliseconds).
const WAITED_TOO_LONG: Duration = TURN_TIMEOUT.saturating_sub(Duration::from_secs(1));

/// The queue of inputs waiting to be handled and the task that handles them. Started on first use, in the
/// runtime of that use; started again if it has ended (its runtime stopped, or a handler panicked).
#[derive(Debug, Default)]
pub struct Batcher {
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    counts: Arc<Counts>,
}

/// What the batches were like (read by the tests).
#[derive(Debug, Default)]
struct Counts {
    largest: AtomicUsize,
    /// Inputs that failed in a batch and were then handled alone.
    retried_alone: AtomicUsize,
}

struct Job {
    ctx: Ctx,
    incoming: Incoming,
    queued: Instant,
    answer: oneshot::Sender<Response>,
}

impl Job {
    /// Handles the input in a transaction of its own and answers it.
    async fn handle_alone(self) {
        let response = handle_alone(&self.ctx, &self.incoming).await;
        let _ = self.answer.send(response);
    }

    /// Answers that the input could not be stored.
    fn refuse(self, e: &DbError) {
        let response = refused(&self.ctx, &self.incoming, e);
        let _ = self.answer.send(response);
    }
}

/// Queues `incoming` to be handled with whatever else is waiting; `None` if the handling task could not take
/// it (then the caller handles it alone).
pub(super) async fn handle_with_others(ctx: &Ctx, incoming: &Incoming) -> Option<Response> {
    let (answer, answered) = oneshot::channel();
    let job = Job {
        ctx: ctx.clone(),
        incoming: incoming.clone(),
        queued: Instant::now(),
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

    /// How many inputs failed in a batch (which was rolled back) and were then handled alone.
    pub fn inputs_retried_alone(&self) -> usize {
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

/// Handles `batch` in as few transactions as it can: each takes inputs until they are done or `BATCH_TIME`
/// has passed (so that one slow answer, a PDF or a large export, holds up few others) and is answered when it
/// has committed. An input that fails on its own is handled again alone and the rest again together; a
/// failure of the database as a whole (locked, full, read-only) gets every waiting input the polite answer
/// at once, instead of each trying and waiting again.
async fn handle_batch(mut batch: Vec<Job>, counts: &Counts) {
    while !batch.is_empty() {
        // Like a writer that got no turn in time: whoever has waited `WAITED_TOO_LONG` by now is answered at
        // once (the database was held most of that time), not made to wait up to `TURN_TIMEOUT` again.
        for job in batch.extract_if(.., |job| job.queued.elapsed() >= WAITED_TOO_LONG) {
            job.refuse(&DbError::Busy(WAITED_TOO_LONG));
        }
        match batch.len() {
            0 => return,
            1 => return batch.remove(0).handle_alone().await,
            _ => {}
        }
        match handle_together(&batch).await {
            Ok(handled) => {
                batch[0].ctx.faults.recovered(Fault::Handling);
                for (job, handled) in batch.drain(..handled.len()).zip(handled) {
                    let _ = job.answer.send(handled.after_commit(&job.ctx));
                }
            }
            Err(Failure::Input(failed, e)) if !e.is_storage_wide() => {
                counts.retried_alone.fetch_add(1, Ordering::Relaxed);
                log::debug!("an input failed in a batch ({e}); handling it alone");
                batch.remove(failed).handle_alone().await;
            }
            Err(Failure::Input(_, e) | Failure::Whole(e)) => {
                for job in batch.drain(..) {
                    job.refuse(&e);
                }
            }
        }
    }
}

/// Why a batch's transaction was rolled back.
enum Failure {
    /// The input at this index failed.
    Input(usize, DbError),
    /// Starting or committing the transaction failed.
    Whole(DbError),
}

/// Inputs of the batch from the first on, in one write transaction, until all are done or `BATCH_TIME` has
/// passed; returns what each of those did, once committed. Nothing is kept if any of them fails.
async fn handle_together(batch: &[Job]) -> Result<Vec<Handled>, Failure> {
    let began = Instant::now();
    let mut tx = db::begin_write(&batch[0].ctx.pool)
        .await
        .map_err(Failure::Whole)?;
    let mut handled = Vec::with_capacity(batch.len());
    for (n, job) in batch.iter().enumerate() {
        if n > 0 && began.elapsed() >= BATCH_TIME {
            break;
        }
        let done = handle_on(&mut tx, &job.ctx, &job.incoming)
            .await
            .map_err(|e| Failure::Input(n, e))?;
        handled.push(done);
    }
    tx.commit()
        .await
        .map_err(|e| Failure::Whole(DbError::from(e)))?;
    Ok(handled)
}
