//! Thin binary: parse the command line, load settings, call the library, map errors to exit codes.
use clap::{Parser, Subcommand};
use milava_bot::clock::SystemClock;
use milava_bot::config::Config;
use milava_bot::simulator;
use milava_bot::startup::{App, StartupError, termination_signal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
    /// Run the bot (long polling). Needs TELOXIDE_TOKEN.
    Run,
    /// Validate the content in DIALOGUES_DIR and the settings; print every problem as `file: key: problem`.
    Check,
    /// Apply database migrations to DATABASE_URL and exit.
    Migrate,
    /// Run a benchmark against the in-process fake Bot API and print one JSON line (see README, Performance).
    Bench {
        #[command(subcommand)]
        scenario: milava_bot::bench::Scenario,
    },
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

/// Exit code for a missing or malformed setting.
const EXIT_SETTINGS: u8 = 2;

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // The simulator's terminal is for the conversation: only warnings unless RUST_LOG asks for more.
    let default_level = if matches!(cli.command, Command::Simulate { .. }) {
        "warn"
    } else {
        "info"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("milava-bot: {e}");
            return ExitCode::from(EXIT_SETTINGS);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("milava-bot: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run => run(config).await,
            Command::Check => check(&config),
            Command::Migrate => migrate(&config).await,
            Command::Bench { scenario } => {
                let result = milava_bot::bench::run(config, scenario).await?;
                println!("{result}");
                Ok(())
            }
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
            eprintln!("milava-bot: {e:#}");
            match e.downcast_ref::<StartupError>() {
                Some(StartupError::Config(_)) => ExitCode::from(EXIT_SETTINGS),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let app = App::build(config, Arc::new(SystemClock)).await?;
    app.run(termination_signal()).await?;
    Ok(())
}

fn check(config: &Config) -> anyhow::Result<()> {
    let content = milava_bot::content::load(&config.dialogues_dir)?;
    println!(
        "{}: content is valid ({} texts per language, {} registration steps, {} workshop series, {} peer groups, {} discussion prompts, {} coaching steps, {} help contacts); settings are valid",
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
        content.support.len()
    );
    Ok(())
}

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

async fn migrate(config: &Config) -> anyhow::Result<()> {
    milava_bot::db::connect(&config.database_url)
        .await
        .map_err(StartupError::from)?;
    println!("{}: migrations applied", config.database_url);
    Ok(())
}
