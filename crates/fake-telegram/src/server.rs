//! The HTTP side: an axum server on 127.0.0.1 answering `/bot{token}/{method}` like Telegram.

use super::Inner;
use super::methods;
use super::params::{self, ApiErr, opt_i64, opt_json};
use super::types::{Failure, FakeEvent, RecordedRequest};
use axum::Router;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use serde_json::{Value, json};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Serves until `shutdown` resolves (its sender is dropped with the last `FakeTelegram`).
pub(crate) fn spawn(listener: TcpListener, inner: Arc<Inner>, shutdown: oneshot::Receiver<()>) {
    let app = Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(params::MAX_BODY))
        .with_state(inner);
    let service = app.into_make_service_with_connect_info::<Conn>();
    tokio::spawn(async move {
        let server = axum::serve(KillableListener(listener), service);
        tokio::select! {
            result = async { server.await } => {
                if let Err(e) = result {
                    log::error!("fake Telegram server stopped: {e}");
                }
            }
            _ = shutdown => {}
        }
    });
}

fn ok_response(result: Value) -> Response {
    json_response(
        StatusCode::OK,
        format!("{{\"ok\":true,\"result\":{result}}}"),
    )
}

fn err_response(err: &ApiErr) -> Response {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, err.to_body())
}

/// Telegram's bodies start with `"ok"`, so they are written by hand (serde_json sorts keys).
fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

impl Inner {
    fn fail(&self, request: RecordedRequest, err: ApiErr) -> Response {
        log::debug!(
            "fake Telegram: {} failed: {}",
            request.method,
            err.description
        );
        self.emit(FakeEvent::RequestFailed {
            request,
            error_code: Some(err.code),
            description: err.description.clone(),
        });
        self.bump();
        err_response(&err)
    }

    /// Records the request and picks the failure to apply, if any.
    fn record(&self, request: &RecordedRequest, method_lc: &str) -> Option<Failure> {
        let mut st = self.lock();
        if st.keep_request_log {
            st.requests.push(request.clone());
        }
        let scripted = st
            .fail_next
            .get_mut(method_lc)
            .and_then(|queue| queue.pop_front());
        scripted.or_else(|| {
            let chat = request
                .chat_id()
                .filter(|_| methods::is_chat_scoped(method_lc))?;
            st.chat_failures
                .get(&chat)
                .cloned()
                .or_else(|| st.cannot_initiate(chat))
        })
    }
}

/// `/bot{token}/{method}` -> (token, method).
fn split_path(path: &str) -> Option<(&str, &str)> {
    let (first, method) = path.strip_prefix('/')?.split_once('/')?;
    let token = first.strip_prefix("bot")?;
    if token.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((token, method))
}

/// Telegram method names are case-insensitive and teloxide sends `SendMessage`; record the
/// documented spelling (`sendMessage`).
fn canonical_method(method: &str) -> String {
    let mut chars = method.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_owned();
    let Some((token, method)) = split_path(&path) else {
        return err_response(&ApiErr::not_found());
    };
    if !token.contains(':') {
        return err_response(&ApiErr::new(401, "Unauthorized"));
    }
    let parsed = params::parse_request(req).await;
    let (params, files, parse_error) = match parsed {
        Ok((params, files)) => (params, files, None),
        Err(err) => (json!({}), Vec::new(), Some(err)),
    };
    let request = RecordedRequest {
        method: canonical_method(method),
        params,
        files,
    };
    let method_lc = request.method.to_ascii_lowercase();
    let failure = inner.record(&request, &method_lc);
    inner.bump();
    if let Some(err) = parse_error {
        return inner.fail(request, err);
    }
    match failure {
        Some(Failure::Api {
            code,
            description,
            retry_after,
            migrate_to_chat_id,
        }) => {
            let err = ApiErr {
                code,
                description,
                retry_after,
                migrate_to_chat_id,
            };
            return inner.fail(request, err);
        }
        Some(Failure::DropConnection) => {
            conn.0.store(true, Ordering::SeqCst);
            inner.emit(FakeEvent::RequestFailed {
                request,
                error_code: None,
                description: "connection dropped".to_owned(),
            });
            inner.bump();
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Failure::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    if method_lc == "getupdates" {
        return get_updates(&inner, request).await;
    }
    let outcome = {
        let mut st = inner.lock();
        let flood = match request.chat_id() {
            Some(chat) if methods::is_send(&method_lc) => st.flood.check(chat, Instant::now()),
            _ => Ok(()),
        };
        match flood {
            Ok(()) => methods::call(&mut st, &method_lc, &request),
            Err(retry_after) => Err(ApiErr::too_many_requests(retry_after)),
        }
    };
    match outcome {
        Ok(outcome) => {
            if outcome.events.is_empty() {
                inner.emit(FakeEvent::Other(request));
            }
            for event in outcome.events {
                inner.emit(event);
            }
            inner.bump();
            ok_response(outcome.result)
        }
        Err(err) => inner.fail(request, err),
    }
}

enum PollStep {
    Superseded,
    Answer(Vec<Value>),
    Wait,
}

/// Long polling: answers at once when updates are queued, else when one is pushed or the
/// requested `timeout` passes.
async fn get_updates(inner: &Inner, request: RecordedRequest) -> Response {
    let p = &request.params;
    let timeout = opt_i64(p, "timeout").unwrap_or(0).clamp(0, 3600) as u64;
    let limit = opt_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let offset = opt_i64(p, "offset").unwrap_or(0);
    let allowed =
        opt_json(p, "allowed_updates").and_then(|v| serde_json::from_value::<Vec<String>>(v).ok());
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let mut pushed = inner.updates.subscribe();
    let generation = {
        let mut st = inner.lock();
        if st.webhook_url.is_empty() {
            st.poll_generation += 1;
            st.confirm(offset);
            if allowed.is_some() {
                st.allowed_updates = allowed;
            }
            Some(st.poll_generation)
        } else {
            None
        }
    };
    let Some(generation) = generation else {
        let err = ApiErr::new(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to \
             delete the webhook first",
        );
        return inner.fail(request, err);
    };
    // Wake an older poll so that it notices it was superseded.
    inner.updates.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        let step = {
            let mut st = inner.lock();
            if st.poll_generation != generation {
                PollStep::Superseded
            } else {
                let batch = st.take_updates(limit);
                if batch.is_empty() && Instant::now() < deadline {
                    PollStep::Wait
                } else {
                    PollStep::Answer(batch)
                }
            }
        };
        match step {
            PollStep::Superseded => {
                let err = ApiErr::new(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one \
                     bot instance is running",
                );
                return inner.fail(request, err);
            }
            PollStep::Answer(batch) => {
                inner.bump();
                return ok_response(Value::Array(batch));
            }
            PollStep::Wait => {}
        }
        match tokio::time::timeout_at(deadline, pushed.changed()).await {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(_)) => return ok_response(json!([])),
        }
    }
}

// ---- a listener whose connections can be cut from a handler (Failure::DropConnection) ----

struct KillableListener(TcpListener);

/// Per-connection handle given to handlers through `ConnectInfo`.
#[derive(Clone, Debug)]
struct Conn(Arc<AtomicBool>);

struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let killed = Arc::new(AtomicBool::new(false));
                    return (
                        KillableStream {
                            stream,
                            killed: killed.clone(),
                        },
                        Conn(killed),
                    );
                }
                Err(e) => {
                    log::warn!("fake Telegram: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0
            .local_addr()
            .map(|_| Conn(Arc::new(AtomicBool::new(false))))
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "dropped by fake Telegram",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
