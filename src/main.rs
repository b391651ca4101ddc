//! Thin binary: parse the command line, load settings, call the library, map errors to exit codes.
use clap::{Parser, Subcommand};
use milava_bot::clock::SystemClock;
use milava_bot::config::Config;
use milava_bot::startup::{App, StartupError, termination_signal};
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
}

/// Exit code for a missing or malformed setting.
const EXIT_SETTINGS: u8 = 2;

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
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
        "{}: content is valid ({} texts per language, {} registration steps, {} workshop series, {} peer groups); settings are valid",
        config.dialogues_dir.display(),
        content.texts.fi.len(),
        content.registration.steps.len(),
        content.series.len(),
        content.groups.len()
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
