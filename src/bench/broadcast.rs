//! See `bench::Scenario`.
use super::BenchError;

pub async fn run(_config: crate::config::Config, _a: usize) -> Result<serde_json::Value, BenchError> {
    Err(BenchError::Failed("this scenario is being written".into()))
}
