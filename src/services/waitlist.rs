//! Freed places go to the first person on the waitlist, with a time-limited confirm button.
use super::outbox::{self, Outgoing};
use crate::content::Content;
use crate::db::programme::{self as store};
use crate::db::{DbError, Tx};
use crate::domain::enrolment::{EnrolmentStatus, OFFER_VALID};
use crate::domain::programme::Series;
use crate::domain::time::utc_to_local;
use crate::domain::{Button, CallbackData, Lang};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

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
    let Some(mut first) = store::first_waitlisted(tx, &series.id).await?.filter(|f| Some(f.telegram_user_id) != not_to) else {
        return Ok(None);
    };
    let until = now + OFFER_VALID;
    first.status = EnrolmentStatus::Offered;
    first.offered_until = Some(until);
    store::put_enrolment(tx, &first, now).await?;
    let user = first.telegram_user_id;
    let Some((chat_id, lang)) = outbox::recipient(tx, user).await? else {
        return Ok(Some(user));
    };
    let until_text = match lang {
        Lang::Fi => utc_to_local(tz, until).format("%-d.%-m.%Y klo %-H.%M").to_string(),
        Lang::En => utc_to_local(tz, until).format("%-d.%-m.%Y at %H:%M").to_string(),
    };
    let text = content.fill(lang, "waitlist.offer", &[("series", series.name.get(lang)), ("until", &until_text)]);
    let buttons = vec![vec![
        Button::callback(content.text(lang, "button.programme.accept_place"), CallbackData::Offer { series: series.id.clone(), accept: true }.encode()),
        Button::callback(content.text(lang, "button.programme.decline_place"), CallbackData::Offer { series: series.id.clone(), accept: false }.encode()),
    ]];
    let key = format!("offer:{}:{user}:{}", series.id, now.timestamp());
    outbox::send_later(tx, Outgoing::text(key, chat_id, Some(user), text, buttons, now)).await?;
    log::info!("user {user}: offered a freed place in {}", series.id);
    Ok(Some(user))
}

/// Offers that ran out: the person goes back to the end of the waitlist (and is told), and the place is
/// offered to the next one. Returns how many expired.
pub async fn expire_offers(tx: &mut Tx, content: &Content, tz: Tz, now: DateTime<Utc>) -> Result<usize, DbError> {
    let expired = store::expired_offers(tx, now).await?;
    for mut offer in expired.iter().cloned() {
        let Some(series) = content.series(&offer.series_id) else {
            continue;
        };
        offer.status = EnrolmentStatus::Waitlisted;
        offer.offered_until = None;
        offer.queued_at = now;
        store::put_enrolment(tx, &offer, now).await?;
        if let Some((chat_id, lang)) = outbox::recipient(tx, offer.telegram_user_id).await? {
            let text = content.fill(lang, "waitlist.expired", &[("series", series.name.get(lang))]);
            let key = format!("offer-expired:{}:{}:{}", series.id, offer.telegram_user_id, now.timestamp());
            outbox::send_later(tx, Outgoing::text(key, chat_id, Some(offer.telegram_user_id), text, Vec::new(), now)).await?;
        }
        offer_freed_place(tx, content, tz, series, now, Some(offer.telegram_user_id)).await?;
    }
    Ok(expired.len())
}
