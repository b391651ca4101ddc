//! Freed places go to the first person on the waitlist, with a time-limited confirm button.
use super::{Effects, Turn};
use crate::content::Content;
use crate::db::outbox::{self, NewDelivery};
use crate::db::programme::{self as store};
use crate::db::{self, DbError, Tx};
use crate::domain::enrolment::{Enrolment, EnrolmentStatus, OFFER_VALID};
use crate::domain::outbox::{OutboxKey, Payload};
use crate::domain::programme::Series;
use crate::domain::{Button, CallbackData, Reply};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Lapsed offers handled per transaction, at most (and never longer than `db::BACKGROUND_SLICE`).
const EXPIRY_BATCH: usize = 50;

/// Offers a freed place of `series` to the first on its waitlist (if anyone waits), through the outbox.
/// `not_to` is someone whose offer just ran out: the place is not offered straight back to them.
pub async fn offer_freed_place(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    series: &Series,
    now: DateTime<Utc>,
    not_to: Option<i64>,
) -> Result<Option<i64>, DbError> {
    let Some(first) = store::first_waitlisted(tx, &series.id, not_to).await? else {
        return Ok(None);
    };
    offer_to(tx, content, tz, series, now, first)
        .await
        .map(Some)
}

/// Offers the place to the holder of `first`, a waitlisted enrolment; returns their user id.
async fn offer_to(
    tx: &mut Tx,
    content: &Content,
    tz: Tz,
    series: &Series,
    now: DateTime<Utc>,
    mut first: Enrolment,
) -> Result<i64, DbError> {
    let until = now + OFFER_VALID;
    first.status = EnrolmentStatus::Offered;
    first.offered_until = Some(until);
    store::put_enrolment(tx, &first, now).await?;
    let user = first.telegram_user_id;
    let Some((chat_id, lang)) = store::recipient(tx, user).await? else {
        return Ok(user);
    };
    let until_text = super::present::local_time(tz, lang, until);
    let text = content.fill(
        lang,
        "waitlist.offer",
        &[("series", series.name.get(lang)), ("until", &until_text)],
    );
    let buttons = vec![vec![
        Button::callback(
            content.text(lang, "button.programme.accept_place"),
            CallbackData::Offer {
                series: series.id.clone(),
                accept: true,
            }
            .encode(),
        ),
        Button::callback(
            content.text(lang, "button.programme.decline_place"),
            CallbackData::Offer {
                series: series.id.clone(),
                accept: false,
            }
            .encode(),
        ),
    ]];
    let key = OutboxKey::Offer {
        series: series.id.clone(),
        user,
        at: now.timestamp(),
    };
    outbox::enqueue(
        tx,
        &NewDelivery::new(key, chat_id, Payload::with_buttons(text, buttons), now).for_user(user),
    )
    .await?;
    log::info!("user {user}: offered a freed place in {}", series.id);
    Ok(user)
}

/// Offers that ran out: the person goes back to the end of the waitlist (and is told), and the place is
/// offered to the next one who has not let an offer run out. An offer nobody else waits for stands (it can
/// still be accepted) until someone new joins the waitlist. Returns how many expired. For the scheduler: one
/// offer at a time in short transactions (`db::Slices`), each offer read again under the write turn (its
/// owner may have answered since the list was read).
pub async fn expire_offers(
    pool: &crate::db::Db,
    content: &Content,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    let mut read = db::begin_read(pool).await?;
    let lapsed = store::expired_offers(&mut read, now).await?;
    read.commit().await?;
    let mut slices = db::Slices::new(pool, EXPIRY_BATCH);
    let mut expired = 0;
    for listed in lapsed {
        let Some(series) = content.series(&listed.series_id) else {
            continue;
        };
        let tx = slices.next().await?;
        let Some(mut offer) = store::enrolment_of(tx, listed.telegram_user_id, &series.id)
            .await?
            .filter(|e| e.status == EnrolmentStatus::Offered)
            .filter(|e| e.offered_until.is_some_and(|until| until <= now))
        else {
            continue;
        };
        // A lapsed offer moves on only to someone waiting who has not let an offer run out themselves:
        // otherwise two silent people would be offered the same place back and forth every 48 hours.
        let Some(next) = store::first_waiting_never_lapsed(tx, &series.id).await? else {
            continue;
        };
        expired += 1;
        offer.status = EnrolmentStatus::Waitlisted;
        offer.offered_until = None;
        offer.queued_at = now;
        store::put_enrolment(tx, &offer, now).await?;
        store::count_lapsed_offer(tx, offer.telegram_user_id, &series.id).await?;
        if let Some((chat_id, lang)) = store::recipient(tx, offer.telegram_user_id).await? {
            let text = content.fill(
                lang,
                "waitlist.expired",
                &[("series", series.name.get(lang))],
            );
            let key = OutboxKey::OfferExpired {
                series: series.id.clone(),
                user: offer.telegram_user_id,
                at: now.timestamp(),
            };
            let notice = NewDelivery::new(key, chat_id, Payload::text(text), now)
                .for_user(offer.telegram_user_id);
            outbox::enqueue(tx, &notice).await?;
        }
        if let Some(enrolment) = store::enrolment_of(tx, next, &series.id).await? {
            offer_to(tx, content, tz, series, now, enrolment).await?;
        }
    }
    slices.finish().await?;
    Ok(expired)
}

/// The answer to a freed place offered from the waitlist.
pub async fn offer_answer(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    series_id: &str,
    accept: bool,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    let user = turn.user.telegram_user_id;
    let now = turn.now;
    let Some(series) = turn.content.series(series_id).cloned() else {
        out.toast = Some(turn.text("problem.button_expired"));
        return Ok(out);
    };
    let mut offer = store::enrolment_of(tx, user, series_id)
        .await?
        .filter(|e| e.status == EnrolmentStatus::Offered);
    // After its time an offer is gone once someone it would move on to waits (the scheduler moves it at once).
    if offer
        .as_ref()
        .is_some_and(|e| e.offered_until.is_none_or(|until| until <= now))
        && store::first_waiting_never_lapsed(tx, series_id)
            .await?
            .is_some()
    {
        offer = None;
    }
    let Some(mut enrolment) = offer else {
        out.push(Reply::text(turn.text("waitlist.offer_gone")));
        return Ok(out);
    };
    let name = series.name.get(turn.lang()).to_string();
    enrolment.offered_until = None;
    if accept {
        enrolment.status = EnrolmentStatus::Enrolled;
        store::put_enrolment(tx, &enrolment, now).await?;
        out.mark_pressed = Some(format!("✅ {}", turn.text("button.programme.accept_place")));
        out.push(Reply::text(
            turn.fill("waitlist.accepted", &[("series", &name)]),
        ));
    } else {
        enrolment.status = EnrolmentStatus::Left;
        store::put_enrolment(tx, &enrolment, now).await?;
        offer_freed_place(tx, &turn.content, turn.tz(), &series, now, Some(user)).await?;
        out.mark_pressed = Some(format!(
            "✅ {}",
            turn.text("button.programme.decline_place")
        ));
        out.push(Reply::text(turn.text("waitlist.declined")));
    }
    turn.wake_after_commit();
    Ok(out)
}
