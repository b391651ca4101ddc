//! Webhook mode: Telegram posts updates to a public https URL, which a reverse proxy forwards to
//! `WEBHOOK_LISTEN`. teloxide registers the webhook (`setWebhook` with the secret) and turns requests into
//! updates for the same dispatcher as long polling; in front of it a guard rejects any request without the
//! right `X-Telegram-Bot-Api-Secret-Token` and logs it through the fault log (at most once a minute, with a
//! count, so a scan cannot flood the log).
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
use teloxide::update_listeners::UpdateListener;
use teloxide::update_listeners::webhooks::{Options, axum_to_router};

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Registers the webhook at `public_url`, starts the HTTP server on `WEBHOOK_LISTEN`, and returns the update
/// listener for the dispatcher. On shutdown the server stops and the webhook is deleted.
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
    let options =
        Options::new(config.webhook_listen, public_url.clone()).secret_token(secret.clone());
    let token = config.token.clone().unwrap_or_default();
    let (listener, stop_flag, router) = axum_to_router(bot.clone(), options)
        .await
        .map_err(|e| StartupError::Telegram(e.to_string().replace(&token, "<token>")))?;
    let guard = Guard {
        secret: secret.into(),
        faults,
    };
    let router = router.layer(axum::middleware::from_fn_with_state(guard, check_secret));
    let tcp = bind(config.webhook_listen, &listening.webhook).await?;
    log::info!("webhook mode: Telegram posts to {public_url}");
    let limits = Limits {
        header_read_timeout: config.webhook_header_timeout,
        max_connections: config.webhook_max_connections,
    };
    tokio::spawn(webhook_server::serve(tcp, router, limits, stop_flag));
    Ok(listener)
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
    use super::same_secret;

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!same_secret(b"abcdefghijklmnoq", b"abcdefghijklmnop"));
        assert!(!same_secret(b"abcdefghijklmno", b"abcdefghijklmnop"));
        assert!(!same_secret(b"", b"abcdefghijklmnop"));
    }
}
