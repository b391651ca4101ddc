//! The bot's own HTTP endpoints: webhook mode (updates posted by Telegram, guarded by the secret token) and
//! `/health`.
use fake_telegram::Failure;
use milava_bot::fault_log::Fault;
use milava_bot::startup::Intake;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::bot::SimulatedBot;

const SECRET: &str = "s3cret-token_for-tests-0123456789";

/// The simulated bot with `extra` settings, its updates coming in by `intake`.
async fn start(extra: &[(&str, &str)], intake: Intake) -> SimulatedBot {
    SimulatedBot::builder()
        .settings(extra)
        .intake(intake)
        .polling_timeout(Duration::from_secs(1))
        .start()
        .await
        .expect("the simulated bot starts")
}

async fn bound(slot: &std::sync::OnceLock<SocketAddr>) -> SocketAddr {
    for _ in 0..500 {
        if let Some(addr) = slot.get() {
            return *addr;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server did not start listening");
}

fn start_update(update_id: i64, user: i64) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_710_226_800,
            "chat": {"id": user, "type": "private", "first_name": "Veikko"},
            "from": {"id": user, "is_bot": false, "first_name": "Veikko", "language_code": "fi"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_accepts_updates_only_with_the_secret() {
    let mut running = start(
        &[
            ("WEBHOOK_LISTEN", "127.0.0.1:0"),
            ("WEBHOOK_SECRET", SECRET),
        ],
        Intake::Webhook {
            public_url: "http://127.0.0.1/telegram".parse().unwrap(),
        },
    )
    .await;
    let addr = bound(&running.listening().webhook).await;
    let url = format!("http://{addr}/telegram");
    let client = reqwest::Client::new();
    let webhook_set = running
        .fake
        .requests_to("setWebhook")
        .last()
        .map(|r| r.params.clone())
        .expect("the bot registered its webhook");
    assert_eq!(webhook_set["url"], "http://127.0.0.1/telegram");
    assert_eq!(webhook_set["secret_token"], SECRET);

    // Without the secret, or with a wrong one, the update is refused and not handled.
    let missing = client
        .post(&url)
        .json(&start_update(1, 7001))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let wrong = client
        .post(&url)
        .header(
            "X-Telegram-Bot-Api-Secret-Token",
            "s3cret-token_for-tests-0123456780",
        )
        .json(&start_update(2, 7001))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        running.ctx().faults.lines_logged(Fault::WebhookRejected),
        1,
        "the second rejection within a minute is counted, not logged"
    );

    // With it, the bot handles the update and answers through the Bot API.
    let ok = client
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .json(&start_update(3, 7002))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let answers = running
        .fake
        .wait_for_messages_to(7002, 1, Duration::from_secs(10))
        .await;
    assert!(
        answers[0].text.as_deref().unwrap_or("").contains("Veikko"),
        "{answers:?}"
    );
    assert!(
        running.fake.sent_to(7001).is_empty(),
        "refused updates were not handled"
    );

    // On shutdown the webhook is removed, so long polling or another instance can take over.
    running
        .try_stop(Duration::from_secs(10))
        .await
        .expect("stops cleanly in time");
    assert!(!running.fake.requests_to("deleteWebhook").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_needs_a_secret() {
    let mut running = start(
        &[("WEBHOOK_LISTEN", "127.0.0.1:0")],
        Intake::Webhook {
            public_url: "http://127.0.0.1/telegram".parse().unwrap(),
        },
    )
    .await;
    let err = running
        .try_stop(Duration::from_secs(10))
        .await
        .expect_err("fails at once");
    assert!(err.to_string().contains("WEBHOOK_SECRET"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database_telegram_and_the_outbox() {
    let mut running = start(&[("HEALTH_ADDR", "127.0.0.1:0")], Intake::Polling).await;
    let addr = bound(&running.listening().health).await;
    let url = format!("http://{addr}/health");

    // Once the bot is polling, its own start-up calls (getMe among them) are over.
    for _ in 0..500 {
        if !running.fake.requests_to("getUpdates").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Telegram cannot be reached (the connection drops): unhealthy, and the reason is named. (A 5xx answer
    // would do too, but teloxide waits 10 s after one, and the check gives up after 5.)
    running.fake.fail_next("getMe", Failure::DropConnection);
    let asked_before = running.fake.requests_to("getMe").len();
    let answer = reqwest::get(&url).await.unwrap();
    assert_eq!(answer.status(), 503);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["telegram"], "unreachable");
    assert_eq!(body["database"], "ok");

    // The failure is remembered for a few seconds: probes in a row (a monitor, a scan) are not each
    // another getMe while Telegram is down.
    for _ in 0..5 {
        let answer = reqwest::get(&url).await.unwrap();
        assert_eq!(answer.status(), 503);
    }
    assert_eq!(
        running.fake.requests_to("getMe").len(),
        asked_before + 1,
        "one getMe for six probes"
    );

    // It recovers by itself once that time has passed and Telegram answers again.
    // (5 s: health::TELEGRAM_RETRY_AFTER.)
    running.clock.advance(chrono::Duration::seconds(5));
    let answer = reqwest::get(&url).await.unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "status": "ok",
            "database": "ok",
            "telegram": "ok",
            "outbox": {"waiting": 0, "due": 0, "oldest_due_seconds": null}
        })
    );
    running.stop().await;
}

/// Reads until the server closes the connection (or it fails); what it sent.
async fn read_to_close(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_server_closes_slow_connections_and_caps_open_ones() {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    let mut running = start(
        &[
            ("WEBHOOK_LISTEN", "127.0.0.1:0"),
            ("WEBHOOK_SECRET", SECRET),
            ("WEBHOOK_HEADER_TIMEOUT_SECONDS", "1"),
            ("WEBHOOK_MAX_CONNECTIONS", "2"),
        ],
        Intake::Webhook {
            public_url: "http://127.0.0.1/telegram".parse().unwrap(),
        },
    )
    .await;
    let addr = bound(&running.listening().webhook).await;

    // Slowloris: two connections send the start of a request and then nothing. They use up the two
    // connections allowed, so a third client waits to be served ...
    let started = std::time::Instant::now();
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /telegram HTTP/1.1\r\nHost: bot\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"POST /telegram HTTP/1.1\r\nHost: bot\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        .await
        .unwrap();
    // ... until the slow ones are closed after the 1 s header timeout; then it is answered (401: no secret).
    let answer = tokio::time::timeout(Duration::from_secs(5), read_to_close(&mut third))
        .await
        .expect("the third client is served once a connection is free");
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        waited >= Duration::from_millis(800),
        "served after {waited:?}: the third connection should have waited for a free one"
    );
    for mut stream in slow {
        tokio::time::timeout(Duration::from_secs(5), read_to_close(&mut stream))
            .await
            .expect("a connection that does not finish its headers is closed after the timeout");
    }
    assert!(started.elapsed() < Duration::from_secs(4));
    running.stop().await;
}
