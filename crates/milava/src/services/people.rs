//! The console's view of one person: exactly what `/mydata` shows them (the same code, in the coordinator's
//! language), and erasure on request done as `/forget` does it, with an audit line naming the coordinator.
use super::{Ctx, Turn, account, profile};
use crate::content::Content;
use crate::db::{self, DbError, Tx, audit, participants, users};
use crate::documents::DocumentError;
use crate::domain::{Lang, Participant, Reply};

/// A turn for someone else's record, read without touching it; None if the bot has no record of them.
async fn turn_for<'a>(tx: &mut Tx, ctx: &'a Ctx, user: i64) -> Result<Option<Turn<'a>>, DbError> {
    let Some((user, dialogue)) = users::reading_dialogue(tx, user).await? else {
        return Ok(None);
    };
    Ok(Some(Turn {
        config: &ctx.config,
        now: ctx.clock.now(),
        content: ctx.content.get(),
        user,
        first_name: "",
        // An unreadable dialogue is left for the person's next message to restart.
        state: dialogue.unwrap_or(None),
        notify_flow_changed: false,
        wake: Default::default(),
        reloaded: None,
    }))
}

/// What `/mydata` would show `user`, written in `lang`; None if the bot has no record of them.
pub async fn record(ctx: &Ctx, user: i64, lang: Lang) -> Result<Option<String>, DbError> {
    let mut tx = db::begin_read(&ctx.pool).await?;
    let Some(mut turn) = turn_for(&mut tx, ctx, user).await? else {
        return Ok(None);
    };
    turn.user.language = lang;
    let out = profile::my_data(&mut tx, &mut turn).await?;
    tx.commit().await?;
    let text = out
        .replies
        .into_iter()
        .filter_map(|reply| match reply {
            Reply::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Some(text))
}

/// Erases `user` as `/forget` does, at `coordinator`'s request. The audit line names the coordinator and the
/// registration's row number (deleted with the person), nothing of theirs. False if there was no one to erase.
pub async fn erase(ctx: &Ctx, user: i64, coordinator: i64) -> Result<bool, DbError> {
    let mut tx = db::begin_write(&ctx.pool).await?;
    let Some(mut turn) = turn_for(&mut tx, ctx, user).await? else {
        return Ok(false);
    };
    let detail = match participants::row_id(&mut tx, user).await? {
        Some(row) => format!("participant #{row}"),
        None => "a person not registered".to_string(),
    };
    account::erase(&mut tx, &mut turn).await?;
    audit::record(
        &mut tx,
        coordinator,
        "person_erased",
        &detail,
        ctx.clock.now(),
    )
    .await?;
    tx.commit().await?;
    // Places freed in series went to the waitlist: its offers are in the outbox.
    ctx.outbox.wake();
    ctx.scheduler.wake();
    Ok(true)
}

/// Why a download could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// The participant list (of one series, or everyone) as an `.xlsx` workbook with headers and answers in
/// `lang`: the same columns as the chat's `/participants` CSV (`coordinator::participant_table`). Audited as
/// the chat's export is. Returns the workbook and how many rows it has.
pub async fn participants_xlsx(
    ctx: &Ctx,
    lang: Lang,
    series: Option<&str>,
    coordinator: i64,
) -> Result<(Vec<u8>, usize), DownloadError> {
    let mut read = db::begin_read(&ctx.pool).await?;
    let all = participants::all(&mut read, series).await?;
    read.commit().await.map_err(DbError::from)?;
    let rows = all.len();
    // 10,000 rows take tens of milliseconds of CPU: made off the async workers (on two cores there is one),
    // so the chat is not held up behind a download.
    let (content, tz) = (ctx.content.get(), ctx.config.timezone);
    let sheet = series.unwrap_or("MILAVA").to_string();
    let bytes = tokio::task::spawn_blocking(move || {
        participants_workbook(&content, lang, tz, &all, &sheet)
    })
    .await
    .map_err(|e| DocumentError::Table(e.to_string()))??;
    let mut tx = db::begin_write(&ctx.pool).await?;
    audit::record(
        &mut tx,
        coordinator,
        "participants_export",
        &format!("{rows} rows (xlsx)"),
        ctx.clock.now(),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((bytes, rows))
}

/// The participant list's workbook: headers and answers in `lang`, times in `tz`.
fn participants_workbook(
    content: &Content,
    lang: Lang,
    tz: chrono_tz::Tz,
    all: &[Participant],
    sheet: &str,
) -> Result<Vec<u8>, DocumentError> {
    let text = |key: &str| content.text(lang, key).to_string();
    let headers: Vec<String> = super::coordinator::PARTICIPANT_COLUMNS
        .iter()
        .map(|c| text(&format!("participants_csv.{c}")))
        .collect();
    let yes_no = [text("participants_csv.yes"), text("participants_csv.no")];
    let label = |field, value: &str| super::render::answer_label(content, lang, field, value);
    let table = super::coordinator::participant_table(all, tz, &headers, &label, &yes_no);
    crate::documents::table::xlsx(sheet, table)
}
