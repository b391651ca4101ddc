//! `/language`, `/forget` and `/cancel`.
use super::{Effects, Turn};
use crate::db::dialogues::{self, FlowKind};
use crate::db::{self as store, DbError, Tx, users};
use crate::domain::{Button, CallbackData, Lang, Reply};

pub fn language_question(turn: &Turn<'_>) -> Reply {
    let buttons = vec![vec![
        Button::callback(
            turn.text("button.language_fi"),
            CallbackData::SetLanguage(Lang::Fi).encode(),
        ),
        Button::callback(
            turn.text("button.language_en"),
            CallbackData::SetLanguage(Lang::En).encode(),
        ),
    ]];
    Reply::with_buttons(turn.text("language.question"), buttons)
}

pub async fn set_language(
    tx: &mut Tx,
    turn: &mut Turn<'_>,
    lang: Lang,
) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    users::set_language(tx, turn.user.telegram_user_id, lang).await?;
    turn.user.language = lang;
    out.mark_pressed = Some(format!(
        "✅ {}",
        turn.text(&format!("button.language_{}", lang.code()))
    ));
    out.push(Reply::text(turn.text("language.changed")));
    out.menu = Some(super::menus::menu(tx, turn).await?);
    Ok(out.ask_again())
}

pub fn forget_question(turn: &Turn<'_>) -> Reply {
    let buttons = vec![
        vec![Button::callback(
            turn.text("button.forget_yes"),
            CallbackData::Forget { confirm: true }.encode(),
        )],
        vec![Button::callback(
            turn.text("button.forget_no"),
            CallbackData::Forget { confirm: false }.encode(),
        )],
    ];
    Reply::with_buttons(turn.text("forget.question"), buttons)
}

/// Erases every personal row of the user (the answer is written in their language before it goes).
pub async fn forget(tx: &mut Tx, turn: &mut Turn<'_>, confirm: bool) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    if !confirm {
        out.mark_pressed = Some(format!("✅ {}", turn.text("button.forget_no")));
        out.push(Reply::text(turn.text("forget.kept")));
        return Ok(out.ask_again());
    }
    out.mark_pressed = Some(format!("✅ {}", turn.text("button.forget_yes")));
    erase(tx, turn).await?;
    out.push(Reply::text(turn.text("forget.done")));
    // Back to everyone's commands.
    out.menu = Some(super::menus::menu(tx, turn).await?);
    Ok(out)
}

/// Erases the person of `turn`: leaves their series first (their places go to the waitlist), then every
/// personal row. `/forget` and the console's erase-on-request both do it this way.
pub(crate) async fn erase(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<(), DbError> {
    super::programme::leave_all(tx, turn).await?;
    store::erase_user(tx, turn.user.telegram_user_id).await?;
    turn.state = None;
    log::info!("user {}: erased on request", turn.user.telegram_user_id);
    Ok(())
}

pub async fn cancel(tx: &mut Tx, turn: &mut Turn<'_>) -> Result<Effects, DbError> {
    let mut out = Effects::default();
    match turn.state.take() {
        Some(state) => {
            dialogues::delete(tx, turn.user.telegram_user_id).await?;
            let key = if state.flow == FlowKind::Edit {
                "cancel.edit"
            } else {
                "cancel.done"
            };
            out.push(Reply::text(turn.text(key)));
        }
        None => out.push(Reply::text(turn.text("cancel.nothing"))),
    }
    Ok(out)
}
