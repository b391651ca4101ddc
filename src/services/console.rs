//! The coordinators' web console: sign-in without passwords. `/admin` in a coordinator's private chat sends a
//! one-time link (`ADMIN_PUBLIC_URL/login/<token>`, 10 minutes); opening it starts a browser session that ends
//! after 8 hours without a request or on sign-out. Tokens and session ids are random (256 bits) and stored only
//! as SHA-256 hashes. Every sign-in, refusal and sign-out is an audit line. The HTTP side is `crate::console`.
use super::{Ctx, Response, Turn, registration};
use crate::db::console::{self as store, LinkUse, StoredSession};
use crate::db::{self, DbError, Tx, audit};
use crate::domain::{Lang, Reply};
use chrono::TimeDelta;
use sha2::{Digest, Sha256};

/// A sign-in link works this long after `/admin`.
pub const LINK_VALID: TimeDelta = TimeDelta::minutes(10);
/// A session ends after this long without a request.
pub const SESSION_IDLE: TimeDelta = TimeDelta::hours(8);
/// A session's last use is written at most this often (a page view is otherwise a read).
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);
/// Spent links are kept this long after they ran out (so that a reused link is told apart from a made-up one).
const LINKS_KEPT: TimeDelta = TimeDelta::days(1);

/// A new random secret (a link's token, a session id, a CSRF token): 32 bytes as 64 hex digits.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// What is stored of a secret: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `/admin`: a coordinator gets a sign-in link (the access rule has already refused everyone else).
pub(crate) async fn admin(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    out: &mut Response,
) -> Result<(), DbError> {
    let Some(base) = turn.ctx.config.admin_public_url.clone() else {
        out.push(Reply::text(turn.text("console.chat.off")));
        return registration::remind(tx, turn, out).await;
    };
    let now = turn.ctx.clock.now();
    let coordinator = turn.user.telegram_user_id;
    let token = new_secret();
    store::create_link(tx, &hash_secret(&token), coordinator, now, now + LINK_VALID).await?;
    audit::record(tx, coordinator, "console_link_sent", "", now).await?;
    // In the coordinator's chat language, which the session then keeps.
    let link = base
        .join(&format!("login/{token}?lang={}", turn.lang().code()))
        .map(|u| u.to_string())
        .unwrap_or_default();
    out.push(Reply::text(turn.fill(
        "console.chat.link",
        &[
            ("link", &link),
            ("minutes", &LINK_VALID.num_minutes().to_string()),
        ],
    )));
    registration::remind(tx, turn, out).await
}

/// A non-coordinator's `/admin` (already refused in chat): an audit line.
pub(crate) async fn refused_in_chat(tx: &mut Tx, turn: &Turn<'_>) -> Result<(), DbError> {
    let now = turn.ctx.clock.now();
    audit::record(
        tx,
        turn.user.telegram_user_id,
        "console_refused",
        "/admin in chat",
        now,
    )
    .await
}

/// How opening a sign-in link ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// A session was started: the browser keeps `session_id` (a cookie).
    Started { session_id: String, lang: Lang },
    /// The link is unknown, used or expired.
    BadLink,
    /// The link is good but its coordinator no longer is one.
    NotCoordinator,
}

/// Opens the link with this token, in one transaction (the link is used up even if no session follows).
pub async fn sign_in(ctx: &Ctx, token: &str, lang: Lang) -> Result<SignIn, DbError> {
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    store::prune(&mut tx, now - SESSION_IDLE, now - LINKS_KEPT).await?;
    let outcome = match store::use_link(&mut tx, &hash_secret(token), now).await? {
        LinkUse::SignedIn { coordinator_id } if ctx.config.is_coordinator(coordinator_id) => {
            let session_id = new_secret();
            store::create_session(
                &mut tx,
                &hash_secret(&session_id),
                coordinator_id,
                &new_secret(),
                lang,
                now,
            )
            .await?;
            audit::record(&mut tx, coordinator_id, "console_sign_in", "", now).await?;
            SignIn::Started { session_id, lang }
        }
        LinkUse::SignedIn { coordinator_id } => {
            audit::record(
                &mut tx,
                coordinator_id,
                "console_refused",
                "no longer a coordinator",
                now,
            )
            .await?;
            SignIn::NotCoordinator
        }
        used => {
            let (actor, why) = match used {
                LinkUse::Reused { coordinator_id } => (coordinator_id, "link used before"),
                LinkUse::Expired { coordinator_id } => (coordinator_id, "link expired"),
                _ => (UNKNOWN_ACTOR, "unknown link"),
            };
            audit::record(&mut tx, actor, "console_link_refused", why, now).await?;
            SignIn::BadLink
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The audit log's actor for an attempt nobody can be named for (a made-up link).
pub const UNKNOWN_ACTOR: i64 = 0;

/// A signed-in browser, as the console's pages see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The hash of the session's id (what is stored).
    pub id_hash: String,
    pub coordinator_id: i64,
    /// The token every form of this session carries.
    pub csrf: String,
    pub lang: Lang,
}

/// What a session cookie is worth now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Valid(Session),
    /// No such session, or it ended (idle too long, signed out).
    None,
    /// The session is good but its coordinator no longer is one (the session is ended).
    NotCoordinator,
}

/// Checks a session id from a cookie; a valid session's last use is moved to now (at most once a minute).
pub async fn check(ctx: &Ctx, session_id: &str) -> Result<Check, DbError> {
    let now = ctx.clock.now();
    let id_hash = hash_secret(session_id);
    let Some(stored) = store::session(&ctx.pool, &id_hash).await? else {
        return Ok(Check::None);
    };
    let StoredSession {
        coordinator_id,
        csrf,
        lang,
        last_seen_at,
    } = stored;
    if now - last_seen_at >= SESSION_IDLE {
        end(ctx, &id_hash, coordinator_id, "console_session_expired").await?;
        return Ok(Check::None);
    }
    if !ctx.config.is_coordinator(coordinator_id) {
        end(ctx, &id_hash, coordinator_id, "console_refused").await?;
        return Ok(Check::NotCoordinator);
    }
    if now - last_seen_at >= TOUCH_EVERY {
        let mut tx = db::begin_write(&ctx.pool).await?;
        store::touch_session(&mut tx, &id_hash, now).await?;
        tx.commit().await?;
    }
    Ok(Check::Valid(Session {
        id_hash,
        coordinator_id,
        csrf,
        lang,
    }))
}

/// Ends a session with an audit line.
async fn end(ctx: &Ctx, id_hash: &str, coordinator_id: i64, action: &str) -> Result<(), DbError> {
    let now = ctx.clock.now();
    let mut tx = db::begin_write(&ctx.pool).await?;
    if store::delete_session(&mut tx, id_hash).await? {
        audit::record(&mut tx, coordinator_id, action, "", now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// "Sign out".
pub async fn sign_out(ctx: &Ctx, session: &Session) -> Result<(), DbError> {
    end(
        ctx,
        &session.id_hash,
        session.coordinator_id,
        "console_sign_out",
    )
    .await
}

/// A refused form or request of a signed-in coordinator (a missing or wrong CSRF token): an audit line.
pub async fn record_refusal(ctx: &Ctx, actor: i64, why: &str) -> Result<(), DbError> {
    let mut tx = db::begin_write(&ctx.pool).await?;
    audit::record(&mut tx, actor, "console_refused", why, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Switches the session's language.
pub async fn set_language(ctx: &Ctx, session: &Session, lang: Lang) -> Result<(), DbError> {
    let mut tx = db::begin_write(&ctx.pool).await?;
    store::set_session_lang(&mut tx, &session.id_hash, lang).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_and_hashes_differ_from_them() {
        let a = new_secret();
        let b = new_secret();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_ne!(hash_secret(&a), a);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, ""));
    }
}
