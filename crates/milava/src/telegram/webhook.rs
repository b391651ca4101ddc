//! Webhook mode: Telegram posts updates to a public https URL, which a reverse proxy forwards to
//! `WEBHOOK_LISTEN`. The bot registers the webhook (`setWebhook` with the secret) and turns requests into
//! updates for the same dispatcher as long polling; in front of it a guard rejects any request without the
//! right `X-Telegram-Bot-Api-Secret-Token` and logs it through the fault log (at most once a minute, with a
//! count, so a scan cannot flood the log).
//!
//! Updates wait for the dispatcher in a queue of `WEBHOOK_QUEUE`. Telegram is answered 200 only for an update
//! that was put in it; when it is full (or the bot is stopping) the answer is 503, and Telegram sends that
//! update again later — nothing acknowledged is lost and memory stays bounded.
use crate::config::{Config, ConfigError};
use crate::fault_log::{Fault, FaultLog};
use crate::startup::{Listening, StartupError, bind};
use crate::telegram::webhook_server::{self, Limits};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::stop::{StopFlag, StopToken, mk_stop_token};
use teloxide::update_listeners::{StatefulListener, UpdateListener};
use tokio::sync::mpsc;

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Updates taken from Telegram and not yet passed to the dispatcher. The dispatcher never waits (see
/// `intake`), so this fills only if updates arrive faster than they can be looked at.
pub const WEBHOOK_QUEUE: usize = 256;

/// Registers the webhook at `public_url`, starts the HTTP server on `WEBHOOK_LISTEN`, and returns the update
/// listener for the dispatcher. On shutdown the webhook is deleted and the server stops.
pub async fn listen(
    bot: &Bot,
    config: &Config,
    public_url: &url::Url,
    listening: &Listening,
    faults: Arc<FaultLog>,
) -> Result<impl UpdateListener<Err = Infallible> + use<>, StartupError> {
    let secret = config.webhook_secret.clone().ok_or_else(|| ConfigError {
        setting: "WEBHOOK_SECRET",
        problem: "is required in webhook mode (16–256 characters A–Z a–z 0–9 _ -)".into(),
    })?;
    let loopback = public_url
        .host_str()
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
    if public_url.scheme() != "https" && !loopback {
        return Err(ConfigError {
            setting: "--webhook",
            problem: format!("'{public_url}' must be an https URL (Telegram posts only to https)"),
        }
        .into());
    }
    let token = config.token.clone().unwrap_or_default();
    bot.set_webhook(public_url.clone())
        .secret_token(secret.clone())
        .allowed_updates(super::ALLOWED_UPDATES.to_vec())
        .await
        .map_err(|e| StartupError::Telegram(e.to_string().replace(&token, "<token>")))?;
    let (tx, rx) = mpsc::channel(WEBHOOK_QUEUE);
    let (stop_token, stop_flag) = mk_stop_token();
    let queue = Queue {
        tx,
        stopped: stop_flag.clone(),
        faults: faults.clone(),
    };
    let path = match public_url.path() {
        "" => "/",
        path => path,
    };
    let guard = Guard {
        secret: secret.into(),
        faults,
    };
    let router = axum::Router::new()
        .route(path, axum::routing::post(take_update))
        .with_state(queue)
        .layer(axum::middleware::from_fn_with_state(guard, check_secret));
    let tcp = bind(config.webhook_listen, &listening.webhook).await?;
    log::info!("webhook mode: Telegram posts to {public_url}");
    let bot = bot.clone();
    let shutdown = async move {
        stop_flag.await;
        if let Err(e) = bot.delete_webhook().await {
            log::error!(
                "could not delete the webhook: {}",
                e.to_string().replace(&token, "<token>")
            );
        }
    };
    let limits = Limits {
        header_read_timeout: config.webhook_header_timeout,
        max_connections: config.webhook_max_connections,
    };
    tokio::spawn(webhook_server::serve(tcp, router, limits, shutdown));
    let mut rx = rx;
    let updates = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(StatefulListener::new(
        (updates, stop_token),
        first_mut,
        |state: &mut (_, StopToken)| state.1.clone(),
    ))
}

fn first_mut<A, B>(pair: &mut (A, B)) -> &mut A {
    &mut pair.0
}

#[derive(Clone)]
struct Queue {
    tx: mpsc::Sender<Result<Update, Infallible>>,
    stopped: StopFlag,
    faults: Arc<FaultLog>,
}

/// One update from Telegram: 200 once it is in the queue, 503 (Telegram sends it again later) when the queue
/// is full or the bot is stopping. An update that cannot be read is acknowledged and left out (sending it
/// again would not help); its content is not logged.
async fn take_update(State(queue): State<Queue>, body: String) -> StatusCode {
    if queue.stopped.is_stopped() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let update: Update = match serde_json::from_str(&body) {
        Ok(update) => update,
        Err(e) => {
            log::error!(
                "webhook: an update that cannot be read ({:?} at line {}, column {}) was left out",
                e.classify(),
                e.line(),
                e.column()
            );
            return StatusCode::OK;
        }
    };
    match queue.tx.try_send(Ok(update)) {
        Ok(()) => StatusCode::OK,
        Err(mpsc::error::TrySendError::Full(_)) => {
            queue.faults.error(
                Fault::Overloaded,
                format_args!(
                    "the webhook's queue of {WEBHOOK_QUEUE} updates is full; Telegram sends them again later"
                ),
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
        Err(mpsc::error::TrySendError::Closed(_)) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[derive(Clone)]
struct Guard {
    secret: Arc<str>,
    faults: Arc<FaultLog>,
}

impl Guard {
    fn report(&self, peer: SocketAddr, missing: bool) {
        let what = if missing { "no" } else { "a wrong" };
        self.faults.error(
            Fault::WebhookRejected,
            format_args!("a request from {peer} with {what} secret token"),
        );
    }
}

async fn check_secret(
    State(guard): State<Guard>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let given = request.headers().get(SECRET_HEADER).map(|v| v.as_bytes());
    if given.is_some_and(|given| same_secret(given, guard.secret.as_bytes())) {
        return next.run(request).await;
    }
    guard.report(peer, given.is_none());
    StatusCode::UNAUTHORIZED.into_response()
}

/// Compares without stopping at the first difference, so response times do not reveal the secret.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(id: i64) -> String {
        serde_json::json!({
            "update_id": id,
            "message": {
                "message_id": id,
                "date": 1_710_226_800,
                "chat": {"id": 7, "type": "private", "first_name": "V"},
                "from": {"id": 7, "is_bot": false, "first_name": "V"},
                "text": "hei"
            }
        })
        .to_string()
    }

    #[tokio::test]
    async fn only_what_the_queue_takes_is_acknowledged() {
        let (tx, mut rx) = mpsc::channel(2);
        let (stop, stopped) = mk_stop_token();
        let queue = Queue {
            tx,
            stopped,
            faults: Default::default(),
        };
        let post = |id| take_update(State(queue.clone()), update(id));
        assert_eq!(post(1).await, StatusCode::OK);
        assert_eq!(post(2).await, StatusCode::OK);
        // Full: not acknowledged, so Telegram sends it again later.
        assert_eq!(post(3).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(post(4).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(queue.faults.lines_logged(Fault::Overloaded), 1);
        // Once the dispatcher takes one, there is room again.
        let first = rx.recv().await.unwrap().unwrap();
        assert_eq!(first.id.0, 1);
        assert_eq!(post(3).await, StatusCode::OK);
        assert_eq!(rx.recv().await.unwrap().unwrap().id.0, 2);
        assert_eq!(rx.recv().await.unwrap().unwrap().id.0, 3);
        // Unreadable: acknowledged (sending it again would not help) and left out.
        assert_eq!(post_raw(&queue, "{not json").await, StatusCode::OK);
        assert!(rx.try_recv().is_err());
        // Stopping: nothing more is taken.
        stop.stop();
        assert_eq!(post(5).await, StatusCode::SERVICE_UNAVAILABLE);
        assert!(rx.try_recv().is_err());
    }

    async fn post_raw(queue: &Queue, body: &str) -> StatusCode {
        take_update(State(queue.clone()), body.to_string()).await
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!same_secret(b"abcdefghijklmnoq", b"abcdefghijklmnop"));
        assert!(!same_secret(b"abcdefghijklmno", b"abcdefghijklmnop"));
        assert!(!same_secret(b"", b"abcdefghijklmnop"));
    }
}
