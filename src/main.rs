//! Thin binary: parse the command line, load settings, call the library, map errors to exit codes.
use clap::{Parser, Subcommand};
use milava_bot::clock::{Clock, SystemClock};
use milava_bot::config::Config;
use milava_bot::files::write_new_private;
use milava_bot::startup::{App, Intake, StartupError, termination_signal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
#[cfg(feature = "simulator")]
use testkit::simulator;

/// milava-bot: the Telegram bot of the MILAVA programme (Mies, lapsi ja vanhemmuus).
///
/// Settings come from the environment and a `.env` file; see `.env.example`.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot. Needs TELOXIDE_TOKEN. Long polling unless --webhook is given.
    Run {
        /// Webhook mode: the public https URL Telegram posts updates to (a reverse proxy forwards it to
        /// WEBHOOK_LISTEN); needs WEBHOOK_SECRET.
        #[arg(long, value_name = "URL")]
        webhook: Option<url::Url>,
    },
    /// Validate the content in DIALOGUES_DIR and the settings; print every problem as `file: key: problem`.
    Check {
        /// Validate this programme file (e.g. one written by programme-export) in place of
        /// DIALOGUES_DIR/programme.toml.
        #[arg(long, value_name = "FILE")]
        programme: Option<PathBuf>,
    },
    /// Write the programme as coordinators have it (it lives in the database) to FILE in programme.toml's
    /// layout, for review in git. FILE must not exist yet.
    ProgrammeExport {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Apply database migrations to DATABASE_URL and exit.
    Migrate,
    /// Write a consistent copy of the database to FILE while the bot keeps running.
    Backup {
        /// The backup file to create (must not exist yet); it is readable by its owner only.
        file: PathBuf,
    },
    /// Put a backup in place of DATABASE_URL. Stop the bot first. The current database is kept beside it as
    /// `<name>.before-restore-<time>`.
    Restore {
        /// A file made by `backup`.
        file: PathBuf,
    },
    /// Erase the personal data of workshop series that ended more than PERSONAL_DATA_RETENTION_DAYS ago
    /// (the running bot does this by itself when due).
    Purge {
        /// Only list what would be erased.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the research export of a survey: one row per research-consented response, and a codebook
    /// beside it (FILE with the extension .codebook.csv).
    Export {
        /// The survey id (dialogues/surveys/<id>.toml).
        #[arg(long)]
        survey: String,
        /// Only responses from this workshop series.
        #[arg(long)]
        series: Option<String>,
        /// csv (`;`-separated, UTF-8 with BOM) or json.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// The file to create (it and the codebook must not exist yet); readable by its owner only.
        #[arg(long)]
        out: PathBuf,
    },
    #[cfg(feature = "simulator")]
    /// Run a benchmark against the in-process fake Bot API and print one JSON line (see docs/performance.md).
    Bench {
        #[command(subcommand)]
        scenario: testkit::bench::Scenario,
    },
    #[cfg(feature = "simulator")]
    /// Try the whole bot in the terminal: a fake Telegram, no token or network needed, and a clock you
    /// move with :advance. Type :help inside for the commands.
    Simulate {
        /// Start time in BOT_TIMEZONE, e.g. "2024-03-12 09:00" (default: 9.00 the day before the first session).
        #[arg(long)]
        start: Option<String>,
        /// Keep the simulated database in this SQLite file (default: a fresh temporary one).
        #[arg(long)]
        database: Option<PathBuf>,
        /// Read the lines from this file instead of the keyboard and print a transcript.
        #[arg(long)]
        script: Option<PathBuf>,
        /// Compare the transcript with this file; print the difference and exit 1 if they differ.
        #[arg(long, requires = "script")]
        expect: Option<PathBuf>,
        /// Folder where documents the bot sends (CSV, PDF, PNG) are saved.
        #[arg(long, default_value = "simulator-files")]
        files: PathBuf,
    },
}

impl Command {
    /// The simulator's terminal is for the conversation.
    fn is_simulation(&self) -> bool {
        #[cfg(feature = "simulator")]
        if matches!(self, Command::Simulate { .. }) {
            return true;
        }
        false
    }
}

/// Exit code for a missing or malformed setting.
const EXIT_SETTINGS: u8 = 2;

/// glibc's malloc keeps up to 8 arenas per core, one per thread that found the others busy; the bot's
/// threads (tokio's workers, one per SQLite connection) then each hold freed memory of their own, and the
/// peak grew with every burst (`bench interactive`: 50–52 MiB with the default, 39 MiB with two arenas,
/// under the same load). Two arenas unless `MALLOC_ARENA_MAX` says otherwise; before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the C allocator; called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // The simulator's terminal is for the conversation: only warnings unless RUST_LOG asks for more.
    let default_level = if cli.command.is_simulation() {
        "warn"
    } else {
        "info"
    };
    // env_logger behind a filter that keeps teloxide's dumps of unparsable updates (names, texts) out.
    milava_bot::log_privacy::init(default_level);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("milava-bot: {e}");
            return ExitCode::from(EXIT_SETTINGS);
        }
    };
    let runtime = match milava_bot::startup::async_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("milava-bot: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run { webhook } => run(config, webhook).await,
            Command::Check { programme } => check(&config, programme.as_deref()),
            Command::Migrate => migrate(&config).await,
            Command::Backup { file } => {
                milava_bot::ops::backup(&config, &file).await?;
                println!("{}: backup written", file.display());
                Ok(())
            }
            Command::Restore { file } => {
                let kept = milava_bot::ops::restore(&config, &file).await?;
                println!("{}: restored into {}", file.display(), config.database_url);
                if let Some(kept) = kept {
                    println!("the database it replaced is kept as {}", kept.display());
                }
                Ok(())
            }
            Command::Purge { dry_run } => purge(&config, dry_run).await,
            Command::ProgrammeExport { out } => {
                let series =
                    milava_bot::ops::programme_export_at(&config, &out, SystemClock.now()).await?;
                println!("{}: {series} workshop series written", out.display());
                Ok(())
            }
            Command::Export {
                survey,
                series,
                format,
                out,
            } => export(&config, &survey, series.as_deref(), &format, &out).await,
            #[cfg(feature = "simulator")]
            Command::Bench { scenario } => {
                let result = testkit::bench::run(config, scenario).await?;
                println!("{result}");
                Ok(())
            }
            #[cfg(feature = "simulator")]
            Command::Simulate {
                start,
                database,
                script,
                expect,
                files,
            } => simulate(config, start, database, script, expect, files).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{e}`, not `{e:#}`: each error's message already includes its cause's.
            eprintln!("milava-bot: {e}");
            match e.downcast_ref::<StartupError>() {
                Some(StartupError::Config(_)) => ExitCode::from(EXIT_SETTINGS),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(config: Config, webhook: Option<url::Url>) -> anyhow::Result<()> {
    let mut app = App::build(config, Arc::new(SystemClock)).await?;
    if let Some(public_url) = webhook {
        app.intake = Intake::Webhook { public_url };
    }
    app.run(termination_signal()).await?;
    Ok(())
}

fn check(config: &Config, programme: Option<&std::path::Path>) -> anyhow::Result<()> {
    let programme = programme.unwrap_or(std::path::Path::new("programme.toml"));
    let content = milava_bot::content::load_with_programme(&config.dialogues_dir, programme)?;
    println!(
        "{}: content is valid ({} texts per language, {} registration steps, {} workshop series, {} peer groups, {} discussion prompts, {} coaching steps, {} help contacts, {} surveys); settings are valid",
        config.dialogues_dir.display(),
        content.texts.fi.len(),
        content.registration.steps.len(),
        content.series.len(),
        content.groups.len(),
        content
            .themes
            .iter()
            .map(|t| t.prompts.len())
            .sum::<usize>(),
        content.coaching.len(),
        content.support.len(),
        content.surveys.len()
    );
    Ok(())
}

#[cfg(feature = "simulator")]
async fn simulate(
    config: Config,
    start: Option<String>,
    database: Option<PathBuf>,
    script: Option<PathBuf>,
    expect: Option<PathBuf>,
    files_dir: PathBuf,
) -> anyhow::Result<()> {
    let start = match start {
        Some(raw) => Some(
            simulator::parse_local(&raw).map_err(|bad| anyhow::anyhow!("--start: {}", bad.0))?,
        ),
        None => None,
    };
    let options = simulator::Options {
        start,
        database,
        script,
        expect,
        files_dir,
    };
    simulator::run(config, options).await?;
    Ok(())
}

async fn purge(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    let report = milava_bot::ops::purge(config, dry_run).await?;
    let verb = if dry_run { "would be erased" } else { "erased" };
    if report.series.is_empty() {
        println!(
            "workshop series: nothing to erase (no series ended more than {} days ago has people left)",
            config.personal_data_retention_days
        );
    }
    for series in &report.series {
        println!(
            "series {} (ended {}): {} people {verb}; {} kept (another series of theirs is not over yet)",
            series.series_id,
            series.ended.format("%Y-%m-%d %H:%M"),
            series.erased.len(),
            series.kept.len()
        );
        if dry_run && !series.erased.is_empty() {
            let ids: Vec<String> = series.erased.iter().map(i64::to_string).collect();
            println!("  Telegram ids: {}", ids.join(", "));
        }
    }
    match &report.programme {
        Some(programme) => println!(
            "programme ended {}: {} father(s) and {} other(s) {verb} (coordinators are kept)",
            programme.ended, programme.fathers, programme.others
        ),
        None => println!("programme: not over yet, fathers and others are kept"),
    }
    println!(
        "never registered, no message for {} days: {} person(s) {verb}",
        config.unfinished_retention_days, report.unfinished
    );
    Ok(())
}

async fn export(
    config: &Config,
    survey: &str,
    series: Option<&str>,
    format: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use milava_bot::services::survey_export::{self, Format};
    let pool = milava_bot::db::connect(&config.database_url)
        .await
        .map_err(StartupError::from)?;
    let content = milava_bot::ops::stored_content(config, &pool, SystemClock.now()).await?;
    let format =
        Format::parse(format).ok_or_else(|| anyhow::anyhow!("--format: use csv or json"))?;
    let files = survey_export::export(
        &pool,
        &content,
        config.timezone,
        survey,
        series,
        format,
        SystemClock.now(),
        survey_export::Requester::COMMAND_LINE,
    )
    .await?;
    let codebook = survey_export::codebook_path(out);
    // New files only, readable by their owner (the rows are research data), never through a symbolic link.
    let refuse = |path: &std::path::Path, e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists (or is a symbolic link); choose a new file name, nothing was written",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        }
    };
    for path in [out, codebook.as_path()] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(refuse(path, std::io::ErrorKind::AlreadyExists.into()));
        }
    }
    write_new_private(out, &files.data).map_err(|e| refuse(out, e))?;
    if let Err(e) = write_new_private(&codebook, &files.codebook) {
        let _ = std::fs::remove_file(out);
        return Err(refuse(&codebook, e));
    }
    println!(
        "{}: {} responses; codebook in {}",
        out.display(),
        files.responses,
        codebook.display()
    );
    Ok(())
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    milava_bot::db::connect(&config.database_url)
        .await
        .map_err(StartupError::from)?;
    println!("{}: migrations applied", config.database_url);
    Ok(())
}
