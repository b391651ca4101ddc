//! `GET /health` on `HEALTH_ADDR`: whether the database answers, whether Telegram is reachable (a `getMe`;
//! a success is trusted for `TELEGRAM_CHECK_EVERY`, a failure for `TELEGRAM_RETRY_AFTER`), and the outbox backlog. 200 when the bot can do its work, 503 when
//! it cannot (a monitor or `docker`'s health check reads the status code; people read the JSON).
use crate::clock::Clock;
use crate::db::stats;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::json;

use std::sync::Arc;
use std::time::Duration;
use teloxide::prelude::*;
use tokio::net::TcpListener;

/// Telegram is asked again only after this long (health checks may come every few seconds).
pub const TELEGRAM_CHECK_EVERY: Duration = Duration::from_secs(15);
/// After a failed check, Telegram is asked again only after this long: while it is down, probes every second
/// (or a scan of the endpoint) must not become a `getMe` each; recovery shows within this time.
pub const TELEGRAM_RETRY_AFTER: Duration = Duration::from_secs(5);
/// A `getMe` slower than this counts as unreachable.
const TELEGRAM_TIMEOUT: Duration = Duration::from_secs(5);

/// When Telegram was last asked (on the injected clock), and whether it answered.
type LastCheck = (DateTime<Utc>, bool);

#[derive(Clone)]
struct Health {
    pool: crate::db::Db,
    bot: Bot,
    clock: Arc<dyn Clock>,
    /// The last Telegram check: when (on the injected clock), and whether it answered. An async mutex held
    /// across the check, so probes arriving together wait for one `getMe` instead of each making one.
    telegram: Arc<tokio::sync::Mutex<Option<LastCheck>>>,
}

/// Serves `/health` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    pool: crate::db::Db,
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
    let mut last = state.telegram.lock().await;
    let now = state.clock.now();
    if let Some((at, ok)) = *last {
        let trusted = if ok {
            TELEGRAM_CHECK_EVERY
        } else {
            TELEGRAM_RETRY_AFTER
        };
        let age = (now - at).to_std().unwrap_or_default();
        if now >= at && age < trusted {
            return ok;
        }
    }
    let ok = matches!(
        tokio::time::timeout(TELEGRAM_TIMEOUT, state.bot.get_me()).await,
        Ok(Ok(_))
    );
    if !ok {
        log::warn!("health: Telegram did not answer getMe");
    }
    *last = Some((state.clock.now(), ok));
    ok
}
