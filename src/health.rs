//! `GET /health` on `HEALTH_ADDR`: whether the database answers, whether Telegram is reachable (a `getMe`;
//! a success is trusted for `TELEGRAM_CHECK_EVERY`), and the outbox backlog. 200 when the bot can do its work, 503 when
//! it cannot (a monitor or `docker`'s health check reads the status code; people read the JSON).
use crate::clock::Clock;
use crate::db::stats;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use serde_json::json;
use sqlx::SqlitePool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teloxide::prelude::*;
use tokio::net::TcpListener;

/// Telegram is asked again only after this long (health checks may come every few seconds).
pub const TELEGRAM_CHECK_EVERY: Duration = Duration::from_secs(15);
/// A `getMe` slower than this counts as unreachable.
const TELEGRAM_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Health {
    pool: SqlitePool,
    bot: Bot,
    clock: Arc<dyn Clock>,
    /// The last Telegram check: when, and whether it answered.
    telegram: Arc<Mutex<Option<(Instant, bool)>>>,
}

/// Serves `/health` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    pool: SqlitePool,
    bot: Bot,
    clock: Arc<dyn Clock>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let state = Health {
        pool,
        bot,
        clock,
        telegram: Default::default(),
    };
    let app = Router::new()
        .route("/health", get(health))
        .with_state(state);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        log::error!("health endpoint stopped: {e}");
    }
}

async fn health(State(state): State<Health>) -> impl IntoResponse {
    let now = state.clock.now();
    let database = stats::ping(&state.pool).await.map_err(|e| e.to_string());
    let backlog = stats::outbox_backlog(&state.pool, now).await;
    let telegram = telegram_reachable(&state).await;
    let healthy = database.is_ok() && telegram;
    let outbox = match backlog {
        Ok((waiting, due, oldest)) => json!({
            "waiting": waiting,
            "due": due,
            "oldest_due_seconds": oldest.map(|t| (now - t).num_seconds().max(0)),
        }),
        Err(e) => json!({ "error": e.to_string() }),
    };
    let body = json!({
        "status": if healthy { "ok" } else { "unhealthy" },
        "database": match &database { Ok(()) => "ok".to_string(), Err(e) => e.clone() },
        "telegram": if telegram { "ok" } else { "unreachable" },
        "outbox": outbox,
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

async fn telegram_reachable(state: &Health) -> bool {
    let cached = *state.telegram.lock().unwrap_or_else(|e| e.into_inner());
    // Only a success is reused: after a failure every check asks again, so recovery shows at once.
    if let Some((at, true)) = cached
        && at.elapsed() < TELEGRAM_CHECK_EVERY
    {
        return true;
    }
    let ok = matches!(
        tokio::time::timeout(TELEGRAM_TIMEOUT, state.bot.get_me()).await,
        Ok(Ok(_))
    );
    if !ok {
        log::warn!("health: Telegram did not answer getMe");
    }
    *state.telegram.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), ok));
    ok
}
