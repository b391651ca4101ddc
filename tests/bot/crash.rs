//! Crash test: the real `milava-bot run` process is killed with SIGKILL at 20 random moments while fathers
//! register and a wave of outbox messages (a broadcast and reminders) goes out, and started again each time
//! on the same database. Checked after every kill: everyone the bot told "your registration is saved" is in
//! the database. At the end: every outbox message reached its chat, duplicates are within the stated bound
//! (at most `DELIVERY_CONCURRENCY` = 1 per crash), everyone finishes registering exactly once, and SIGTERM
//! stops the bot cleanly within 5 seconds. Bounded: each wait gives up after `STEP_TIMEOUT`.
use crate::harness::{STEP_TIMEOUT, dialogues_dir};
use chrono::Utc;
use fake_telegram::{FAKE_BOT_TOKEN, FakeTelegram, FakeUser, SentMessage};
use milava_bot::db::{self, outbox::NewDelivery};
use milava_bot::domain::outbox::{OutboxKey, Payload};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 20;
const FATHERS: i64 = 12;
const FIRST_FATHER: i64 = 610_000;
/// More than the killed runs can send (each start may send a burst), so every kill lands mid-delivery.
const BROADCAST_CHATS: i64 = 400;
/// Outbox messages per second while the bot is being killed, and in the last run that finishes the wave.
const RATE_WHILE_KILLED: &str = "5";
const RATE_AT_THE_END: &str = "30";
const FIRST_CHAT: i64 = 620_000;
/// What the bot says when a registration is stored.
const SAVED: &str = "Ilmoittautumisesi on tallessa";

/// A small xorshift, seeded from the clock and printed, so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn spawn_bot(fake: &FakeTelegram, dir: &Path, rate: &str) -> Child {
    // The real clock may be past the programme's end (fathers no longer registered): a copy of the content
    // whose programme runs on, next to the database.
    let content = dir.join("dialogues");
    if !content.exists() {
        let copy = testkit::bench::content_with_programme_running(&dialogues_dir()).unwrap();
        std::fs::rename(copy.keep(), &content).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_milava-bot"))
        .arg("run")
        .current_dir(dir)
        .env("DIALOGUES_DIR", &content)
        .env("TELOXIDE_TOKEN", FAKE_BOT_TOKEN)
        .env("TELOXIDE_API_URL", fake.api_url().as_str())
        .env("DATABASE_URL", database_url(dir))
        .env("DELIVERY_MAX_PER_SECOND", rate)
        .env("DELIVERY_CONCURRENCY", "1")
        .env("RUST_LOG", "warn")
        .env_remove("HEALTH_ADDR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts milava-bot run")
}

fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("crash.db").display())
}

/// Waits until the freshly started process polls for updates (it is then fully up).
async fn wait_until_polling(fake: &FakeTelegram, polls_before: usize) {
    fake.wait_until("the bot starts polling", STEP_TIMEOUT, |f| {
        f.requests_to("getUpdates").len() > polls_before
    })
    .await;
}

/// What a person does next, judged from what the bot last showed them; `None` once registered.
fn next_action(messages: &[SentMessage]) -> Option<Action> {
    if messages
        .iter()
        .any(|m| m.text.as_deref().is_some_and(|t| t.contains(SAVED)))
    {
        return None;
    }
    let Some(last) = messages.last() else {
        return Some(Action::Text("/start"));
    };
    for label in ["Isä", "Oulu", "Vertaisryhmä", "Hyväksyn", "Ei, kiitos"] {
        if let Some(data) = last.button_data(label) {
            return Some(Action::Press(last.message_id, data));
        }
    }
    if last
        .text
        .as_deref()
        .is_some_and(|t| t.contains("etunimesi"))
    {
        return Some(Action::Text("Matti"));
    }
    // Cut off between two messages of an answer: a person starts again, as they would.
    Some(Action::Text("/start"))
}

enum Action {
    Text(&'static str),
    Press(i64, String),
}

/// Lets every father who is not waiting for an answer take his next step; returns how many did.
fn drive(
    fake: &FakeTelegram,
    fathers: &[FakeUser],
    waiting: &mut HashMap<i64, (usize, Instant)>,
) -> usize {
    let mut steps = 0;
    for father in fathers {
        let messages = fake.sent_to(father.id);
        if let Some((seen, since)) = waiting.get(&father.id)
            && messages.len() == *seen
            && since.elapsed() < Duration::from_secs(2)
        {
            continue;
        }
        match next_action(&messages) {
            None => continue,
            Some(Action::Text(text)) => {
                fake.send_private_text(father, text);
            }
            Some(Action::Press(message_id, data)) => {
                fake.press_button(father, message_id, &data);
            }
        }
        steps += 1;
        waiting.insert(father.id, (messages.len(), Instant::now()));
    }
    steps
}

fn registered_told(fake: &FakeTelegram, fathers: &[FakeUser]) -> Vec<i64> {
    fathers
        .iter()
        .filter(|f| next_action(&fake.sent_to(f.id)).is_none())
        .map(|f| f.id)
        .collect()
}

async fn participants(dir: &Path) -> Vec<i64> {
    let pool = db::connect(&database_url(dir))
        .await
        .expect("database opens");
    let ids = sqlx::query_scalar("SELECT telegram_user_id FROM participants ORDER BY 1")
        .fetch_all(pool.read())
        .await
        .unwrap();
    pool.close().await;
    ids
}

async fn unsent(dir: &Path) -> i64 {
    let pool = db::connect(&database_url(dir))
        .await
        .expect("database opens");
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'sending')",
    )
    .fetch_one(pool.read())
    .await
    .unwrap();
    pool.close().await;
    n
}

/// The broadcast and a reminder wave, put in the outbox as their producers do, before the first start.
async fn seed_outbox(dir: &Path) {
    let pool = db::connect(&database_url(dir))
        .await
        .expect("database opens");
    let now = Utc::now();
    let mut tx = db::begin_write(&pool).await.unwrap();
    for i in 0..BROADCAST_CHATS {
        let chat = FIRST_CHAT + i;
        let (key, text) = if i % 2 == 0 {
            (
                OutboxKey::Broadcast { id: 1, user: chat },
                format!("Tiedote {chat}"),
            )
        } else {
            (
                crate::harness::test_key(&format!("reminder:s1:{chat}:1h")),
                format!("Muistutus {chat}"),
            )
        };
        let delivery = NewDelivery::new(key, chat, Payload::text(&text), now).for_user(chat);
        assert!(db::outbox::enqueue(&mut tx, &delivery).await.unwrap());
    }
    tx.commit().await.unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_mid_registration_and_mid_delivery_it_loses_nothing() {
    let seed = Utc::now().timestamp_nanos_opt().unwrap() as u64 | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let fake = FakeTelegram::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    seed_outbox(dir.path()).await;
    let fathers: Vec<FakeUser> = (0..FATHERS)
        .map(|i| FakeUser::new(FIRST_FATHER + i, "Matti", Some("fi")))
        .collect();
    let mut waiting = HashMap::new();
    let mut kills_mid_delivery = 0;
    let mut kills_mid_registration = 0;

    let started = Instant::now();
    for kill in 0..KILLS {
        eprintln!("kill {kill} at {:?}", started.elapsed());
        let polls = fake.requests_to("getUpdates").len();
        let mut bot = spawn_bot(&fake, dir.path(), RATE_WHILE_KILLED);
        wait_until_polling(&fake, polls).await;
        // Fathers join one after another over the run, so registrations are under way at many kills.
        let joined = (0..fathers.len())
            .take_while(|i| i * KILLS / fathers.len() <= kill)
            .count();
        // Every other kill comes at a random moment from right after start-up to well into the work; the
        // others a few ms after a random registration step was sent, so they hit answers being written.
        let until = Instant::now() + Duration::from_millis(rng.below(700));
        let someone_registering = registered_told(&fake, &fathers[..joined]).len() < joined;
        let steps_before_kill =
            (kill % 2 == 1 && someone_registering).then(|| 1 + rng.below(3) as usize);
        let mut steps = 0;
        while Instant::now() < until || steps_before_kill.is_some_and(|n| steps < n) {
            steps += drive(&fake, &fathers[..joined], &mut waiting);
            if steps_before_kill.is_some_and(|n| steps >= n) {
                tokio::time::sleep(Duration::from_millis(rng.below(40))).await;
                break;
            }
            if Instant::now() > until + STEP_TIMEOUT {
                break;
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        bot.kill().expect("SIGKILL");
        bot.wait().unwrap();

        let told = registered_told(&fake, &fathers);
        let stored = participants(dir.path()).await;
        for id in &told {
            assert!(
                stored.contains(id),
                "kill {kill}: {id} was told the registration is saved, but it is not in the database"
            );
        }
        if fathers[..joined]
            .iter()
            .any(|f| waiting.contains_key(&f.id) && !told.contains(&f.id))
        {
            kills_mid_registration += 1;
        }
        if unsent(dir.path()).await > 0 {
            kills_mid_delivery += 1;
        }
        // After a restart people look at their chat again rather than wait for an answer that may be lost.
        waiting.clear();
    }
    assert!(
        kills_mid_delivery >= KILLS / 2,
        "most kills should land while the outbox is sending ({kills_mid_delivery} of {KILLS})"
    );
    assert!(
        kills_mid_registration >= KILLS / 5,
        "many kills should land while people register ({kills_mid_registration} of {KILLS})"
    );

    // Started once more: everything finishes.
    let polls = fake.requests_to("getUpdates").len();
    let mut bot = spawn_bot(&fake, dir.path(), RATE_AT_THE_END);
    wait_until_polling(&fake, polls).await;
    let deadline = Instant::now() + STEP_TIMEOUT * 3;
    while (registered_told(&fake, &fathers).len() < fathers.len() || unsent(dir.path()).await > 0)
        && Instant::now() < deadline
    {
        drive(&fake, &fathers, &mut waiting);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopping = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &bot.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = bot.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(5),
            "SIGTERM: the bot did not exit within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "SIGTERM ends the bot cleanly: {exit:?}");

    let stored = participants(dir.path()).await;
    let expected: Vec<i64> = fathers.iter().map(|f| f.id).collect();
    assert_eq!(stored, expected, "everyone registered, each once");
    assert_eq!(unsent(dir.path()).await, 0, "nothing due is left unsent");
    let mut duplicates = 0;
    for i in 0..BROADCAST_CHATS {
        let chat = FIRST_CHAT + i;
        let copies = fake.sent_to(chat).len();
        assert!(copies >= 1, "chat {chat} got nothing");
        duplicates += copies - 1;
    }
    eprintln!(
        "crash test: {KILLS} kills, {kills_mid_delivery} mid-delivery, \
         {kills_mid_registration} mid-registration, {duplicates} duplicates"
    );
    assert!(
        duplicates <= KILLS,
        "{duplicates} duplicates after {KILLS} crashes: more than one per crash"
    );
}
