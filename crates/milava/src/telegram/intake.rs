//! The intake gate: every update passes it between Telegram (long polling or the webhook) and the dispatcher,
//! before it is queued anywhere, so that one person cannot stall everyone.
//!
//! - **A budget per person** (`FLOOD_BURST` at once, `FLOOD_PER_SECOND` over time; `domain::budget`): private
//!   messages, edits, button presses, group commands and join requests all count. Over it, the update is
//!   dropped, the person gets at most one "please slow down" a minute in their language, and the fault log
//!   has one warning a minute, not one per update. Join requests to one group also share a budget of the
//!   group's (`JOIN_BUDGET`), so many accounts cannot fill the outbox with answers either.
//! - **A lane never blocks the intake.** A chat's updates are handled in order in lane `chat id mod 64`, whose
//!   queue holds `LANE_QUEUE` updates; teloxide's dispatcher waits for room in a full queue, and while it waits
//!   nobody's updates are taken. So the gate counts each lane's updates (admitted, not yet handled) and
//!   refuses one more than the queue holds: that update is dropped and its sender told once a minute that
//!   the bot is busy and to send it again. The dispatcher therefore never waits.
use crate::domain::budget::{Buckets, Budget, Verdict};
use crate::fault_log::Fault;
use crate::services::Ctx;
use crate::services::flood::{self, Notice};
use crate::startup::{HANDLING_LANES, handling_lane};
use futures::StreamExt;
use futures::stream::BoxStream;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use teloxide::prelude::*;
use teloxide::stop::StopToken;
use teloxide::types::{AllowedUpdate, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};

/// How many updates a handling lane's queue holds (the dispatcher's `worker_queue_size`); the gate admits at
/// most this many per lane at once (the one being handled included), so the dispatcher never waits for room.
pub const LANE_QUEUE: usize = 64;

/// Join requests to one group: 30 at once, then one every 2 s (30 a minute). Requests beyond it stay
/// pending in Telegram, where the group's administrators can still decide them.
pub const JOIN_BUDGET: Budget = Budget {
    burst: 30,
    per_second: 0.5,
};

/// Who an update counts against.
struct Subject {
    user: i64,
    language_code: Option<String>,
    /// A join request to this group (never told anything: they may not have started the bot).
    joins: Option<i64>,
}

pub struct Gate {
    ctx: Ctx,
    bot: Bot,
    /// None when the budget is off (`FLOOD_BURST=0`).
    budgets: Option<Budgets>,
    /// Updates admitted to each lane and not yet handled.
    lanes: Vec<AtomicUsize>,
    /// When each person was last told the bot is busy (one notice a minute, also with the budget off).
    busy_notices: Mutex<Buckets<i64>>,
}

struct Budgets {
    people: Mutex<Buckets<i64>>,
    joins: Mutex<Buckets<i64>>,
}

impl Gate {
    pub fn new(ctx: Ctx, bot: Bot) -> Arc<Gate> {
        let budgets = (ctx.config.flood_burst > 0).then(|| Budgets {
            people: Mutex::new(Buckets::new(Budget {
                burst: ctx.config.flood_burst,
                per_second: f64::from(ctx.config.flood_per_second),
            })),
            joins: Mutex::new(Buckets::new(JOIN_BUDGET)),
        });
        Arc::new(Gate {
            ctx,
            bot,
            budgets,
            lanes: (0..HANDLING_LANES).map(|_| AtomicUsize::new(0)).collect(),
            busy_notices: Mutex::new(Buckets::new(Budget {
                burst: 1,
                per_second: 1.0,
            })),
        })
    }

    /// Whether the update goes on to the dispatcher. A dropped one counts as handled (`Metrics::dropped`).
    pub fn admit(&self, update: &Update) -> bool {
        let subject = subject(update);
        if let (Some(budgets), Some(subject)) = (&self.budgets, &subject)
            && !self.within_budget(budgets, subject)
        {
            self.ctx.metrics.update_dropped();
            return false;
        }
        let Some(chat) = update.chat() else {
            return true;
        };
        let lane = &self.lanes[lane_index(chat.id)];
        if lane.fetch_add(1, Ordering::SeqCst) < LANE_QUEUE {
            return true;
        }
        lane.fetch_sub(1, Ordering::SeqCst);
        self.ctx.metrics.update_dropped();
        self.ctx.faults.error(
            Fault::Overloaded,
            format_args!(
                "chat {}'s handling lane has {LANE_QUEUE} updates waiting",
                chat.id.0
            ),
        );
        if let Some(subject) = subject
            && subject.joins.is_none()
            && lock(&self.busy_notices).other_notice_due(&subject.user, self.ctx.clock.now())
        {
            self.notify(subject, Notice::Busy);
        }
        false
    }

    fn within_budget(&self, budgets: &Budgets, subject: &Subject) -> bool {
        let now = self.ctx.clock.now();
        let verdict = lock(&budgets.people).take(&subject.user, now);
        if let Verdict::Drop { notify } = verdict {
            self.ctx.faults.error(
                Fault::OverBudget,
                format_args!("user {} sent more than their budget", subject.user),
            );
            if notify && subject.joins.is_none() {
                self.notify(
                    Subject {
                        user: subject.user,
                        language_code: subject.language_code.clone(),
                        joins: None,
                    },
                    Notice::SlowDown,
                );
            }
            return false;
        }
        if let Some(group) = subject.joins
            && let Verdict::Drop { .. } = lock(&budgets.joins).take(&group, now)
        {
            self.ctx.faults.error(
                Fault::OverBudget,
                format_args!("join requests to chat {group} over the group's budget"),
            );
            return false;
        }
        true
    }

    /// Sends a notice to the person's private chat without holding up the intake.
    fn notify(&self, subject: Subject, notice: Notice) {
        let ctx = self.ctx.clone();
        let bot = self.bot.clone();
        tokio::spawn(async move {
            let text =
                flood::notice_text(&ctx, subject.user, subject.language_code.as_deref(), notice)
                    .await;
            let notice_message = crate::domain::Reply::text(text);
            if let Err(e) = super::send_one(&bot, ChatId(subject.user), &notice_message).await {
                log::debug!("user {}: {notice:?} notice not sent: {e}", subject.user);
            }
        });
    }

    /// Held while an admitted update is handled; frees its place in the lane when dropped.
    pub fn ticket(self: &Arc<Self>, update: &Update) -> LaneTicket {
        LaneTicket {
            gate: self.clone(),
            lane: update.chat().map(|c| lane_index(c.id)),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn lane_index(chat: ChatId) -> usize {
    handling_lane(chat) as usize
}

/// The person an update counts against, if any: private messages and edits, button presses, commands in
/// groups and join requests. Other group messages (chatter the bot ignores unread) and the bot's own
/// membership changes do not count.
fn subject(update: &Update) -> Option<Subject> {
    let person = |user: &teloxide::types::User, joins: Option<i64>| Subject {
        user: user.id.0 as i64,
        language_code: user.language_code.clone(),
        joins,
    };
    match &update.kind {
        UpdateKind::Message(m) => {
            let user = m.from.as_ref()?;
            let counts = m.chat.is_private() || m.text().is_some_and(|t| t.starts_with('/'));
            counts.then(|| person(user, None))
        }
        UpdateKind::EditedMessage(m) if m.chat.is_private() => {
            m.from.as_ref().map(|u| person(u, None))
        }
        UpdateKind::CallbackQuery(q) => Some(person(&q.from, None)),
        UpdateKind::ChatJoinRequest(r) => Some(person(&r.from, Some(r.chat.id.0))),
        _ => None,
    }
}

/// Frees a lane place when the update's handling is over (it lives in the handler's dependencies).
pub struct LaneTicket {
    gate: Arc<Gate>,
    lane: Option<usize>,
}

impl Drop for LaneTicket {
    fn drop(&mut self) {
        if let Some(lane) = self.lane {
            self.gate.lanes[lane].fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// An update listener whose updates pass the gate first.
pub struct Gated<L> {
    inner: L,
    gate: Arc<Gate>,
}

impl<L> Gated<L> {
    pub fn new(inner: L, gate: Arc<Gate>) -> Self {
        Gated { inner, gate }
    }
}

impl<'a, L, E> AsUpdateStream<'a> for Gated<L>
where
    L: AsUpdateStream<'a, StreamErr = E>,
    E: Send + 'a,
{
    type StreamErr = E;
    type Stream = BoxStream<'a, Result<Update, E>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        let gate = self.gate.clone();
        self.inner
            .as_stream()
            .filter(move |update| {
                let pass = match update {
                    Ok(update) => gate.admit(update),
                    Err(_) => true,
                };
                futures::future::ready(pass)
            })
            .boxed()
    }
}

impl<L, E> UpdateListener for Gated<L>
where
    L: UpdateListener<Err = E>,
    Self: for<'a> AsUpdateStream<'a, StreamErr = E>,
{
    type Err = E;

    fn stop_token(&mut self) -> StopToken {
        self.inner.stop_token()
    }

    fn hint_allowed_updates(&mut self, hint: &mut dyn Iterator<Item = AllowedUpdate>) {
        self.inner.hint_allowed_updates(hint);
    }
}
