//! Write-ahead-log checkpoints outside the write turn.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that takes the log past 1,000 pages: that writer
//! copies the log into the database file and syncs the file while it holds the turn, so every input queued
//! behind it waits (the longest waits `bench plan` measured). The bot's connections have it off
//! (`wal_autocheckpoint=0`, set in `connect`); instead this task, woken when a write turn ends, runs a
//! PASSIVE checkpoint shortly after on a connection of its own: it waits for nobody and nobody waits for it
//! (writers go on appending to the log meanwhile; the log is reused from its start once a checkpoint has
//! copied all of it). With nothing written it sleeps. When the pool closes SQLite checkpoints one last time.
use sqlx::SqlitePool;
use std::time::Duration;

/// Writes within this time after the first share one checkpoint.
const GATHER: Duration = Duration::from_millis(200);

/// Starts the checkpointer of `pool`'s database file; it ends when the pool is closed.
pub(super) fn spawn(pool: SqlitePool) {
    let written = super::turns::written_bell(&pool);
    tokio::spawn(async move {
        let mut closed = pool.close_event();
        let _ = closed
            .do_until(async {
                loop {
                    written.notified().await;
                    tokio::time::sleep(GATHER).await;
                    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&pool)
                        .await
                    {
                        log::warn!("checkpoint of the write-ahead log failed: {e}");
                    }
                }
            })
            .await;
    });
}

#[cfg(test)]
mod tests {
    use super::super::temp_pool;
    use std::time::{Duration, Instant};

    /// A transaction that takes the log far past SQLite's 1,000-page mark: its COMMIT leaves the database
    /// file as it was (with SQLite's automatic checkpoint the COMMIT itself copies the log into the file,
    /// under the turn), and the checkpointer copies it soon after.
    #[tokio::test]
    async fn a_big_commit_leaves_the_checkpoint_to_the_checkpointer() {
        let (db, dir) = temp_pool().await;
        let file = dir.path().join("test.db");
        let size = || std::fs::metadata(&file).expect("database file").len();
        // Let the checkpointer copy what the migrations wrote first.
        tokio::time::sleep(super::GATHER * 3).await;
        let before = size();

        let mut tx = db.write().await.unwrap();
        sqlx::query("CREATE TABLE filler (x BLOB)")
            .execute(&mut *tx)
            .await
            .unwrap();
        for _ in 0..1_500 {
            sqlx::query("INSERT INTO filler VALUES (zeroblob(4000))")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(
            size(),
            before,
            "the COMMIT copied the log into the database file itself"
        );

        // The checkpoint writes the pages one by one: wait for (at least) the log's 1,500 pages.
        let waited = Instant::now();
        while size() < before + 1_000 * 4_000 {
            assert!(
                waited.elapsed() < Duration::from_secs(20),
                "the checkpointer never copied the log"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
