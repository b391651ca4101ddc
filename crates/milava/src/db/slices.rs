//! Background work (the scheduler's passes, the retention purge) in short write transactions: each holds the
//! write turn for at most `BACKGROUND_SLICE` (past it, only the unit of work under way finishes) or a number
//! of units, whichever comes first, then commits and queues for the turn again, so the users' inputs waiting
//! meanwhile go in between (turns are first come, first served) and none waits behind a long pass.
//!
//! A unit of work (one notice, one invitation, one person erased) is never split between two transactions,
//! and each must be safe to repeat after a crash between slices (idempotency keys, "already done" checks).
use super::{BACKGROUND_SLICE, DbError, Tx, begin_write};
use std::time::Instant;

/// The budget of one write transaction: `full` once it has done `limit` units, or at least one unit and held
/// the turn for `BACKGROUND_SLICE`.
#[derive(Clone, Copy, Debug)]
pub struct Slice {
    began: Instant,
    limit: usize,
}

impl Slice {
    /// Starts counting now (call it right after taking the turn).
    pub fn start(limit: usize) -> Slice {
        Slice {
            began: Instant::now(),
            limit,
        }
    }

    /// Whether a transaction that has done `done` units should commit before the next one.
    pub fn full(&self, done: usize) -> bool {
        done >= self.limit || (done > 0 && self.began.elapsed() >= BACKGROUND_SLICE)
    }
}

/// A run of sliced write transactions: `next()` gives the transaction for the next unit of work, committing
/// the current one first when its slice is full; `finish()` commits the last.
pub struct Slices<'p> {
    pool: &'p super::Db,
    limit: usize,
    open: Option<(Tx, Slice)>,
    done: usize,
    committed: usize,
}

impl<'p> Slices<'p> {
    /// At most `limit` units per transaction (and never more than `BACKGROUND_SLICE` of the turn).
    pub fn new(pool: &'p super::Db, limit: usize) -> Slices<'p> {
        Slices {
            pool,
            limit: limit.max(1),
            open: None,
            done: 0,
            committed: 0,
        }
    }

    /// The transaction for the next unit of work (a fresh one if the current slice is full).
    pub async fn next(&mut self) -> Result<&mut Tx, DbError> {
        if let Some((_, slice)) = &self.open
            && slice.full(self.done)
        {
            self.commit().await?;
            // The turn is given back: whoever queued meanwhile writes before the next slice.
            tokio::task::yield_now().await;
        }
        if self.open.is_none() {
            let tx = begin_write(self.pool).await?;
            self.open = Some((tx, Slice::start(self.limit)));
            self.done = 0;
        }
        self.done += 1;
        let (tx, _) = self.open.as_mut().expect("a transaction was just opened");
        Ok(tx)
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        if let Some((tx, _)) = self.open.take() {
            tx.commit().await?;
            self.committed += 1;
        }
        Ok(())
    }

    /// Commits the last transaction; returns how many were committed in all.
    pub async fn finish(mut self) -> Result<usize, DbError> {
        self.commit().await?;
        Ok(self.committed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Units go in transactions of at most `limit`, each committed (a reader sees them), and an empty run
    /// takes no turn at all.
    #[tokio::test]
    async fn units_are_committed_in_slices_of_at_most_the_limit() {
        let (pool, _dir) = super::super::temp_pool().await;
        sqlx::query("CREATE TABLE log (n INTEGER)")
            .execute(&*pool)
            .await
            .unwrap();
        assert_eq!(Slices::new(&pool, 3).finish().await.unwrap(), 0);
        let mut slices = Slices::new(&pool, 3);
        for n in 0..7 {
            let tx = slices.next().await.unwrap();
            sqlx::query("INSERT INTO log (n) VALUES (?)")
                .bind(n)
                .execute(&mut **tx)
                .await
                .unwrap();
        }
        let committed = slices.finish().await.unwrap();
        assert!(committed >= 3, "{committed} transactions for 7 units of 3");
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM log")
            .fetch_one(&*pool)
            .await
            .unwrap();
        assert_eq!(rows, 7);
    }
}
