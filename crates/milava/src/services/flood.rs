//! The notices of the per-person budget (`telegram::intake`): "please slow down" for someone over their
//! budget and "busy, send again in a moment" for someone whose handling lane was full. In the person's
//! stored language, else their Telegram app's language.
use super::Ctx;
use crate::db;
use crate::domain::Lang;

/// Which notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    SlowDown,
    Busy,
}

impl Notice {
    fn key(self) -> &'static str {
        match self {
            Notice::SlowDown => "flood.slow_down",
            Notice::Busy => "flood.busy",
        }
    }
}

/// The notice's text for this person.
pub async fn notice_text(
    ctx: &Ctx,
    user_id: i64,
    language_code: Option<&str>,
    notice: Notice,
) -> String {
    let stored = match db::users::language(&ctx.pool, user_id).await {
        Ok(lang) => lang,
        Err(e) => {
            log::debug!("user {user_id}: language not read for a notice: {e}");
            None
        }
    };
    let lang =
        stored.unwrap_or_else(|| Lang::from_telegram(language_code, ctx.config.default_language));
    ctx.content.get().text(lang, notice.key()).to_string()
}
