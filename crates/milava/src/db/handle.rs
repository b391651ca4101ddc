//! The database handle: the one way in for everything above `db`. Writing needs this process's turn
//! (`turns`), and a `Db` has no other write path: `Db::write` is a transaction that holds the turn (`BEGIN
//! IMMEDIATE` after it), and the `db` module's single-statement writes take `&Db` and the turn first. Reads
//! go through `read()` (or deref), which the `db` module's reading functions take as `&SqlitePool`; since SQL
//! lives only in `db` (a test checks), nothing outside it can write without the turn.
use super::{DbError, Tx, WriteTurn, write_turn};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// The database: `read()` (or deref) for reads, `write()` for a writing transaction.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

impl Db {
    /// Opens the pool on `options`' file.
    pub(super) async fn open(options: SqliteConnectOptions) -> Result<Db, DbError> {
        Self::open_with(options, 8).await
    }

    /// `open` with at most `connections` connections.
    async fn open_with(options: SqliteConnectOptions, connections: u32) -> Result<Db, DbError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            // A local file has no connection to lose: no ping (one more trip to SQLite's thread) per checkout.
            .test_before_acquire(false)
            .before_acquire(|conn, _| Box::pin(async move { Ok(out_of_transaction(conn)) }))
            .connect_with(options)
            .await?;
        Ok(Db { pool })
    }

    /// The pool for reading (the `db` module's reading functions take it).
    pub fn read(&self) -> &SqlitePool {
        &self.pool
    }

    /// A read-then-write transaction: this process's turn to write first (see `turns`), then `BEGIN
    /// IMMEDIATE` takes SQLite's write lock up front, so two writers never both read and then fail to upgrade
    /// (SQLITE_BUSY). The turn is held until the transaction is committed or dropped.
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = Result<Tx, DbError>> + '_ {
        let turn = write_turn(&self.pool);
        async move {
            let turn = turn.await?;
            Ok(Tx::new(
                self.pool.begin_with("BEGIN IMMEDIATE").await?,
                Some(turn),
            ))
        }
    }

    /// A read-only transaction (deferred: no write lock, no turn), for reads that must agree.
    pub async fn read_tx(&self) -> Result<Tx, DbError> {
        Ok(Tx::new(self.pool.begin().await?, None))
    }

    /// This process's turn, for the `db` module's single-statement writes on `writer()`.
    #[track_caller]
    pub(super) fn turn(&self) -> impl Future<Output = Result<WriteTurn, DbError>> + '_ {
        write_turn(&self.pool)
    }

    /// The pool for writing: only for the `db` module, and only with the turn held.
    pub(super) fn writer(&self) -> &SqlitePool {
        &self.pool
    }

    /// A handle on one pool made by a test (say, with SQLite's own busy wait off), for reading and writing.
    #[cfg(test)]
    pub(super) fn on_test_pool(pool: SqlitePool) -> Db {
        Db { pool }
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether a pooled connection is fit to hand out: not left inside a transaction. SQLite ends a transaction
/// by itself on some errors (a full disk: SQLITE_FULL, at a statement or at COMMIT); sqlx then still counts
/// it as open, its ROLLBACK on drop fails ("no transaction is active"), and every later `BEGIN` on that
/// connection would fail with "attempted to call begin_with at non-zero transaction depth". Such a
/// connection is closed instead, and the pool opens a fresh one.
fn out_of_transaction(conn: &mut sqlx::SqliteConnection) -> bool {
    use sqlx::{Database, Sqlite, TransactionManager};
    let depth =
        <<Sqlite as Database>::TransactionManager as TransactionManager>::get_transaction_depth(
            conn,
        );
    if depth > 0 {
        log::warn!(
            "a database connection left inside a transaction (after a failed write) is replaced"
        );
    }
    depth == 0
}

impl std::ops::Deref for Db {
    type Target = SqlitePool;
    /// The pool for reading, so that reading functions take `&SqlitePool` and any `&Db` can be passed to them.
    fn deref(&self) -> &SqlitePool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use super::super::{begin_read, begin_write, temp_pool};
    use super::Db;

    /// SQLite ending a transaction by itself (as on a full disk) leaves no connection that refuses every
    /// later transaction: here the transaction is ended behind sqlx's back, as SQLITE_FULL does, on a pool of
    /// one connection (so the next transaction would get the same one).
    #[tokio::test]
    async fn a_connection_left_inside_a_transaction_is_replaced_not_handed_out_again() {
        let (migrated, _dir) = temp_pool().await;
        let options = (*migrated.connect_options()).clone();
        migrated.close().await;
        let db = Db::open_with(options, 1).await.unwrap();
        let mut tx = begin_write(&db).await.unwrap();
        sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        // sqlx still counts the transaction as open; its rollback on drop fails.
        drop(tx);
        for _ in 0..3 {
            let tx = begin_write(&db).await.expect("a write transaction");
            tx.commit().await.unwrap();
            let tx = begin_read(&db).await.expect("a read transaction");
            tx.commit().await.unwrap();
        }
    }
}
