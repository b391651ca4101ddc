//! SQLite storage. The only place with SQL; every query uses bound parameters.
pub mod audit;
pub mod broadcasts;
pub mod coaching;
pub mod dialogues;
pub mod groups;
pub mod outbox;
pub mod participants;
pub mod programme;
pub mod stats;
pub mod users;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub type Tx = Transaction<'static, Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// Opens (creating if missing, readable by the owner only) the database, in WAL mode, and applies migrations.
pub async fn connect(database_url: &str) -> Result<SqlitePool, DbError> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    create_private_file(options.get_filename())?;
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    migrate(&pool).await?;
    Ok(pool)
}

pub async fn migrate(pool: &SqlitePool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// A read-then-write transaction: `BEGIN IMMEDIATE` takes the write lock up front, so two writers never
/// both read and then fail to upgrade (SQLITE_BUSY).
pub async fn begin_write(pool: &SqlitePool) -> Result<Tx, DbError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Creates the database file with mode 0600 before SQLite does, so personal data is not world-readable.
fn create_private_file(path: &std::path::Path) -> Result<(), DbError> {
    if path.as_os_str().is_empty() || path.to_string_lossy() == ":memory:" || path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| DbError::File {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(DbError::File {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Names of the tables that hold a `telegram_user_id` column: `/forget` clears them all, and a test checks it.
pub async fn personal_tables(pool: &SqlitePool) -> Result<Vec<String>, DbError> {
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'")
            .fetch_all(pool)
            .await?;
    let mut personal = Vec::new();
    for (table,) in tables {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(pool)
            .await?;
        if columns.iter().any(|(c,)| c == "telegram_user_id") {
            personal.push(table);
        }
    }
    Ok(personal)
}

/// Erases every personal row of one user, in one transaction (`/forget`).
pub async fn erase_user(tx: &mut Tx, telegram_user_id: i64) -> Result<(), DbError> {
    for statement in [
        "DELETE FROM dialogues WHERE telegram_user_id = ?",
        "DELETE FROM deliveries WHERE telegram_user_id = ?1 OR chat_id = ?1",
        "DELETE FROM enrolments WHERE telegram_user_id = ?",
        "DELETE FROM attendance WHERE telegram_user_id = ?",
        "DELETE FROM group_members WHERE telegram_user_id = ?",
        "DELETE FROM coaching_reflections WHERE telegram_user_id = ?",
        "DELETE FROM coaching WHERE telegram_user_id = ?",
        "DELETE FROM participants WHERE telegram_user_id = ?",
        "DELETE FROM users WHERE telegram_user_id = ?",
    ] {
        sqlx::query(statement)
            .bind(telegram_user_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
