//! `milava-bot simulate`: the real bot (same App, dispatcher and services as `run`) against the in-process
//! fake Bot API on 127.0.0.1, with a manual clock. Interactive with a line editor, or scripted with a
//! transcript that `--expect` compares.
mod input;
mod output;
mod session;

pub use input::{Line, parse, parse_local};
pub use output::diff;

use chrono::NaiveDateTime;
use milava_bot::config::Config;
use std::path::PathBuf;

/// The Telegram user id the simulator's coordinator uses (added to COORDINATOR_IDS).
pub const SIM_COORDINATOR_ID: i64 = 900;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Local start time in BOT_TIMEZONE; default: 9.00 on the day before the programme's first session.
    pub start: Option<NaiveDateTime>,
    /// Keep the database in this file (default: a fresh temporary one).
    pub database: Option<PathBuf>,
    pub script: Option<PathBuf>,
    pub expect: Option<PathBuf>,
    /// Where documents the bot sends are saved.
    pub files_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Startup(#[from] milava_bot::startup::StartupError),
    #[error("{0}")]
    Start(#[from] crate::bot::StartError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("the transcript differs from {path}:\n{diff}")]
    Differs { path: String, diff: String },
    #[error("line editor: {0}")]
    Editor(String),
}

/// Runs the simulator to the end of the script or until `:quit`.
pub async fn run(config: Config, options: Options) -> Result<(), SimError> {
    let script = match &options.script {
        Some(path) => Some(
            std::fs::read_to_string(path).map_err(|source| SimError::Io {
                what: format!("reading {}", path.display()),
                source,
            })?,
        ),
        None => None,
    };
    let mut session = session::Session::start(config, &options, script.is_some()).await?;
    let result = match script {
        Some(script) => session.run_script(&script).await,
        None => session.run_interactive().await,
    };
    let transcript = session.finish().await;
    result?;
    if options.script.is_some() {
        print!("{transcript}");
    }
    if let Some(path) = &options.expect {
        let expected = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            what: format!("reading {}", path.display()),
            source,
        })?;
        if expected != transcript {
            return Err(SimError::Differs {
                path: path.display().to_string(),
                diff: diff(&expected, &transcript),
            });
        }
    }
    Ok(())
}
