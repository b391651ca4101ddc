//! Email, the outbox's second channel, against a real SMTP server on 127.0.0.1 started by the test: a small
//! tokio SMTP sink that stores what it accepts and can refuse (4xx, 5xx) or be down.
use crate::harness::{TestBot, joined, labels};
use chrono::{DateTime, Utc};
use fake_telegram::FakeUser;
use milava_bot::domain::Lang;
use pretty_assertions::assert_eq;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use testkit::content::text;
use testkit::story::{SPEEDUP, register, utc};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the sink accepted.
#[derive(Clone, Debug)]
struct Mail {
    rcpt: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct Sink {
    accepted: Arc<Mutex<Vec<Mail>>>,
    /// Answers to give at the end of DATA instead of 250, one per message, in order.
    refusals: Arc<Mutex<VecDeque<&'static str>>>,
    /// Messages that got a refusal.
    refused: Arc<Mutex<usize>>,
}

impl Sink {
    /// Serves SMTP on `listener` until the test ends.
    fn serve(&self, listener: TcpListener) {
        let sink = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let mut rcpt = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            let answer: String = if command.starts_with("EHLO") {
                "250-sink.test\r\n250 8BITMIME\r\n".into()
            } else if command.starts_with("HELO")
                || command.starts_with("MAIL")
                || command.starts_with("RSET")
            {
                rcpt.clear();
                "250 OK\r\n".into()
            } else if command.starts_with("RCPT") {
                let to = line.trim_end()[8..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_string();
                rcpt.push(to);
                "250 OK\r\n".into()
            } else if command == "DATA" {
                write.write_all(b"354 go on\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut part = String::new();
                    if lines.read_line(&mut part).await? == 0 {
                        return Ok(());
                    }
                    if part == ".\r\n" {
                        break;
                    }
                    data.push_str(part.strip_prefix('.').unwrap_or(&part));
                }
                let refusal = self.refusals.lock().unwrap().pop_front();
                match refusal {
                    Some(answer) => {
                        *self.refused.lock().unwrap() += 1;
                        format!("{answer}\r\n")
                    }
                    None => {
                        self.accepted.lock().unwrap().push(Mail {
                            rcpt: std::mem::take(&mut rcpt),
                            data,
                        });
                        "250 queued\r\n".into()
                    }
                }
            } else if command == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                "502 not implemented\r\n".into()
            };
            write.write_all(answer.as_bytes()).await?;
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.accepted.lock().unwrap().clone()
    }
}

/// A port on 127.0.0.1 where nothing listens (yet).
async fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

async fn start_sink(addr: SocketAddr) -> Sink {
    let sink = Sink::default();
    sink.serve(TcpListener::bind(addr).await.unwrap());
    sink
}

async fn bot_with_email(addr: SocketAddr) -> TestBot {
    let url = format!("smtp://{addr}");
    TestBot::start_sped_up(
        &[
            ("COORDINATOR_IDS", "900"),
            ("SMTP_URL", &url),
            ("EMAIL_FROM", "MILAVA <milava@example.org>"),
            ("EMAIL_MAX_PER_MINUTE", "600"),
        ],
        SPEEDUP,
    )
    .await
}

/// Marks `user` present at the first four sessions of the Oulu series (enough for the certificate).
async fn attended_four(bot: &TestBot, user: i64) {
    let mut tx = milava_bot::db::begin_write(bot.store()).await.unwrap();
    for n in 1..=4 {
        milava_bot::db::programme::mark_attended(
            &mut tx,
            &format!("oulu-2024-{n}"),
            user,
            900,
            utc("2024-04-23 12:00"),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// The header `name` of a message, unfolded, with RFC 2047 words decoded.
fn header(data: &str, name: &str) -> Option<String> {
    let head = data.split("\r\n\r\n").next().unwrap_or_default();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let prefix = format!("{}:", name.to_ascii_lowercase());
    unfolded
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| decode_words(l[prefix.len()..].trim()))
}

fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, word) in value.split(' ').enumerate() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && word.ends_with("?=") {
            // White space between two encoded words is not part of the text.
            if i > 0 && !last_encoded {
                out.push(' ');
            }
            out.push_str(&String::from_utf8(base64(&word[10..word.len() - 2])).unwrap());
            last_encoded = true;
        } else {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
            last_encoded = false;
        }
    }
    out
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let mut n: u32 = 0;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The parts of a multipart message: (headers, decoded body).
fn parts(data: &str) -> Vec<(String, Vec<u8>)> {
    let content_type = header(data, "Content-Type").unwrap_or_default();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a multipart message")
        .trim_matches('"')
        .to_string();
    data.split(&format!("--{boundary}"))
        .skip(1)
        .filter(|p| !p.starts_with("--"))
        .map(|part| {
            let part = part.trim_start_matches("\r\n");
            let (head, body) = part.split_once("\r\n\r\n").unwrap_or((part, ""));
            let lower = head.to_ascii_lowercase();
            let decoded = if lower.contains("content-transfer-encoding: base64") {
                base64(body)
            } else if lower.contains("content-transfer-encoding: quoted-printable") {
                quoted_printable(body).into_bytes()
            } else {
                body.as_bytes().to_vec()
            };
            (head.to_string(), decoded)
        })
        .collect()
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("todistus.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

async fn email_rows(bot: &TestBot) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT idempotency_key, status, attempts FROM deliveries WHERE channel = 'email' ORDER BY id",
    )
    .fetch_all(&bot.db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_arrives_once_by_email_with_the_pdf_in_the_persons_language() {
    let addr = free_port().await;
    let sink = start_sink(addr).await;
    let mut bot = bot_with_email(addr).await;
    let (anna, _) = register(&bot, 9301, "Anna Aho", "fi", "oulu-kevat24").await;
    let (ben, _) = register(&bot, 9302, "Ben Berg", "en", "oulu-kevat24").await;
    // The email question promises the certificate by email when email is on.
    let asked = bot.texts_to(&anna);
    assert!(
        asked.contains(&text(Lang::Fi, "registration.pro.email", &[])),
        "{asked:#?}"
    );
    attended_four(&bot, anna.id).await;
    attended_four(&bot, ben.id).await;

    // The series ends on 14.5. at 12.00 (9.00 UTC); the certificates follow the series-end survey at 9.30.
    let arrivals = bot.advance_to(utc("2024-05-14 10:00")).await;
    let in_chat = arrivals
        .iter()
        .filter(|a| a.message.document.is_some())
        .count();
    assert_eq!(in_chat, 2, "the certificates still come in the chat");
    let mails = sink.mails();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    for (user, address, lang, series, subject_start) in [
        (
            &anna,
            "anna.aho@example.fi",
            Lang::Fi,
            "Oulu, kevät 2024",
            "MILAVA-osallistumistodistus",
        ),
        (
            &ben,
            "ben.berg@example.fi",
            Lang::En,
            "Oulu, spring 2024",
            "MILAVA certificate of participation",
        ),
    ] {
        let mail = mails
            .iter()
            .find(|m| m.rcpt == [address])
            .unwrap_or_else(|| panic!("no email to {address}: {mails:#?}"));
        let data = &mail.data;
        let subject = header(data, "Subject").unwrap();
        assert!(subject.starts_with(subject_start), "{subject}");
        assert_eq!(
            subject,
            text(lang, "email.certificate.subject", &[("series", series)])
        );
        assert_eq!(
            header(data, "From").as_deref(),
            Some("MILAVA <milava@example.org>")
        );
        assert_eq!(header(data, "To").as_deref(), Some(address));
        assert_eq!(
            header(data, "Date"),
            Some(rfc2822(utc("2024-05-14 09:30"))),
            "Date is when it was sent"
        );
        let id = header(data, "Message-ID").unwrap();
        assert!(
            id.starts_with("<milava.") && id.ends_with("@example.org>"),
            "{id}"
        );
        assert_eq!(
            header(data, "Content-Language").as_deref(),
            Some(lang.code())
        );
        let parts = parts(data);
        assert_eq!(parts.len(), 2, "text and the PDF");
        let body = String::from_utf8(parts[0].1.clone()).unwrap();
        let name = if lang == Lang::Fi {
            "Anna Aho"
        } else {
            "Ben Berg"
        };
        assert_eq!(
            body.trim_end(),
            text(
                lang,
                "email.certificate.body",
                &[("name", name), ("series", series)]
            )
            .replace('\n', "\r\n")
        );
        assert!(
            parts[1].0.contains("application/pdf") && parts[1].0.contains("attachment"),
            "{}",
            parts[1].0
        );
        let pdf = &parts[1].1;
        assert!(pdf.starts_with(b"%PDF"), "the attachment is a PDF");
        let pdf = pdf_text(pdf);
        assert!(pdf.contains(name), "{pdf}");
        assert!(
            pdf.contains(&text(lang, "certificate.document.title", &[])),
            "{pdf}"
        );
        let _ = user;
    }

    // Exactly once: later passes and a crash with a restart add nothing.
    bot.advance_to(utc("2024-05-15 10:00")).await;
    bot.crash_and_restart().await;
    bot.advance_to(utc("2024-05-16 10:00")).await;
    assert_eq!(sink.mails().len(), 2);
    let rows = email_rows(&bot).await;
    assert_eq!(
        rows.iter()
            .map(|(_, status, _)| status.as_str())
            .collect::<Vec<_>>(),
        ["sent", "sent"]
    );
    assert!(rows[0].0.starts_with("certificate:oulu-2024:") && rows[0].0.ends_with(":email"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_is_down_or_refuses_is_tried_again_without_loss_or_duplicates() {
    let addr = free_port().await;
    let bot = bot_with_email(addr).await;
    let (anna, _) = register(&bot, 9311, "Anna Aho", "fi", "oulu-kevat24").await;
    attended_four(&bot, anna.id).await;
    let (cai, _) = register(&bot, 9312, "Cai Cederberg", "en", "rovaniemi-kevat24").await;
    let mut tx = milava_bot::db::begin_write(bot.store()).await.unwrap();
    for n in 1..=4 {
        milava_bot::db::programme::mark_attended(
            &mut tx,
            &format!("rovaniemi-2024-{n}"),
            cai.id,
            900,
            utc("2024-04-24 12:00"),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    // The mail server is down when the certificates are made (half an hour after the series ends, with the
    // series-end survey): the chat gets the certificate, the email waits.
    let arrivals = bot.advance_to(utc("2024-05-14 09:30")).await;
    assert_eq!(
        arrivals
            .iter()
            .filter(|a| a.message.document.is_some())
            .count(),
        1
    );
    let rows = email_rows(&bot).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2),
        ("pending", 1),
        "one failed try"
    );

    // It comes back, but first answers 451 (try later) and then 554 (refusing everything for a while).
    let sink = start_sink(addr).await;
    sink.refusals
        .lock()
        .unwrap()
        .extend(["451 4.3.0 try again later", "554 5.7.1 service unavailable"]);
    bot.advance_to(utc("2024-05-14 12:00")).await;
    assert_eq!(*sink.refused.lock().unwrap(), 2);
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "delivered once: {mails:#?}");
    assert_eq!(mails[0].rcpt, ["anna.aho@example.fi"]);
    let rows = email_rows(&bot).await;
    assert_eq!((rows[0].1.as_str(), rows[0].2), ("sent", 3));
    // 1 + 2 + 4 minutes of backoff after the first try at 9.30.
    assert_eq!(
        header(&mails[0].data, "Date"),
        Some(rfc2822(utc("2024-05-14 09:37")))
    );
    bot.advance_to(utc("2024-05-15 08:00")).await;
    assert_eq!(sink.mails().len(), 1, "not again");

    // An address the server says does not exist (550) is given up at once, with the reason kept.
    sink.refusals
        .lock()
        .unwrap()
        .push_back("550 5.1.1 <cai.ceder@example.fi>: no such mailbox");
    // The Rovaniemi series ends on 15.5. at 12.00 (9.00 UTC).
    bot.advance_to(utc("2024-05-15 10:00")).await;
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM deliveries WHERE idempotency_key = ?")
            .bind(format!("certificate:rovaniemi-2024:{}:email", cai.id))
            .fetch_one(&bot.db)
            .await
            .unwrap();
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("no such mailbox"));
    assert_eq!(sink.mails().len(), 1);
    assert!(
        !sqlx::query_scalar::<_, String>("SELECT COALESCE(last_error, '') FROM deliveries")
            .fetch_all(&bot.db)
            .await
            .unwrap()
            .iter()
            .any(|e| e.contains("@example")),
        "addresses are not in stored reasons"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_professional_can_choose_reminders_by_email_too() {
    let addr = free_port().await;
    let sink = start_sink(addr).await;
    let bot = bot_with_email(addr).await;
    let (ben, _) = register(&bot, 9321, "Ben Berg", "en", "oulu-kevat24").await;
    let menu = bot.send(&ben, "/reminders").await;
    let label = format!(
        "⬜ {}",
        text(Lang::En, "button.programme.email_reminders", &[])
    );
    assert!(labels(&menu).contains(&label), "{:?}", labels(&menu));
    let after = bot.press(&ben, &label).await;
    let _ = joined(&after);

    // The day before the kick-off (19.3. at 8.00) at 16.00 local time (14.00 UTC).
    bot.advance_to(utc("2024-03-18 14:30")).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].rcpt, ["ben.berg@example.fi"]);
    let subject = header(&mails[0].data, "Subject").unwrap();
    assert_eq!(
        subject,
        text(
            Lang::En,
            "email.reminder.subject",
            &[("title", "Kick-off meeting")]
        )
    );
    assert!(
        bot.texts_to(&ben)
            .iter()
            .any(|t| t.starts_with("Reminder: tomorrow")),
        "the chat reminder still comes"
    );

    // Turned off again: the next reminder (an hour before) comes only in the chat.
    let menu = bot.send(&ben, "/reminders").await;
    let on = format!(
        "✅ {}",
        text(Lang::En, "button.programme.email_reminders", &[])
    );
    assert!(labels(&menu).contains(&on), "{:?}", labels(&menu));
    bot.press(&ben, &on).await;
    bot.advance_to(utc("2024-03-19 05:30")).await;
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_mail_server_the_email_question_says_the_certificate_comes_in_the_chat() {
    let bot = TestBot::start().await;
    for (id, lang) in [(9331, "fi"), (9332, "en")] {
        let (user, _) = register(&bot, id, "Dan Dahl", lang, "oulu-kevat24").await;
        let asked = bot.texts_to(&user);
        let lang = Lang::parse(lang).unwrap();
        assert!(
            asked.contains(&text(lang, "registration.pro.email_chat_only", &[])),
            "{asked:#?}"
        );
        assert!(!asked.contains(&text(lang, "registration.pro.email", &[])));
        // No email choice in /reminders either.
        let menu = bot.send(&user, "/reminders").await;
        assert!(
            !labels(&menu).iter().any(|l| l.contains(&text(
                lang,
                "button.programme.email_reminders",
                &[]
            ))),
            "{:?}",
            labels(&menu)
        );
    }
    let _: Option<FakeUser> = None;
}
