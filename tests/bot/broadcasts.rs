//! Coordinators' broadcasts through the fake Bot API: `/broadcast` → audience → the message → preview with
//! the recipient count → send now or at a local time; the copies go out through the outbox within the flood
//! limits, survive faults and crashes, and only coordinators can start one.
use crate::harness::{STEP_TIMEOUT, TestBot, joined, labels, test_key};
use chrono::{DateTime, TimeZone, Utc};
use fake_telegram::{Failure, FakeEvent, FakeUser, SentKind, SentMessage};
use milava_bot::clock::Clock;
use milava_bot::db::outbox::{self, NewDelivery};
use milava_bot::domain::enrolment::{Enrolment, EnrolmentStatus};
use milava_bot::domain::outbox::{OutboxKey, Payload, Status};
use milava_bot::domain::{Lang, Participant, Role};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

pub(crate) const COORDINATOR: i64 = 900;
const COORDINATORS: &[(&str, &str)] = &[("COORDINATOR_IDS", "900")];
const REFUSED: &str = "Tämä komento on vain hankkeen koordinaattoreille.";

pub(crate) fn coordinator() -> FakeUser {
    FakeUser::new(COORDINATOR, "Venla", Some("fi"))
}

/// Someone registered, as the database holds them.
#[derive(Clone, Copy)]
struct Person {
    id: i64,
    role: Role,
    area: &'static str,
    group: Option<&'static str>,
    series: Option<&'static str>,
    research: bool,
}

impl Person {
    fn father(id: i64) -> Person {
        Person {
            id,
            role: Role::Father,
            area: "oulu",
            group: None,
            series: None,
            research: false,
        }
    }
}

/// Registers people directly in the database (one transaction), as if each had finished registration.
async fn add_people(bot: &TestBot, people: &[Person]) {
    let now = bot.clock.now();
    let mut tx = milava_bot::db::begin_write(bot.store())
        .await
        .expect("begin");
    for p in people {
        milava_bot::db::users::touch(&mut tx, p.id, p.id, Lang::Fi, now)
            .await
            .expect("user");
        let participant = Participant {
            telegram_user_id: p.id,
            role: p.role,
            name: format!("Osallistuja {}", p.id),
            area: Some(p.area.to_string()),
            wants: None,
            organisation: None,
            profession: None,
            email: None,
            series_id: p.series.map(str::to_string),
            group_id: p.group.map(str::to_string),
            privacy_version: "2024-03-01".into(),
            consent_at: now,
            research_consent: p.research,
            research_consent_at: p.research.then_some(now),
            registered_at: now,
            updated_at: now,
        };
        milava_bot::db::participants::insert(&mut tx, &participant)
            .await
            .expect("participant");
        if let Some(series) = p.series {
            let enrolment = Enrolment {
                telegram_user_id: p.id,
                series_id: series.into(),
                status: EnrolmentStatus::Enrolled,
                offered_until: None,
                queued_at: now,
            };
            milava_bot::db::programme::put_enrolment(&mut tx, &enrolment, now)
                .await
                .expect("enrolment");
        }
    }
    tx.commit().await.expect("commit");
}

pub(crate) async fn add_fathers(bot: &TestBot, ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let ids: Vec<i64> = ids.into_iter().collect();
    let people: Vec<Person> = ids.iter().map(|id| Person::father(*id)).collect();
    add_people(bot, &people).await;
    ids
}

/// A coordinator's draft up to the preview: `/broadcast`, the audience buttons in order, then the message.
/// Returns the id of the coordinator's message (what recipients get a copy of) and the bot's answer to it.
pub(crate) async fn compose(
    bot: &TestBot,
    audience: &[&str],
    message: serde_json::Value,
) -> (i64, Vec<SentMessage>) {
    let venla = coordinator();
    let replies = bot.send(&venla, "/broadcast").await;
    assert!(
        joined(&replies).contains("Uusi tiedote. Kenelle se lähetetään?"),
        "{}",
        joined(&replies)
    );
    let mut replies = Vec::new();
    for label in audience {
        replies = bot.press(&venla, label).await;
    }
    assert!(
        joined(&replies).contains("Lähetä nyt viesti, joka välitetään sellaisenaan"),
        "{} / {:?}",
        joined(&replies),
        bot.fake.requests_to("answerCallbackQuery").last()
    );
    let replies = bot.send_message(&venla, message).await;
    let source = match replies.first().map(|m| &m.kind) {
        Some(SentKind::Copy {
            from_chat_id: COORDINATOR,
            message_id,
        }) => *message_id,
        other => panic!("the preview is a copy of the coordinator's message, got {other:?}"),
    };
    (source, replies)
}

pub(crate) fn text_message(text: &str) -> serde_json::Value {
    json!({ "text": text })
}

/// The newest broadcast's id.
pub(crate) async fn latest_broadcast(bot: &TestBot) -> i64 {
    sqlx::query_scalar("SELECT MAX(id) FROM broadcasts")
        .fetch_one(&bot.db)
        .await
        .expect("a broadcast")
}

async fn broadcast_status(bot: &TestBot, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM broadcasts WHERE id = ?")
        .bind(id)
        .fetch_one(&bot.db)
        .await
        .expect("broadcast status")
}

/// How many copies of the coordinator's message `source` each chat other than the coordinator's holds.
fn copies(bot: &TestBot, source: i64) -> BTreeMap<i64, usize> {
    let mut per_chat = BTreeMap::new();
    for m in bot.fake.sent_messages() {
        if m.chat_id != COORDINATOR
            && m.kind
                == (SentKind::Copy {
                    from_chat_id: COORDINATOR,
                    message_id: source,
                })
        {
            *per_chat.entry(m.chat_id).or_default() += 1;
        }
    }
    per_chat
}

/// copyMessage requests of `source` per chat (answered or not).
fn copy_requests(bot: &TestBot, source: i64) -> BTreeMap<i64, usize> {
    let mut per_chat = BTreeMap::new();
    for r in bot.fake.requests_to("copyMessage") {
        let to = r.chat_id();
        let message = r.params.get("message_id").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        if message == Some(source) && to != Some(COORDINATOR) {
            *per_chat.entry(to.unwrap_or_default()).or_default() += 1;
        }
    }
    per_chat
}

fn once_each(chats: impl IntoIterator<Item = i64>) -> BTreeMap<i64, usize> {
    chats.into_iter().map(|chat| (chat, 1)).collect()
}

/// Waits (re-reading every 10 ms) until the broadcast is `done` and its summary reached the coordinator;
/// returns the summary.
pub(crate) async fn wait_until_done(bot: &TestBot, id: i64) -> String {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let status = broadcast_status(bot, id).await;
        if status == "done" {
            break;
        }
        let progress =
            outbox::batch_progress(&bot.db, &milava_bot::domain::outbox::broadcast_batch(id))
                .await
                .expect("progress");
        assert!(
            Instant::now() < deadline,
            "broadcast #{id} still {status}: {progress:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let start = format!("Tiedote #{id} on lähetetty:");
    let summary = |f: &fake_telegram::FakeTelegram| {
        f.sent_to(COORDINATOR)
            .into_iter()
            .filter_map(|m| m.text)
            .find(|t| t.starts_with(&start))
    };
    bot.fake
        .wait_until("the summary", STEP_TIMEOUT, |f| summary(f).is_some())
        .await;
    summary(&bot.fake).expect("summary")
}

/// The coordinator's status message of a broadcast, as it is now.
pub(crate) fn status_message(bot: &TestBot, id: i64) -> Option<SentMessage> {
    let start = format!("Tiedote #{id}: lähetetty");
    bot.fake
        .sent_to(COORDINATOR)
        .into_iter()
        .find(|m| m.text.as_deref().is_some_and(|t| t.starts_with(&start)))
}

/// Makes sure the delivery worker has looked at the outbox since the clock last moved: a message due now
/// goes out (after anything that was due before it).
async fn fence(bot: &TestBot, name: &str) {
    let key = test_key(&format!("fence:{name}"));
    bot.enqueue(&[NewDelivery::new(
        key.clone(),
        999,
        Payload::text(name),
        bot.clock.now(),
    )])
    .await;
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let row = outbox::by_key(&bot.db, &key).await.unwrap().unwrap();
        if row.status == Status::Sent {
            return;
        }
        assert!(Instant::now() < deadline, "fence {name} not sent: {row:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---- the whole flow -----------------------------------------------------------------------------------

/// A small population: who is in which audience.
const PEOPLE: [Person; 7] = [
    Person {
        id: 101,
        role: Role::Father,
        area: "oulu",
        group: Some("oulu-isat-fi"),
        series: None,
        research: true,
    },
    Person {
        id: 102,
        role: Role::Father,
        area: "kajaani",
        group: None,
        series: None,
        research: false,
    },
    Person {
        id: 103,
        role: Role::Professional,
        area: "oulu",
        group: None,
        series: Some("oulu-2024"),
        research: true,
    },
    Person {
        id: 104,
        role: Role::Professional,
        area: "rovaniemi",
        group: None,
        series: Some("rovaniemi-2024"),
        research: false,
    },
    Person {
        id: 105,
        role: Role::Other,
        area: "kajaani",
        group: None,
        series: None,
        research: true,
    },
    // Unreachable (blocked the bot earlier): in Oulu's group and the research audience, never a recipient.
    Person {
        id: 106,
        role: Role::Father,
        area: "oulu",
        group: Some("oulu-isat-fi"),
        series: None,
        research: true,
    },
    // Turns announcements off: never a recipient either.
    Person {
        id: 107,
        role: Role::Father,
        area: "oulu",
        group: Some("oulu-isat-fi"),
        series: Some("oulu-2024"),
        research: true,
    },
];

/// The population above, with 106 unreachable and 107 having turned announcements off with `/announcements`.
async fn populate(bot: &TestBot) {
    add_people(bot, &PEOPLE).await;
    sqlx::query("UPDATE users SET unreachable_since = ? WHERE telegram_user_id = 106")
        .bind(bot.clock.now())
        .execute(&bot.db)
        .await
        .unwrap();
    let kalle = FakeUser::new(107, "Kalle", Some("fi"));
    let replies = bot.send(&kalle, "/announcements").await;
    assert!(joined(&replies).contains("Saat hankkeen tiedotteet tätä kautta."));
    bot.press(&kalle, "🔕 Tiedotteet pois").await;
    assert_eq!(
        bot.count(
            "SELECT announcements FROM users WHERE telegram_user_id = ?",
            107
        )
        .await,
        0
    );
    let shown = bot.fake.sent_to(107);
    assert!(
        shown
            .iter()
            .any(|m| m.text.as_deref() == Some("Hankkeen tiedotteet ovat pois päältä. Muistutukset omista tapaamisistasi tulevat silti.")),
        "the setting is shown in place: {shown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_is_previewed_then_sent_once_to_each_recipient_with_progress_and_summary() {
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    populate(&bot).await;
    let venla = coordinator();

    let replies = bot.send(&venla, "/broadcast").await;
    assert_eq!(
        labels(&replies),
        [
            "Kaikille",
            "Isille",
            "Ammattilaisille",
            "Muille",
            "Työpajasarjalle…",
            "Alueelle…",
            "Vertaisryhmälle…",
            "Tutkimukseen suostuneille"
        ]
    );
    let replies = bot.press(&venla, "Kaikille").await;
    assert!(
        joined(&replies).contains("Vastaanottajat: kaikki ilmoittautuneet. Lähetä nyt viesti"),
        "{}",
        joined(&replies)
    );
    let (message_id, replies) = bot
        .send_with_id(&venla, "Tervetuloa kevään tapaamisiin!")
        .await;

    // The preview: the bot copies the message back, then counts who gets it and who is left out.
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert_eq!(
        replies[0].kind,
        SentKind::Copy {
            from_chat_id: COORDINATOR,
            message_id
        }
    );
    assert_eq!(
        replies[0].text.as_deref(),
        Some("Tervetuloa kevään tapaamisiin!")
    );
    assert_eq!(
        replies[1].text.as_deref(),
        Some(
            "Esikatselu yllä. Vastaanottajia 5 (kaikki ilmoittautuneet). Pois jäävät 1, joita ei tavoiteta, \
             ja 1, jotka ovat ottaneet tiedotteet pois päältä. Mitään ei lähetetä ennen vahvistusta."
        )
    );
    assert_eq!(labels(&replies), ["Lähetä nyt", "Ajasta…", "Peru"]);

    // Nothing goes anywhere before the confirmation.
    let id = latest_broadcast(&bot).await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM broadcasts WHERE id = ? AND text = 'Tervetuloa kevään tapaamisiin!'",
            id
        )
        .await,
        1,
        "the console's list and progress page show what it said"
    );
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM deliveries WHERE batch = 'broadcast:' || ?",
            id
        )
        .await,
        0
    );
    assert!(copy_requests(&bot, message_id).is_empty());
    assert_eq!(broadcast_status(&bot, id).await, "draft");

    let replies = bot.press(&venla, "Lähetä nyt").await;
    assert!(
        joined(&replies).contains(&format!(
            "Tiedote #{id} lähtee 5 vastaanottajalle. Tilanne päivittyy tähän alle."
        )),
        "{}",
        joined(&replies)
    );
    let summary = wait_until_done(&bot, id).await;
    assert_eq!(
        summary,
        format!("Tiedote #{id} on lähetetty: perille 5/5, estänyt botin 0, epäonnistui 0.")
    );

    // Exactly one copy each for the five recipients, and nothing for anyone else.
    let recipients = [101, 102, 103, 104, 105];
    assert_eq!(copies(&bot, message_id), once_each(recipients));
    assert_eq!(copy_requests(&bot, message_id), once_each(recipients));
    for left_out in [106, 107] {
        assert!(
            bot.fake
                .sent_to(left_out)
                .iter()
                .all(|m| !matches!(m.kind, SentKind::Copy { .. })),
            "{left_out} got a copy"
        );
    }

    // The status message came before the copies and was edited to the final count.
    let status = status_message(&bot, id).expect("a status message");
    assert!(status.edited, "{status:?}");
    let text = status.text.clone().unwrap();
    assert!(
        text.starts_with(&format!(
            "Tiedote #{id}: lähetetty 5/5\nEstänyt botin: 0 · epäonnistui: 0 · jäljellä: 0\nArvioitu valmistuminen: "
        )),
        "{text}"
    );
    // The estimated finish is to the minute ("9.01", not "9.00.01").
    let eta = text.rsplit(": ").next().unwrap();
    let (hour, minute) = eta.split_once('.').expect("h.mm");
    assert!(
        hour.parse::<u32>().is_ok() && minute.len() == 2 && minute.parse::<u32>().is_ok(),
        "{eta}"
    );
    let all = bot.fake.sent_messages();
    let status_at = all
        .iter()
        .position(|m| m.chat_id == COORDINATOR && m.message_id == status.message_id)
        .unwrap();
    let first_copy_at = all
        .iter()
        .position(|m| recipients.contains(&m.chat_id))
        .unwrap();
    assert!(status_at < first_copy_at, "the status message goes first");

    // Creating and confirming it are in the audit log.
    let audit: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT actor, action, detail FROM audit_log ORDER BY id")
            .fetch_all(&bot.db)
            .await
            .unwrap();
    assert_eq!(
        audit,
        [
            (
                COORDINATOR,
                "broadcast_created".to_string(),
                format!("#{id}")
            ),
            (
                COORDINATOR,
                "broadcast_confirmed".to_string(),
                format!("#{id} all to 5 at 2024-03-12 07:00:00 UTC")
            )
        ]
    );

    let list = joined(&bot.send(&venla, "/broadcasts").await);
    assert!(
        list.contains(&format!(
            "#{id} · valmis · 12.3.2024 klo 9.00 · kaikki ilmoittautuneet · lähetetty 5/5"
        )),
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_audience_reaches_exactly_its_people() {
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    populate(&bot).await;
    let venla = coordinator();
    let audiences: [(&[&str], &str, &[i64]); 8] = [
        (
            &["Kaikille"],
            "kaikki ilmoittautuneet",
            &[101, 102, 103, 104, 105],
        ),
        (&["Isille"], "isät", &[101, 102]),
        (&["Ammattilaisille"], "ammattilaiset", &[103, 104]),
        (&["Muille"], "muut", &[105]),
        (
            &["Työpajasarjalle…", "Oulu, kevät 2024"],
            "työpajasarja Oulu, kevät 2024",
            &[103],
        ),
        (&["Alueelle…", "Oulu"], "alue Oulu", &[101, 103]),
        (
            &["Vertaisryhmälle…", "Oulun isien vertaisryhmä"],
            "vertaisryhmä Oulun isien vertaisryhmä",
            &[101],
        ),
        (
            &["Tutkimukseen suostuneille"],
            "tutkimuskäyttöön suostuneet",
            &[101, 103, 105],
        ),
    ];
    for (n, (buttons, label, expected)) in audiences.into_iter().enumerate() {
        let text = format!("Tiedote {n}: {label}");
        let (source, replies) = compose(&bot, buttons, text_message(&text)).await;
        let preview = joined(&replies);
        assert!(
            preview.contains(&format!("Vastaanottajia {} ({label}).", expected.len())),
            "{preview}"
        );
        bot.press(&venla, "Lähetä nyt").await;
        let id = latest_broadcast(&bot).await;
        let summary = wait_until_done(&bot, id).await;
        let n_expected = expected.len();
        assert!(
            summary.contains(&format!("perille {n_expected}/{n_expected}")),
            "{summary}"
        );
        assert_eq!(
            copies(&bot, source),
            once_each(expected.iter().copied()),
            "{label}"
        );
        assert_eq!(
            copy_requests(&bot, source),
            once_each(expected.iter().copied()),
            "{label}"
        );
    }

    // An audience nobody is in is refused at once, with a notice on the button.
    bot.send(&venla, "/broadcast").await;
    bot.press(&venla, "Vertaisryhmälle…").await;
    bot.press(&venla, "Kajaanin isien vertaisryhmä").await;
    let answer = bot
        .fake
        .requests_to("answerCallbackQuery")
        .last()
        .and_then(|r| r.param_str("text").map(str::to_string));
    assert_eq!(
        answer.as_deref(),
        Some(
            "Valinnalla vertaisryhmä Kajaanin isien vertaisryhmä ei ole yhtään vastaanottajaa. Valitse toinen."
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_broadcast_is_previewed_and_copied_with_its_caption() {
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    let fathers = add_fathers(&bot, 151..=153).await;
    let photo = json!({
        "photo": [
            {"file_id": "PHOTO-1-small", "file_unique_id": "P1s", "width": 90, "height": 60},
            {"file_id": "PHOTO-1", "file_unique_id": "P1", "width": 1280, "height": 853}
        ],
        "caption": "Kuvia kevään retkeltä"
    });
    let (source, replies) = compose(&bot, &["Isille"], photo).await;
    assert_eq!(replies[0].text.as_deref(), Some("Kuvia kevään retkeltä"));
    assert!(
        joined(&replies).contains("Vastaanottajia 3 (isät)."),
        "{}",
        joined(&replies)
    );
    assert!(copy_requests(&bot, source).is_empty());

    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;
    wait_until_done(&bot, id).await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM broadcasts WHERE id = ? AND text IS NULL",
            id
        )
        .await,
        1,
        "a photo's content is Telegram's: the console says it was copied from the chat"
    );
    assert_eq!(copies(&bot, source), once_each(fathers.iter().copied()));
    for chat in &fathers {
        let got = bot.fake.sent_to(*chat);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text.as_deref(), Some("Kuvia kevään retkeltä"));
    }
}

// ---- flood limits, faults and crashes ----------------------------------------------------------------------

/// Every message the fake created, with the real time it arrived; and how many requests it refused with 429.
/// The events are read on a thread of its own, so that the times are not skewed by a busy runtime (the bot
/// and the fake share the test's two worker threads); it ends when the fake does.
struct Recorder {
    sent: Arc<Mutex<Vec<(i64, Instant)>>>,
    refused: Arc<Mutex<Vec<Instant>>>,
    lagged: Arc<Mutex<u64>>,
}

/// Now, read outside the runtime.
fn std_now() -> Instant {
    Instant::from_std(std::time::Instant::now())
}

impl Recorder {
    fn start(bot: &TestBot) -> Recorder {
        use tokio::sync::broadcast::error::RecvError;
        let mut events = bot.fake.subscribe();
        let sent: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
        let refused: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let lagged: Arc<Mutex<u64>> = Arc::default();
        {
            let (sent, refused, lagged) = (sent.clone(), refused.clone(), lagged.clone());
            std::thread::spawn(move || {
                loop {
                    match events.blocking_recv() {
                        Ok(FakeEvent::MessageSent(m)) => {
                            sent.lock().unwrap().push((m.chat_id, std_now()))
                        }
                        Ok(FakeEvent::RequestFailed {
                            error_code: Some(429),
                            ..
                        }) => refused.lock().unwrap().push(std_now()),
                        Ok(_) => {}
                        Err(RecvError::Lagged(n)) => *lagged.lock().unwrap() += n,
                        Err(RecvError::Closed) => return,
                    }
                }
            });
        }
        Recorder {
            sent,
            refused,
            lagged,
        }
    }

    fn sent(&self) -> Vec<(i64, Instant)> {
        self.sent.lock().unwrap().clone()
    }

    fn refused(&self) -> Vec<Instant> {
        self.refused.lock().unwrap().clone()
    }

    fn check_nothing_missed(&self) {
        assert_eq!(*self.lagged.lock().unwrap(), 0, "events were missed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_recipients_within_the_flood_limits() {
    // Telegram's limits and the worker's, both twenty times faster: 500/s of 600/s overall, 20/s per chat (a
    // ceiling below Telegram's, as for a bot that shares its token: then no 429 at all).
    const SPEEDUP: f64 = 20.0;
    const N: i64 = 2_000;
    let bot = TestBot::start_sped_up(
        &[
            ("COORDINATOR_IDS", "900"),
            ("DELIVERY_MAX_PER_SECOND", "25"),
        ],
        SPEEDUP,
    )
    .await;
    let recipients = add_fathers(&bot, 100_001..=100_000 + N).await;
    let (source, replies) = compose(&bot, &["Isille"], text_message("Kevään aikataulu")).await;
    assert!(
        joined(&replies).contains("Vastaanottajia 2000 (isät)."),
        "{}",
        joined(&replies)
    );

    // The limits go on for the sending itself (the coordinator's quick clicks above would use up their
    // chat's burst). One recipient also has four reminders waiting, so their chat gets five messages.
    bot.fake.set_flood_limits_scaled(SPEEDUP);
    let recorder = Recorder::start(&bot);
    const BUSY: i64 = 100_007;
    let now = bot.clock.now();
    let reminders: Vec<NewDelivery> = (1..=4)
        .map(|i| {
            NewDelivery::new(
                test_key(&format!("reminder:{i}:{BUSY}")),
                BUSY,
                Payload::text(format!("Muistutus {i}")),
                now,
            )
            .for_user(BUSY)
        })
        .collect();
    bot.enqueue(&reminders).await;
    let started = Instant::now();
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;
    let summary = wait_until_done(&bot, id).await;
    let took = started.elapsed();
    assert_eq!(
        summary,
        format!("Tiedote #{id} on lähetetty: perille 2000/2000, estänyt botin 0, epäonnistui 0.")
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sent = recorder.sent();
    let refused = recorder.refused();
    recorder.check_nothing_missed();

    assert_eq!(refused.len(), 0, "no 429 from the fake");
    assert_eq!(
        copy_requests(&bot, source),
        once_each(recipients.iter().copied())
    );
    assert_eq!(copies(&bot, source), once_each(recipients.iter().copied()));

    // The worker's messages: at most one per (scaled) second per private chat. The coordinator's chat also
    // has the bot's direct answers, which the worker does not pace.
    let interval = Duration::from_secs(1).div_f64(SPEEDUP);
    let mut per_chat: HashMap<i64, Vec<Instant>> = HashMap::new();
    for (chat, at) in &sent {
        per_chat.entry(*chat).or_default().push(*at);
    }
    assert_eq!(per_chat.get(&BUSY).map(Vec::len), Some(5));
    for (chat, times) in per_chat.iter().filter(|(chat, _)| **chat != COORDINATOR) {
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= interval.mul_f64(0.9),
                "chat {chat}: two messages {gap:?} apart (at most one per {interval:?})"
            );
        }
    }
    let copies_at: Vec<Instant> = sent
        .iter()
        .filter(|(chat, _)| *chat != COORDINATOR)
        .map(|(_, at)| *at)
        .collect();
    let first = *copies_at.iter().min().unwrap();
    let last = *copies_at.iter().max().unwrap();
    let rate = (copies_at.len() - 1) as f64 / last.duration_since(first).as_secs_f64();
    let ceiling = 25.0 * SPEEDUP;
    eprintln!(
        "broadcast flood test: {} messages in {:?} ({took:?} from the confirmation to the summary): \
         {rate:.1}/s of a {ceiling}/s ceiling ({:.3})",
        copies_at.len(),
        last.duration_since(first),
        rate / ceiling
    );
    assert!(rate <= 1.05 * ceiling, "{rate:.1}/s is over the budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_control_mid_broadcast_pauses_everything_and_loses_nothing() {
    let bot = TestBot::start_with(COORDINATORS).await;
    let recipients = add_fathers(&bot, 201..=220).await;
    let (source, _) = compose(&bot, &["Isille"], text_message("Tiedote")).await;
    let mut events = bot.fake.subscribe();
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;

    // Once five copies are out, Telegram asks for a one-second pause.
    let mut copies_seen = 0;
    let mut refused_at = None;
    let mut after_refusal = Vec::new();
    while copies_seen < recipients.len() {
        let event = tokio::time::timeout(STEP_TIMEOUT, events.recv())
            .await
            .expect("the copies go out")
            .expect("events");
        match event {
            FakeEvent::MessageSent(m) if matches!(m.kind, SentKind::Copy { .. }) => {
                copies_seen += 1;
                if copies_seen == 5 {
                    bot.fake
                        .fail_next("copyMessage", Failure::too_many_requests(1));
                }
                if refused_at.is_some() {
                    after_refusal.push(Instant::now());
                }
            }
            FakeEvent::RequestFailed {
                error_code: Some(429),
                ..
            } => {
                assert!(refused_at.is_none(), "one 429 only");
                refused_at = Some(Instant::now());
            }
            _ => {}
        }
    }
    let refused_at = refused_at.expect("a copy was refused with 429");
    assert!(!after_refusal.is_empty(), "the refusal came mid-broadcast");
    let waited = after_refusal[0].duration_since(refused_at);
    assert!(
        waited >= Duration::from_millis(950),
        "the next copy went {waited:?} after a 429 asking for 1 s"
    );

    let summary = wait_until_done(&bot, id).await;
    assert!(summary.contains("perille 20/20"), "{summary}");
    assert_eq!(copies(&bot, source), once_each(recipients.iter().copied()));
    let requests = copy_requests(&bot, source);
    assert_eq!(
        requests.values().sum::<usize>(),
        21,
        "the refused one again"
    );
    assert_eq!(requests.values().filter(|n| **n == 2).count(), 1);
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM deliveries WHERE batch = 'broadcast:' || ? AND attempts > 0",
            id
        )
        .await,
        0,
        "a flood wait is not a failed try"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_who_blocked_the_bot_is_marked_unreachable_and_left_out_next_time() {
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    let fathers = add_fathers(&bot, 231..=235).await;
    let blocker = FakeUser::new(233, "Pekka", Some("fi"));
    bot.fake.block_bot(&blocker);

    let (first, replies) = compose(&bot, &["Isille"], text_message("Ensimmäinen")).await;
    assert!(
        joined(&replies).contains("Vastaanottajia 5 (isät). Pois jäävät 0, joita ei tavoiteta"),
        "not known yet: {}",
        joined(&replies)
    );
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;
    let summary = wait_until_done(&bot, id).await;
    assert_eq!(
        summary,
        format!("Tiedote #{id} on lähetetty: perille 4/5, estänyt botin 1, epäonnistui 0.")
    );
    let reached: Vec<i64> = fathers.iter().copied().filter(|c| *c != 233).collect();
    assert_eq!(copies(&bot, first), once_each(reached.iter().copied()));
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM users WHERE telegram_user_id = ? AND unreachable_since IS NOT NULL",
            233
        )
        .await,
        1
    );
    let row = outbox::by_key(&bot.db, &OutboxKey::Broadcast { id, user: 233 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, Status::Skipped);

    let stats = joined(&bot.send(&coordinator(), "/stats").await);
    assert!(
        stats.contains("Tavoittamattomissa (estänyt botin tai poistunut Telegramista): 1"),
        "{stats}"
    );

    let (second, replies) = compose(&bot, &["Isille"], text_message("Toinen")).await;
    assert!(
        joined(&replies).contains("Vastaanottajia 4 (isät). Pois jäävät 1, joita ei tavoiteta"),
        "{}",
        joined(&replies)
    );
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;
    let summary = wait_until_done(&bot, id).await;
    assert!(
        summary.contains("perille 4/4, estänyt botin 0"),
        "{summary}"
    );
    assert_eq!(copies(&bot, second), once_each(reached.iter().copied()));
    assert_eq!(
        copy_requests(&bot, second).get(&233),
        None,
        "not even tried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_mid_broadcast_are_retried_and_lose_nothing() {
    use rand::{Rng, SeedableRng};
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    let fathers = add_fathers(&bot, 241..=252).await;
    let seed: u64 = std::env::var("BROADCAST_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut faulty = BTreeSet::new();
    while faulty.len() < 3 {
        faulty.insert(fathers[rng.random_range(0..fathers.len())]);
    }
    eprintln!("dropped connections to {faulty:?} (BROADCAST_FAULT_SEED={seed})");
    for chat in &faulty {
        bot.fake
            .set_chat_failure(*chat, Some(Failure::DropConnection));
    }

    let (source, _) = compose(&bot, &["Isille"], text_message("Tiedote")).await;
    let t0 = bot.clock.now();
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;

    // The others get theirs; the cut ones wait for their retry, five seconds later on the clock.
    let others: Vec<i64> = fathers
        .iter()
        .copied()
        .filter(|c| !faulty.contains(c))
        .collect();
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let retried: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE batch = 'broadcast:' || ? AND attempts = 1 AND status = 'pending'",
        )
        .bind(id)
        .fetch_one(&bot.db)
        .await
        .unwrap();
        if retried == 3 && copies(&bot, source).len() == others.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{retried} waiting to be retried");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for chat in &faulty {
        let row = outbox::by_key(&bot.db, &OutboxKey::Broadcast { id, user: *chat })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.due_at, t0 + chrono::Duration::seconds(5), "{row:?}");
        assert!(bot.fake.sent_to(*chat).is_empty());
    }
    assert_eq!(broadcast_status(&bot, id).await, "sending");

    for chat in &faulty {
        bot.fake.set_chat_failure(*chat, None);
    }
    bot.clock.advance(chrono::Duration::seconds(5));
    let summary = wait_until_done(&bot, id).await;
    assert!(summary.contains("perille 12/12"), "{summary}");
    assert_eq!(copies(&bot, source), once_each(fathers.iter().copied()));
    let requests = copy_requests(&bot, source);
    for chat in &fathers {
        let expected = if faulty.contains(chat) { 2 } else { 1 };
        assert_eq!(requests.get(chat), Some(&expected), "chat {chat}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_broadcast_is_finished_after_the_restart_with_at_most_one_duplicate() {
    let mut bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    let fathers = add_fathers(&bot, 401..=415).await;
    // One recipient's answer takes a while, so a copy is surely in flight when the process dies.
    const SLOW: i64 = 408;
    bot.fake
        .set_chat_failure(SLOW, Some(Failure::Delay(Duration::from_millis(1200))));
    let (source, _) = compose(&bot, &["Isille"], text_message("Tiedote")).await;
    bot.press(&coordinator(), "Lähetä nyt").await;
    let id = latest_broadcast(&bot).await;
    bot.fake
        .wait_until("the slow copy in flight", STEP_TIMEOUT, |f| {
            f.requests_to("copyMessage")
                .iter()
                .any(|r| r.chat_id() == Some(SLOW))
        })
        .await;
    let in_flight = outbox::by_key(&bot.db, &OutboxKey::Broadcast { id, user: SLOW })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_flight.status, Status::Sending);
    let sent_before: i64 =
        outbox::batch_progress(&bot.db, &milava_bot::domain::outbox::broadcast_batch(id))
            .await
            .unwrap()
            .sent;
    assert!(sent_before < fathers.len() as i64, "mid-broadcast");

    bot.crash_and_restart().await;
    bot.fake.set_chat_failure(SLOW, None);
    let summary = wait_until_done(&bot, id).await;
    assert!(summary.contains("perille 15/15"), "{summary}");
    // The request cut by the crash may still have been delivered: wait for its late answer too.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let got = copies(&bot, source);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        fathers,
        "everyone has it"
    );
    let duplicates: usize = got.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= 1,
        "{duplicates} duplicates; the documented bound is DELIVERY_CONCURRENCY = 1: {got:?}"
    );
    assert!(got.iter().all(|(chat, n)| *n == 1 || *chat == SLOW));
    eprintln!("broadcast crash test: {duplicates} duplicate(s)");
    let summaries = bot
        .fake
        .sent_to(COORDINATOR)
        .iter()
        .filter(|m| {
            m.text
                .as_deref()
                .is_some_and(|t| t.starts_with(&format!("Tiedote #{id} on lähetetty")))
        })
        .count();
    assert_eq!(summaries, 1);
}

// ---- who may broadcast --------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_coordinators_can_broadcast_even_with_forged_buttons() {
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    add_fathers(&bot, 301..=303).await;
    let pekka = testkit::story::register_father(&bot, 310, "Pekka").await;
    for command in ["/broadcast", "/broadcasts", "/cancel_broadcast"] {
        let replies = bot.send(&pekka, command).await;
        assert!(
            joined(&replies).contains(REFUSED),
            "{command}: {}",
            joined(&replies)
        );
        assert!(labels(&replies).is_empty(), "{command}");
    }
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM broadcasts WHERE coordinator = ?",
            pekka.id
        )
        .await,
        0
    );

    // The coordinator has one broadcast scheduled and one draft waiting for confirmation.
    let venla = coordinator();
    compose(&bot, &["Kaikille"], text_message("Ajastettu")).await;
    bot.press(&venla, "Ajasta…").await;
    let replies = bot.send(&venla, "20.3.2024 9.00").await;
    assert!(
        joined(&replies).contains("on ajastettu"),
        "{}",
        joined(&replies)
    );
    let scheduled = latest_broadcast(&bot).await;
    compose(&bot, &["Kaikille"], text_message("Luonnos")).await;
    let draft = latest_broadcast(&bot).await;
    let before: Vec<(String, String)> =
        sqlx::query_as("SELECT idempotency_key, status FROM deliveries ORDER BY id")
            .fetch_all(&bot.db)
            .await
            .unwrap();

    // Pekka presses buttons he was never shown, on a message in his own chat.
    let message = bot.fake.last_sent_to(pekka.id).unwrap().message_id;
    let forged = [
        format!("1|b|go|{draft}"),
        format!("1|b|at|{draft}"),
        format!("1|b|x|{draft}"),
        format!("1|b|x|{scheduled}"),
        "1|b|a|all".to_string(),
        "1|b|m|series".to_string(),
    ];
    for data in &forged {
        let messages_before = bot.fake.sent_messages().len();
        let replies = bot.press_data(&pekka, message, data).await;
        assert!(replies.is_empty(), "{data}: {replies:?}");
        let answer = bot.fake.requests_to("answerCallbackQuery");
        let answer = answer.last().unwrap();
        assert_eq!(answer.param_str("text"), Some(REFUSED), "{data}");
        assert_eq!(
            bot.fake.sent_messages().len(),
            messages_before,
            "{data}: nothing sent anywhere"
        );
    }

    let after: Vec<(String, String)> =
        sqlx::query_as("SELECT idempotency_key, status FROM deliveries ORDER BY id")
            .fetch_all(&bot.db)
            .await
            .unwrap();
    assert_eq!(after, before, "nothing queued or cancelled");
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM deliveries WHERE batch = 'broadcast:' || ?",
            draft
        )
        .await,
        0
    );
    assert_eq!(broadcast_status(&bot, draft).await, "draft");
    assert_eq!(broadcast_status(&bot, scheduled).await, "scheduled");
    let audit = bot
        .count("SELECT COUNT(*) FROM audit_log WHERE actor = ?", pekka.id)
        .await;
    assert_eq!(audit, 0);

    // The coordinator's own draft still works.
    bot.press(&venla, "Lähetä nyt").await;
    wait_until_done(&bot, draft).await;
}

// ---- scheduling ---------------------------------------------------------------------------------------------

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// Schedules a broadcast of `text` to everyone at the local time `when`; returns its id and message id.
async fn schedule(bot: &TestBot, text: &str, when: &str) -> (i64, i64, String) {
    let (source, _) = compose(bot, &["Kaikille"], text_message(text)).await;
    let replies = bot.press(&coordinator(), "Ajasta…").await;
    assert!(
        joined(&replies).contains("Kirjoita lähetysaika Suomen aikaa, esim. 27.3.2024 9.00."),
        "{}",
        joined(&replies)
    );
    let replies = joined(&bot.send(&coordinator(), when).await);
    (latest_broadcast(bot).await, source, replies)
}

async fn due_times(bot: &TestBot, id: i64) -> BTreeSet<DateTime<Utc>> {
    let rows: Vec<(DateTime<Utc>,)> =
        sqlx::query_as("SELECT due_at FROM deliveries WHERE batch = 'broadcast:' || ?")
            .bind(id)
            .fetch_all(&bot.db)
            .await
            .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_broadcasts_go_out_at_their_local_time_on_both_sides_of_the_dst_change() {
    let bot = TestBot::start_sped_up(COORDINATORS, 10.0).await;
    let fathers = add_fathers(&bot, 601..=604).await;
    let venla = coordinator();

    // Friendly answers to a malformed time and to one in the past; nothing is queued meanwhile.
    compose(&bot, &["Kaikille"], text_message("Kokeilu")).await;
    bot.press(&venla, "Ajasta…").await;
    let replies = joined(&bot.send(&venla, "huomenna yhdeksältä").await);
    assert_eq!(
        replies,
        "En tunnistanut aikaa ”huomenna yhdeksältä”. Kirjoita esim. 27.3.2024 9.00."
    );
    let replies = joined(&bot.send(&venla, "1.3.2024 9.00").await);
    assert_eq!(
        replies,
        "Aika 1.3.2024 klo 9.00 on jo mennyt. Kirjoita tuleva aika."
    );
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM deliveries WHERE ? = 1", 1)
            .await,
        0
    );
    bot.send(&venla, "/broadcast").await; // starts over; the abandoned draft is dropped

    // 1.4. is on summer time (UTC+3), 29.3. still on winter time (UTC+2); 3.30 on 31.3. does not exist
    // (the clocks jump from 3.00 to 4.00) and means 4.30 summer time.
    // Times as Finns write them: with or without the year, "klo", "9", "9.00" or "9:00".
    let (summer, summer_source, reply) = schedule(&bot, "Kesäaika", "1.4. klo 9").await;
    assert!(
        reply.contains(&format!(
            "Tiedote #{summer} on ajastettu: 1.4.2024 klo 9.00, 4 vastaanottajaa."
        )),
        "{reply}"
    );
    assert!(
        reply.ends_with("/broadcasts näyttää tiedotteet ja /cancel_broadcast peruu sen."),
        "{reply}"
    );
    let (winter, winter_source, reply) = schedule(&bot, "Talviaika", "29.3.2024 9:00").await;
    assert!(
        reply.contains(&format!(
            "Tiedote #{winter} on ajastettu: 29.3.2024 klo 9.00, 4 vastaanottajaa."
        )),
        "{reply}"
    );
    let (gap, gap_source, reply) = schedule(&bot, "Aukossa", "31.3.2024 klo 3.30").await;
    assert!(
        reply.contains(&format!(
            "Tiedote #{gap} on ajastettu: 31.3.2024 klo 4.30, 4 vastaanottajaa."
        )),
        "{reply}"
    );
    assert_eq!(
        due_times(&bot, summer).await,
        BTreeSet::from([utc(2024, 4, 1, 6, 0, 0)])
    );
    assert_eq!(
        due_times(&bot, winter).await,
        BTreeSet::from([utc(2024, 3, 29, 7, 0, 0)])
    );
    assert_eq!(
        due_times(&bot, gap).await,
        BTreeSet::from([utc(2024, 3, 31, 1, 30, 0)])
    );
    for id in [summer, winter, gap] {
        assert_eq!(
            bot.count(
                "SELECT COUNT(*) FROM deliveries WHERE batch = 'broadcast:' || ?",
                id
            )
            .await,
            4
        );
        assert_eq!(broadcast_status(&bot, id).await, "scheduled");
    }

    let list = joined(&bot.send(&venla, "/broadcasts").await);
    // The abandoned draft is not listed (it was never a broadcast).
    assert!(!list.contains("· · ·"), "{list}");
    assert_eq!(
        list.lines().count(),
        4,
        "the title and three broadcasts: {list}"
    );
    for line in [
        format!("#{gap} · ajastettu · 31.3.2024 klo 4.30 · kaikki ilmoittautuneet · lähetetty 0/4"),
        format!(
            "#{winter} · ajastettu · 29.3.2024 klo 9.00 · kaikki ilmoittautuneet · lähetetty 0/4"
        ),
        format!(
            "#{summer} · ajastettu · 1.4.2024 klo 9.00 · kaikki ilmoittautuneet · lähetetty 0/4"
        ),
    ] {
        assert!(list.contains(&line), "{line}\n{list}");
    }

    // A second before the winter-side time: nothing.
    bot.clock.set(utc(2024, 3, 29, 6, 59, 59));
    fence(&bot, "winter-1s").await;
    for source in [summer_source, winter_source, gap_source] {
        assert!(copies(&bot, source).is_empty());
    }
    assert!(status_message(&bot, winter).is_none());
    // At 9.00 local time: everyone gets it, once.
    bot.clock.set(utc(2024, 3, 29, 7, 0, 0));
    let summary = wait_until_done(&bot, winter).await;
    assert!(summary.contains("perille 4/4"), "{summary}");
    assert_eq!(
        copies(&bot, winter_source),
        once_each(fathers.iter().copied())
    );
    assert!(status_message(&bot, winter).is_some());

    // The one in the DST gap is cancelled: its rows (and its status message) never go.
    // The question lists them in full; the buttons stay short and whole.
    let replies = bot.send(&venla, "/cancel_broadcast").await;
    assert_eq!(
        joined(&replies),
        format!(
            "Minkä tiedotteen perut? Jo lähteneitä viestejä ei voi perua.\n#{gap} · 31.3.2024 klo 4.30 · kaikki ilmoittautuneet\n#{summer} · 1.4.2024 klo 9.00 · kaikki ilmoittautuneet"
        )
    );
    assert_eq!(
        labels(&replies),
        [format!("Peru #{gap}"), format!("Peru #{summer}")]
    );
    let replies = joined(&bot.press(&venla, &format!("Peru #{gap}")).await);
    assert_eq!(
        replies,
        format!("Tiedote #{gap} peruttu; 4 viestiä jäi lähettämättä.")
    );
    assert_eq!(broadcast_status(&bot, gap).await, "cancelled");
    let statuses: Vec<(String,)> = sqlx::query_as(
        "SELECT status FROM deliveries WHERE batch = 'broadcast:' || ? OR idempotency_key = 'broadcast-status:' || ?",
    )
    .bind(gap)
    .bind(gap)
    .fetch_all(&bot.db)
    .await
    .unwrap();
    assert_eq!(statuses.len(), 5);
    assert!(statuses.iter().all(|(s,)| s == "cancelled"), "{statuses:?}");
    let audit: Vec<(String, String)> =
        sqlx::query_as("SELECT action, detail FROM audit_log WHERE action = 'broadcast_cancelled'")
            .fetch_all(&bot.db)
            .await
            .unwrap();
    assert_eq!(
        audit,
        [(
            "broadcast_cancelled".to_string(),
            format!("#{gap}, 4 unsent")
        )]
    );
    bot.clock.set(utc(2024, 3, 31, 1, 30, 0));
    fence(&bot, "gap").await;
    assert!(copies(&bot, gap_source).is_empty());
    assert!(status_message(&bot, gap).is_none());

    // A second before the summer-side time: nothing; at 9.00 summer time (6.00 UTC): everyone.
    bot.clock.set(utc(2024, 4, 1, 5, 59, 59));
    fence(&bot, "summer-1s").await;
    assert!(copies(&bot, summer_source).is_empty());
    bot.clock.set(utc(2024, 4, 1, 6, 0, 0));
    let summary = wait_until_done(&bot, summer).await;
    assert!(summary.contains("perille 4/4"), "{summary}");
    assert_eq!(
        copies(&bot, summer_source),
        once_each(fathers.iter().copied())
    );
    assert!(copies(&bot, gap_source).is_empty());

    let list = joined(&bot.send(&venla, "/broadcasts").await);
    for line in [
        format!("#{gap} · peruttu · 31.3.2024 klo 4.30 · kaikki ilmoittautuneet · lähetetty 0/4"),
        format!("#{winter} · valmis · 29.3.2024 klo 9.00 · kaikki ilmoittautuneet · lähetetty 4/4"),
        format!("#{summer} · valmis · 1.4.2024 klo 9.00 · kaikki ilmoittautuneet · lähetetty 4/4"),
    ] {
        assert!(list.contains(&line), "{line}\n{list}");
    }
    let replies = joined(&bot.send(&venla, "/cancel_broadcast").await);
    assert!(
        replies.contains("Ajastettuja tai käynnissä olevia tiedotteita ei ole."),
        "{replies}"
    );
}
