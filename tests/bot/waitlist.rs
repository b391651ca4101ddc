//! A full series and its waitlist: freed places are offered through the outbox with confirm buttons, an offer
//! runs out after 48 hours and moves on to the next person, and accepting enrols (reminders follow).
use crate::harness::{TestBot, joined, labels};
use chrono::{DateTime, Utc};
use fake_telegram::FakeUser;
use milava_bot::domain::Lang;
use pretty_assertions::assert_eq;
use testkit::content::{ContentCopy, text};
use testkit::story::waitlist::status;
use testkit::story::{SPEEDUP, register, utc};

/// Keys and statuses of the outbox rows about the waitlist, oldest first.
async fn offer_rows(bot: &TestBot) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT idempotency_key, status FROM deliveries WHERE idempotency_key LIKE 'offer%' ORDER BY id",
    )
    .fetch_all(&bot.db)
    .await
    .expect("outbox readable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_place_is_offered_in_turn_and_an_unanswered_offer_moves_on_after_48_hours() {
    let content = ContentCopy::new();
    content.edit_programme("area = \"oulu\"\n", "area = \"oulu\"\ncapacity = 1\n");
    let bot = TestBot::start_sped_up(&[("DIALOGUES_DIR", content.path().as_str())], SPEEDUP).await;

    let (aino, said) = register(&bot, 9201, "Aino Aalto", "fi", "oulu-kevat24").await;
    assert!(
        said.contains(&text(
            Lang::Fi,
            "programme.enrolled",
            &[("series", "Oulu, kevät 2024")]
        )),
        "{said}"
    );
    let (bea, said) = register(&bot, 9202, "Bea Berg", "fi", "oulu-kevat24").await;
    assert!(
        said.contains(&text(
            Lang::Fi,
            "programme.waitlisted",
            &[("series", "Oulu, kevät 2024"), ("position", "1")]
        )),
        "{said}"
    );
    let (cid, said) = register(&bot, 9203, "Cid Carter", "en", "oulu-kevat24").await;
    assert!(
        said.contains(&text(
            Lang::En,
            "programme.waitlisted",
            &[("series", "Oulu, spring 2024"), ("position", "2")]
        )),
        "{said}"
    );
    assert!(bot.advance_to(utc("2024-03-12 07:00")).await.is_empty());
    assert!(offer_rows(&bot).await.is_empty());

    // Aino leaves at 12.3. 9.00 (7.00 UTC): Bea, first in line, is offered the place until 14.3. 9.00.
    let since = bot.sent_count();
    bot.send(&aino, "/leave").await;
    bot.press(&aino, "Kyllä, peru").await;
    let arrivals = bot.advance_from(since, utc("2024-03-12 07:00")).await;
    let offers: Vec<_> = arrivals
        .iter()
        .filter(|a| a.message.chat_id != aino.id)
        .collect();
    assert_eq!(offers.len(), 1, "{arrivals:#?}");
    assert_eq!(offers[0].message.chat_id, bea.id);
    assert_eq!(
        offers[0].message.text.clone().unwrap_or_default(),
        text(
            Lang::Fi,
            "waitlist.offer",
            &[
                ("series", "Oulu, kevät 2024"),
                ("until", "14.3.2024 klo 9.00")
            ]
        )
    );
    assert_eq!(
        labels(std::slice::from_ref(&offers[0].message)),
        ["Otan paikan", "En tarvitse"]
    );
    let rows = offer_rows(&bot).await;
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0]
            .0
            .starts_with(&format!("offer:oulu-2024:{}:", bea.id))
    );
    assert_eq!(rows[0].1, "sent", "the offer went through the outbox");
    assert_eq!(
        (
            status(&bot, &aino).await,
            status(&bot, &bea).await,
            status(&bot, &cid).await
        ),
        ("left".into(), "offered".into(), "waitlisted".into())
    );

    // A minute before the 48 hours are up the offer still stands.
    assert!(bot.advance_to(utc("2024-03-14 06:59")).await.is_empty());
    assert_eq!(status(&bot, &bea).await, "offered");

    // At 14.3. 9.00 it runs out: Bea is told and goes back in line, and Cid is offered the place.
    let arrivals = bot.advance_to(utc("2024-03-14 08:00")).await;
    let mut got: Vec<(DateTime<Utc>, i64, String)> = arrivals
        .iter()
        .map(|a| {
            (
                a.at,
                a.message.chat_id,
                a.message.text.clone().unwrap_or_default(),
            )
        })
        .collect();
    got.sort_by_key(|(_, chat, _)| *chat);
    assert_eq!(
        got,
        vec![
            (
                utc("2024-03-14 07:00"),
                bea.id,
                text(
                    Lang::Fi,
                    "waitlist.expired",
                    &[("series", "Oulu, kevät 2024")]
                )
            ),
            (
                utc("2024-03-14 07:00"),
                cid.id,
                text(
                    Lang::En,
                    "waitlist.offer",
                    &[
                        ("series", "Oulu, spring 2024"),
                        ("until", "16.3.2024 at 09:00")
                    ]
                )
            ),
        ]
    );
    let to_cid = arrivals
        .iter()
        .find(|a| a.message.chat_id == cid.id)
        .expect("the offer to Cid");
    assert_eq!(
        labels(std::slice::from_ref(&to_cid.message)),
        ["I take the place", "I don't need it"]
    );
    assert_eq!(
        (status(&bot, &bea).await, status(&bot, &cid).await),
        ("waitlisted".into(), "offered".into())
    );

    // Bea's old button no longer works; Cid takes the place.
    assert_eq!(
        joined(&bot.press(&bea, "Otan paikan").await),
        text(Lang::Fi, "waitlist.offer_gone", &[])
    );
    assert_eq!(status(&bot, &bea).await, "waitlisted");
    assert_eq!(
        joined(&bot.press(&cid, "I take the place").await),
        text(
            Lang::En,
            "waitlist.accepted",
            &[("series", "Oulu, spring 2024")]
        )
    );
    assert_eq!(status(&bot, &cid).await, "enrolled");

    // Cid's reminders follow; Bea, still waiting, and Aino, who left, get nothing about the kick-off.
    let arrivals = bot.advance_to(utc("2024-03-19 06:00")).await;
    let cid_times: Vec<DateTime<Utc>> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == cid.id)
        .map(|a| a.at)
        .collect();
    assert_eq!(
        cid_times,
        [
            utc("2024-03-18 14:00"),
            utc("2024-03-19 05:00"),
            utc("2024-03-19 05:45")
        ]
    );
    assert_eq!(arrivals.len(), 3, "{arrivals:#?}");
    assert_eq!(
        offer_rows(&bot).await.len(),
        3,
        "two offers and one notice of expiry, no more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_place_goes_straight_to_the_next_in_line() {
    let content = ContentCopy::new();
    content.edit_programme("area = \"oulu\"\n", "area = \"oulu\"\ncapacity = 1\n");
    let bot = TestBot::start_sped_up(&[("DIALOGUES_DIR", content.path().as_str())], SPEEDUP).await;
    let (aino, _) = register(&bot, 9211, "Aino Aalto", "fi", "oulu-kevat24").await;
    let (bea, _) = register(&bot, 9212, "Bea Berg", "fi", "oulu-kevat24").await;
    let (cid, _) = register(&bot, 9213, "Cid Carter", "en", "oulu-kevat24").await;
    bot.send(&aino, "/leave").await;
    bot.press(&aino, "Kyllä, peru").await;
    bot.settle().await;
    assert_eq!(
        joined(&bot.press(&bea, "En tarvitse").await),
        text(Lang::Fi, "waitlist.declined", &[])
    );
    bot.settle().await;
    let offer = bot.fake.last_sent_to(cid.id).expect("an offer to Cid");
    assert_eq!(
        offer.text.clone().unwrap_or_default(),
        text(
            Lang::En,
            "waitlist.offer",
            &[
                ("series", "Oulu, spring 2024"),
                ("until", "14.3.2024 at 09:00")
            ]
        )
    );
    assert_eq!(
        (status(&bot, &bea).await, status(&bot, &cid).await),
        ("left".into(), "offered".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_nobody_else_waits_for_stands_until_someone_does() {
    let content = ContentCopy::new();
    content.edit_programme("area = \"oulu\"\n", "area = \"oulu\"\ncapacity = 1\n");
    let bot = TestBot::start_sped_up(&[("DIALOGUES_DIR", content.path().as_str())], SPEEDUP).await;
    let (aino, _) = register(&bot, 9221, "Aino Aalto", "fi", "oulu-kevat24").await;
    let (bea, _) = register(&bot, 9222, "Bea Berg", "fi", "oulu-kevat24").await;
    bot.send(&aino, "/leave").await;
    bot.press(&aino, "Kyllä, peru").await;
    bot.settle().await;
    assert_eq!(status(&bot, &bea).await, "offered");

    // The 48 hours pass, but there is nobody to give the place to: Bea is not told it went to someone, and
    // her offer stands.
    assert!(
        bot.advance_to(utc("2024-03-15 07:00")).await.is_empty(),
        "no notice of expiry"
    );
    assert_eq!(status(&bot, &bea).await, "offered");

    // Once someone else waits, the lapsed offer moves on to them.
    let since = bot.sent_count();
    let (cid, said) = register(&bot, 9223, "Cid Carter", "en", "oulu-kevat24").await;
    assert!(
        said.contains(&text(
            Lang::En,
            "programme.waitlisted",
            &[("series", "Oulu, spring 2024"), ("position", "1")]
        )),
        "{said}"
    );
    let arrivals = bot.advance_from(since, utc("2024-03-15 07:00")).await;
    let to_bea: Vec<_> = arrivals
        .iter()
        .filter(|a| a.message.chat_id == bea.id)
        .collect();
    assert_eq!(to_bea.len(), 1);
    assert_eq!(
        to_bea[0].message.text.clone().unwrap_or_default(),
        text(
            Lang::Fi,
            "waitlist.expired",
            &[("series", "Oulu, kevät 2024")]
        )
    );
    assert_eq!(
        (status(&bot, &bea).await, status(&bot, &cid).await),
        ("waitlisted".into(), "offered".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_offer_nobody_else_wanted_can_still_be_accepted() {
    let content = ContentCopy::new();
    content.edit_programme("area = \"oulu\"\n", "area = \"oulu\"\ncapacity = 1\n");
    let bot = TestBot::start_sped_up(&[("DIALOGUES_DIR", content.path().as_str())], SPEEDUP).await;
    let (aino, _) = register(&bot, 9231, "Aino Aalto", "fi", "oulu-kevat24").await;
    let (bea, _) = register(&bot, 9232, "Bea Berg", "fi", "oulu-kevat24").await;
    bot.send(&aino, "/leave").await;
    bot.press(&aino, "Kyllä, peru").await;
    bot.advance_to(utc("2024-03-15 07:00")).await;
    assert_eq!(
        joined(&bot.press(&bea, "Otan paikan").await),
        text(
            Lang::Fi,
            "waitlist.accepted",
            &[("series", "Oulu, kevät 2024")]
        )
    );
    assert_eq!(status(&bot, &bea).await, "enrolled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offers_lapsing_together_move_on_to_those_waiting_and_never_back_to_each_other() {
    let content = ContentCopy::new();
    content.edit_programme("area = \"oulu\"\n", "area = \"oulu\"\ncapacity = 2\n");
    let bot = TestBot::start_sped_up(&[("DIALOGUES_DIR", content.path().as_str())], SPEEDUP).await;
    let (aino, _) = register(&bot, 9241, "Aino Aalto", "fi", "oulu-kevat24").await;
    let (bea, _) = register(&bot, 9242, "Bea Berg", "fi", "oulu-kevat24").await;
    let (cid, _) = register(&bot, 9243, "Cid Carter", "fi", "oulu-kevat24").await;
    let (dan, _) = register(&bot, 9244, "Dan Dahl", "fi", "oulu-kevat24").await;
    // Both enrolled people leave at once: Cid and Dan, waiting, are offered the two places.
    for who in [&aino, &bea] {
        bot.send(who, "/leave").await;
        bot.press(who, "Kyllä, peru").await;
    }
    bot.settle().await;
    assert_eq!(
        (status(&bot, &cid).await, status(&bot, &dan).await),
        ("offered".into(), "offered".into())
    );
    // Eve joins the waitlist; then both offers run out in the same pass. One place goes to Eve; the other
    // offer stands (nobody else was waiting), and nobody is told "expired" and offered again at once.
    let (eve, _) = register(&bot, 9245, "Eve Ek", "fi", "oulu-kevat24").await;
    let since = bot.sent_count();
    let arrivals = bot.advance_from(since, utc("2024-03-15 07:00")).await;
    let statuses = (
        status(&bot, &cid).await,
        status(&bot, &dan).await,
        status(&bot, &eve).await,
    );
    assert_eq!(
        statuses,
        ("waitlisted".into(), "offered".into(), "offered".into()),
        "{arrivals:#?}"
    );
    let to = |user: &FakeUser| -> Vec<String> {
        arrivals
            .iter()
            .filter(|a| a.message.chat_id == user.id)
            .map(|a| a.message.text.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(
        to(&cid),
        vec![text(
            Lang::Fi,
            "waitlist.expired",
            &[("series", "Oulu, kevät 2024")]
        )]
    );
    assert!(to(&dan).is_empty(), "Dan's offer stands: {:?}", to(&dan));
    assert_eq!(to(&eve).len(), 1, "{:?}", to(&eve));
    assert!(to(&eve)[0].starts_with(
        &text(
            Lang::Fi,
            "waitlist.offer",
            &[("series", "Oulu, kevät 2024"), ("until", "")]
        )[..20]
    ));
}
