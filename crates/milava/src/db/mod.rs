//! SQLite storage. The only place with SQL; every query uses bound parameters.
pub mod audit;
pub mod broadcasts;
mod checkpoint;
pub mod coaching;
pub mod console;
pub mod dialogues;
pub mod groups;
mod handle;
pub mod maintenance;
pub mod outbox;
pub mod participants;
pub mod people;
pub mod programme;
pub mod season;
mod slices;
pub mod stats;
pub mod survey_rounds;
pub mod surveys;
mod turns;
pub mod users;

pub use handle::Db;
pub use slices::{Slice, Slices};
use turns::write_turn;
pub use turns::{BACKGROUND_SLICE, TURN_TIMEOUT, Tx, WriteTurn};

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

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
    #[error("database: no turn to write within {0:?} (another writer held the database)")]
    Busy(Duration),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl DbError {
    /// Whether the error is the database's as a whole (locked, full, read-only, failing), so that every other
    /// write would fail the same way now, rather than one statement's or one person's data.
    pub fn is_storage_wide(&self) -> bool {
        match self {
            DbError::Busy(_) | DbError::File { .. } | DbError::Migrate(_) => true,
            DbError::Corrupt(_) => false,
            DbError::Sqlx(sqlx::Error::Database(e)) => {
                // SQLite's primary result codes: BUSY 5, LOCKED 6, NOMEM 7, READONLY 8, IOERR 10, CORRUPT 11,
                // FULL 13, CANTOPEN 14, NOTADB 26. sqlx gives the extended code as a number.
                let code = e.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0) & 0xff;
                matches!(code, 5 | 6 | 7 | 8 | 10 | 11 | 13 | 14 | 26)
            }
            DbError::Sqlx(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            DbError::Sqlx(_) => false,
        }
    }
}

/// Opens (creating if missing, readable by the owner only) the database, in WAL mode, and applies migrations.
pub async fn connect(database_url: &str) -> Result<Db, DbError> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // Deleted rows (a forgotten person's name and email) are overwritten with zeros, not left readable
        // in free space of the file.
        .pragma("secure_delete", "ON")
        // Checkpoints run outside the write turn (`checkpoint`), not inside a writer's COMMIT.
        .pragma("wal_autocheckpoint", "0")
        // 512 KiB of page cache per connection instead of SQLite's 2 MB: eight connections walking 10,000
        // people's reminders kept 16 MB of pages the OS caches anyway (`bench plan` peak 93-98 -> 81 MiB,
        // the same waits; docs/performance.md).
        .pragma("cache_size", "-512");
    create_private_file(options.get_filename())?;
    let db = Db::open(options).await?;
    migrate(&db).await?;
    checkpoint::spawn(db.read().clone());
    Ok(db)
}

/// A stored time as sqlx writes it (RFC 3339), or as SQLite's own functions do (`2024-12-31 18:00:00`, UTC).
pub(crate) fn stored_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, DbError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .map_err(|e| DbError::Corrupt(format!("time '{text}': {e}")))
}

/// This bot's migrations (`migrations/`), built into the binary.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn migrate(db: &Db) -> Result<(), DbError> {
    let _turn = db.turn().await?;
    MIGRATOR.run(db.writer()).await?;
    Ok(())
}

/// A writing transaction that holds this process's turn (`Db::write`).
#[track_caller]
pub fn begin_write(db: &Db) -> impl Future<Output = Result<Tx, DbError>> + '_ {
    db.write()
}

/// A read-only transaction (deferred: it takes no write lock and needs no turn), for reads that must agree.
pub async fn begin_read(db: &Db) -> Result<Tx, DbError> {
    db.read_tx().await
}

/// A fresh database in a temporary directory (kept while the `TempDir` lives), migrated, for unit tests.
#[cfg(test)]
pub(crate) async fn temp_pool() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (connect(&url).await.expect("test database"), dir)
}

/// Creates the database file with mode 0600 before SQLite does, so personal data is not world-readable; an
/// existing file must be writable.
fn create_private_file(path: &std::path::Path) -> Result<(), DbError> {
    if path.as_os_str().is_empty() || path.to_string_lossy() == ":memory:" {
        return Ok(());
    }
    if path.exists() {
        // SQLite would quietly open a file it cannot write read-only, and fail later with a vaguer
        // "unable to open database file"; a read-only file system or file is named here instead.
        return writable(path).map_err(|source| DbError::File {
            path: path.display().to_string(),
            source,
        });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| DbError::File {
            path: parent.display().to_string(),
            source,
        })?;
    }
    match crate::files::create_new_private(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(DbError::File {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Whether this process may write `path` (EROFS, EACCES otherwise). Asked with access(2) rather than by
/// opening the file: closing a descriptor of a database in use would drop SQLite's locks on it.
#[cfg(unix)]
fn writable(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c_path` is a valid NUL-terminated string that lives across the call.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn writable(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::metadata(path)?.permissions().readonly() {
        true => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only",
        )),
        false => Ok(()),
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

/// The audit log's `actor` of lines whose actor has since been erased: no id of a forgotten person stays.
pub const FORGOTTEN_ACTOR: i64 = -1;

/// Erases every personal row of one user, in one transaction (`/forget`), and takes their id out of the
/// audit log (lines they wrote keep the action and time, with `FORGOTTEN_ACTOR` as the actor).
pub async fn erase_user(tx: &mut Tx, telegram_user_id: i64) -> Result<(), DbError> {
    surveys::unlink_responses(tx, telegram_user_id).await?;
    sqlx::query("UPDATE audit_log SET actor = ?1 WHERE actor = ?2")
        .bind(FORGOTTEN_ACTOR)
        .bind(telegram_user_id)
        .execute(&mut **tx)
        .await?;
    for statement in [
        "DELETE FROM dialogues WHERE telegram_user_id = ?",
        "DELETE FROM deliveries WHERE telegram_user_id = ?1 OR chat_id = ?1",
        "DELETE FROM enrolments WHERE telegram_user_id = ?",
        "DELETE FROM attendance WHERE telegram_user_id = ?",
        // Survey progress and the pseudonym link; submitted responses stay, without the pseudonym.
        "DELETE FROM survey_invitations WHERE telegram_user_id = ?",
        "DELETE FROM survey_pseudonyms WHERE telegram_user_id = ?",
        "DELETE FROM group_members WHERE telegram_user_id = ?",
        "DELETE FROM group_facilitators WHERE telegram_user_id = ?",
        "DELETE FROM coaching_reflections WHERE telegram_user_id = ?",
        "DELETE FROM coaching WHERE telegram_user_id = ?",
        "DELETE FROM participants WHERE telegram_user_id = ?",
        "DELETE FROM users WHERE telegram_user_id = ?",
        // A coordinator who asks to be forgotten is signed out of the console too.
        "DELETE FROM console_sessions WHERE coordinator_id = ?",
        "DELETE FROM console_links WHERE coordinator_id = ?",
    ] {
        sqlx::query(statement)
            .bind(telegram_user_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Migration 0008 rewrites attendance lines written before it ("<session> <Telegram id>"): a registered
    /// person by their registration's row id, a person already forgotten without any id.
    #[tokio::test]
    async fn migration_0008_takes_telegram_ids_out_of_old_attendance_lines() {
        let (pool, _dir) = super::temp_pool().await;
        let at = "2024-04-03T09:00:00+00:00";
        sqlx::query(
            "INSERT INTO participants (id, telegram_user_id, role, name, privacy_version, consent_at,
                 registered_at, updated_at) VALUES (17, 555, 'professional', 'A', 'v', ?1, ?1, ?1)",
        )
        .bind(at)
        .execute(pool.writer())
        .await
        .unwrap();
        for detail in [
            "oulu-2024-2 555",
            "oulu-2024-2 556",
            "oulu-2024-2 participant #17",
        ] {
            sqlx::query("INSERT INTO audit_log (actor, action, detail, at) VALUES (900, 'attendance_changed', ?, ?)")
                .bind(detail)
                .bind(at)
                .execute(pool.writer())
                .await
                .unwrap();
        }
        let migration = include_str!("../../migrations/0008_erasure.sql");
        let rewrite = migration.split("-- /forget and").next().unwrap();
        sqlx::raw_sql(rewrite).execute(pool.writer()).await.unwrap();
        let details: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_log ORDER BY id")
            .fetch_all(pool.read())
            .await
            .unwrap();
        assert_eq!(
            details,
            [
                "oulu-2024-2 participant #17",
                "oulu-2024-2 a person since forgotten",
                "oulu-2024-2 participant #17"
            ]
        );
    }

    /// A forgotten coordinator's or facilitator's id leaves the audit lines they wrote; others' stay.
    #[tokio::test]
    async fn erasing_a_person_takes_their_id_out_of_the_audit_log() {
        let (pool, _dir) = super::temp_pool().await;
        let now = chrono::Utc::now();
        let mut tx = super::begin_write(&pool).await.unwrap();
        super::audit::record(&mut tx, 77, "linkgroup", "oulu -> chat -5", now)
            .await
            .unwrap();
        super::audit::record(&mut tx, 78, "linkgroup", "kajaani -> chat -6", now)
            .await
            .unwrap();
        super::erase_user(&mut tx, 77).await.unwrap();
        tx.commit().await.unwrap();
        let actors: Vec<i64> = sqlx::query_scalar("SELECT actor FROM audit_log ORDER BY id")
            .fetch_all(pool.read())
            .await
            .unwrap();
        assert_eq!(actors, vec![super::FORGOTTEN_ACTOR, 78]);
    }

    /// SQL only through bound parameters: SQL text appears only in `src/db/`, and where it is put together
    /// with `format!`, only constants (`{COLUMNS}`) or the `&'static str` filters of `broadcasts.rs`
    /// (`{filter}`) go into it — never a value.
    #[test]
    fn sql_is_only_in_db_and_never_formatted_with_values() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root.clone()];
        let mut problems = Vec::new();
        let mut sql_templates = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                let in_db = path.starts_with(root.join("db"));
                if !in_db && source.contains("sqlx::query") {
                    problems.push(format!("{}: SQL outside src/db", path.display()));
                }
                for (at, _) in source.match_indices("format!(") {
                    let Some(template) = format_string(&source[at + "format!(".len()..]) else {
                        continue;
                    };
                    let is_sql = ["SELECT ", "INSERT ", "UPDATE ", "DELETE "]
                        .iter()
                        .any(|kw| template.contains(kw));
                    if !is_sql {
                        continue;
                    }
                    sql_templates += 1;
                    for piece in template.split('{').skip(1) {
                        let name = piece.split('}').next().unwrap_or_default();
                        let constant = !name.is_empty()
                            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_');
                        if !(constant || name == "filter") {
                            problems
                                .push(format!("{}: SQL formatted with {{{name}}}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(
            sql_templates >= 8,
            "the scan found only {sql_templates} SQL format strings"
        );
    }

    #[test]
    fn the_format_string_is_read_up_to_its_closing_quote() {
        assert_eq!(
            format_string(" \"SELECT {COLUMNS} FROM t WHERE a = '\\\"{x}\\\"'\", x)"),
            Some("SELECT {COLUMNS} FROM t WHERE a = '\\\"{x}\\\"'")
        );
        assert_eq!(format_string("name)"), None);
    }

    /// The format string (first argument) of a `format!(` call whose arguments start `args`, if it is a plain
    /// string literal.
    fn format_string(args: &str) -> Option<&str> {
        let literal = args.trim_start().strip_prefix('"')?;
        let mut escaped = false;
        for (i, c) in literal.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return Some(&literal[..i]),
                _ => escaped = false,
            }
        }
        None
    }
}
