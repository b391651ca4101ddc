//! One writer at a time per database file, in the order they asked, inside this process.
//!
//! SQLite lets one connection write at a time. When several of the pool's connections ask at once, the losers
//! get SQLITE_BUSY and SQLite's busy handler puts them to sleep in steps of 1, 2, 5, … up to 100 ms, whoever
//! happens to retry first wins, and under load a reply could wait half a second for no work at all. Taking a
//! turn here first queues this process's writers fairly (tokio's mutex is first come, first served); the busy
//! timeout still covers other programs (a backup, the `sqlite3` shell).
use super::DbError;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::collections::HashMap;
use std::panic::Location;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedMutexGuard};

/// How long a writer waits for its turn before giving up, the same as SQLite's busy timeout: a writer that
/// holds the database longer than this is stuck (or the database is locked from outside).
pub const TURN_TIMEOUT: Duration = Duration::from_secs(5);

type Gate = Arc<tokio::sync::Mutex<()>>;

/// Per database file: its turn, and the bell a turn rings when it ends (the checkpointer listens).
type Gates = HashMap<PathBuf, (Gate, Arc<Notify>)>;

static GATES: LazyLock<Mutex<Gates>> = LazyLock::new(Default::default);

/// The turn and the "written" bell of `pool`'s database file.
fn gate_of(pool: &SqlitePool) -> (Gate, Arc<Notify>) {
    let path = pool.connect_options().get_filename().to_path_buf();
    let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
    gates.entry(path).or_default().clone()
}

/// Rung each time a write turn ends (something may have been written): see `checkpoint`.
pub(super) fn written_bell(pool: &SqlitePool) -> Arc<Notify> {
    gate_of(pool).1
}

/// How long one background transaction (the scheduler's planning and withdrawals, the outbox's pruning) may
/// hold the turn before it commits and queues again, whatever its row count: users' inputs waiting meanwhile
/// go in between (turns are first come, first served), so none waits behind a long pass.
pub const BACKGROUND_SLICE: Duration = Duration::from_millis(10);

/// A turn held this long is logged (at debug level) with where it was taken: what keeps replies waiting.
const LONG_TURN: Duration = Duration::from_millis(100);

/// This process's turn to write to the pool's database; writing is everyone else's again when it is dropped.
#[derive(Debug)]
pub struct WriteTurn {
    _guard: OwnedMutexGuard<()>,
    written: Arc<Notify>,
    taken: Instant,
    by: &'static Location<'static>,
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        self.written.notify_one();
        let held = self.taken.elapsed();
        if held >= LONG_TURN {
            log::debug!("{}: held the write turn for {held:.1?}", self.by);
        }
    }
}

/// Waits (in order) for this process's turn to write to `pool`'s database.
#[track_caller]
pub fn write_turn(pool: &SqlitePool) -> impl Future<Output = Result<WriteTurn, DbError>> + '_ {
    let by = Location::caller();
    async move {
        let (gate, written) = gate_of(pool);
        match tokio::time::timeout(TURN_TIMEOUT, gate.lock_owned()).await {
            Ok(guard) => Ok(WriteTurn {
                _guard: guard,
                written,
                taken: Instant::now(),
                by,
            }),
            Err(_) => Err(DbError::Busy(TURN_TIMEOUT)),
        }
    }
}

/// A transaction; a writing one (`begin_write`) holds the turn until it is committed or dropped. Derefs to the
/// connection, so queries run on `&mut **tx`.
#[derive(Debug)]
pub struct Tx {
    tx: Transaction<'static, Sqlite>,
    _turn: Option<WriteTurn>,
}

impl Tx {
    pub(super) fn new(tx: Transaction<'static, Sqlite>, turn: Option<WriteTurn>) -> Tx {
        Tx { tx, _turn: turn }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::super::{begin_read, begin_write, temp_pool as pool};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Writers queued behind a held turn write in the order they asked, and none fails, even with SQLite's
    /// own busy wait switched off (without turns each would get "database is locked" at once).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_take_turns_in_the_order_they_asked() {
        let (pool, _dir) = pool().await;
        let options = (*pool.writer().connect_options())
            .clone()
            .busy_timeout(Duration::ZERO);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE log (n INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        let pool = super::super::Db::on_test_pool(pool);
        let first = begin_write(&pool).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for n in 0..6 {
            let (pool, order) = (pool.clone(), order.clone());
            writers.push(tokio::spawn(async move {
                let mut tx = begin_write(&pool).await.unwrap();
                order.lock().unwrap().push(n);
                sqlx::query("INSERT INTO log (n) VALUES (?)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }));
            // Each asks only after the one before is queued.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // While the first turn is held nobody else writes, and reads still go on.
        assert!(order.lock().unwrap().is_empty());
        let mut read = begin_read(&pool).await.unwrap();
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM log")
            .fetch_one(&mut *read)
            .await
            .unwrap();
        assert_eq!(rows, 0);
        read.commit().await.unwrap();
        first.commit().await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
        let stored: Vec<(i64,)> = sqlx::query_as("SELECT n FROM log ORDER BY rowid")
            .fetch_all(pool.read())
            .await
            .unwrap();
        assert_eq!(stored, (0..6).map(|n| (n,)).collect::<Vec<_>>());
    }

    /// A transaction dropped without commit (an error on the way) gives the turn back.
    #[tokio::test]
    async fn a_dropped_transaction_gives_the_turn_back() {
        let (pool, _dir) = pool().await;
        drop(begin_write(&pool).await.unwrap());
        let next = tokio::time::timeout(Duration::from_secs(2), begin_write(&pool)).await;
        assert!(matches!(next, Ok(Ok(_))), "the turn was not given back");
    }
}
