//! Command-line operations for whoever runs the bot: online backup, restore, and the retention purge.
use crate::config::Config;
use crate::content::ContentError;
use crate::db::{self, DbError, maintenance};
use crate::services::retention::{self, ProgrammePurge, SeriesPurge};
use chrono::Utc;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Content(#[from] ContentError),
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
}

/// The SQLite file behind `DATABASE_URL`.
pub fn database_file(config: &Config) -> Result<PathBuf, OpsError> {
    let options = SqliteConnectOptions::from_str(&config.database_url)
        .map_err(|e| OpsError::Db(DbError::Sqlx(e)))?;
    Ok(options.get_filename().to_path_buf())
}

/// `milava-bot backup <file>`: a consistent copy while the bot runs.
pub async fn backup(config: &Config, target: &Path) -> Result<(), OpsError> {
    let pool = db::connect(&config.database_url).await?;
    maintenance::backup(&pool, target).await?;
    pool.close().await;
    Ok(())
}

/// `milava-bot restore <file>` (with the bot stopped): checks the backup (sound, and this bot's database:
/// see `maintenance::foreign_database_problem`), keeps the current database beside it
/// as `<name>.before-restore-<time>`, puts the backup in its place and applies any newer migrations.
/// Returns where the previous database was kept, if there was one.
pub async fn restore(config: &Config, backup: &Path) -> Result<Option<PathBuf>, OpsError> {
    let file_problem = |path: &Path, problem: String| OpsError::File {
        path: path.display().to_string(),
        problem,
    };
    if !backup.is_file() {
        return Err(file_problem(backup, "no such backup file".into()));
    }
    let options = SqliteConnectOptions::new().filename(backup).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .map_err(|e| file_problem(backup, format!("cannot be opened as a database ({e})")))?;
    let problems = maintenance::integrity_problems(&pool)
        .await
        .map_err(|e| file_problem(backup, format!("is not a milava-bot backup ({e})")))?;
    if let Some(problems) = problems {
        pool.close().await;
        return Err(file_problem(backup, format!("is damaged: {problems}")));
    }
    let foreign = maintenance::foreign_database_problem(&pool).await;
    pool.close().await;
    match foreign {
        Ok(None) => {}
        Ok(Some(why)) => {
            return Err(file_problem(
                backup,
                format!("is not a milava-bot database: {why}; nothing was changed"),
            ));
        }
        Err(e) => {
            return Err(file_problem(
                backup,
                format!("is not a milava-bot database ({e}); nothing was changed"),
            ));
        }
    }

    let target = database_file(config)?;
    let mut kept = None;
    if target.exists() {
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = PathBuf::from(format!("{}.before-restore-{stamp}", target.display()));
        std::fs::rename(&target, &aside)
            .map_err(|e| file_problem(&target, format!("cannot be moved aside ({e})")))?;
        kept = Some(aside);
    }
    // The old database's write-ahead log belongs to it, not to the restored copy.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            let _ = std::fs::remove_file(&side);
        }
    }
    copy_private(backup, &target).map_err(|e| file_problem(&target, e.to_string()))?;
    let pool = db::connect(&config.database_url).await?;
    pool.close().await;
    Ok(kept)
}

/// Copies `from` to a new file `to` readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut target = crate::files::create_new_private(to)?;
    let mut source = std::fs::File::open(from)?;
    std::io::copy(&mut source, &mut target)?;
    target.sync_all()
}

/// What `purge` erased (or would erase).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Workshop series past their retention time.
    pub series: Vec<SeriesPurge>,
    /// Fathers and others, once the programme is over (None before).
    pub programme: Option<ProgrammePurge>,
    /// People who never registered and have not written for `UNFINISHED_RETENTION_DAYS`.
    pub unfinished: usize,
}

/// `milava-bot purge [--dry-run]`: erases (or lists) what the retention rules say must go at `now`.
pub async fn purge_at(
    config: &Config,
    now: chrono::DateTime<Utc>,
    dry_run: bool,
) -> Result<PurgeReport, OpsError> {
    let pool = db::connect(&config.database_url).await?;
    let content = stored_content(config, &pool, now).await?;
    let tz = config.timezone;
    let days = config.personal_data_retention_days;
    let series = retention::purge(&pool, &content, tz, days, now, dry_run).await?;
    let coordinators = &config.coordinator_ids;
    let programme =
        retention::purge_programme_end(&pool, &content, tz, coordinators, now, dry_run).await?;
    crate::services::groups::seed_facilitators(&pool, &content, now).await?;
    let keep = retention::never_unfinished(&pool, config, &content).await?;
    let days = config.unfinished_retention_days;
    let unfinished = retention::purge_unfinished(&pool, &keep, days, now, dry_run).await?;
    pool.close().await;
    Ok(PurgeReport {
        series,
        programme,
        unfinished,
    })
}

/// The content with the database's programme, as the running bot has it (what it would seed from the
/// shipped file is included, but nothing is written).
pub async fn stored_content(
    config: &Config,
    pool: &crate::db::Db,
    now: chrono::DateTime<Utc>,
) -> Result<crate::content::Content, OpsError> {
    let shipped = crate::content::load(&config.dialogues_dir)?;
    let mut tx = db::begin_write(pool).await?;
    let content = crate::services::season::with_stored_programme(&mut tx, shipped, now).await?;
    tx.rollback().await.map_err(DbError::from)?;
    Ok(content?)
}

/// `milava-bot programme-export --out FILE`: the programme in the database as a programme.toml (new file,
/// readable by its owner only), for review in git; `check --programme FILE` validates it.
pub async fn programme_export_at(
    config: &Config,
    out: &Path,
    now: chrono::DateTime<Utc>,
) -> Result<usize, OpsError> {
    let pool = db::connect(&config.database_url).await?;
    let content = stored_content(config, &pool, now).await?;
    pool.close().await;
    let local = crate::domain::time::utc_to_local(config.timezone, now);
    let text = crate::services::season::export(&content, local);
    crate::files::write_new_private(out, text.as_bytes()).map_err(|e| OpsError::File {
        path: out.display().to_string(),
        problem: e.to_string(),
    })?;
    Ok(content.series.len())
}

/// `milava-bot purge [--dry-run]` now.
pub async fn purge(config: &Config, dry_run: bool) -> Result<PurgeReport, OpsError> {
    purge_at(config, Utc::now(), dry_run).await
}
