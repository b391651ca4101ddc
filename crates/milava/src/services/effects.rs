//! What a handler decided should happen in answer to one input. Handlers return `Effects`; the dispatcher
//! (`services::handle_on`) then asks the pending question again if they say so, runs the follow-ups (after a
//! registration or a profile change), and gives the adapter one `Response`.
use super::{ChatMenu, Response};
use crate::domain::{Field, Participant, Reply};

#[derive(Debug, Default)]
#[must_use]
pub(crate) struct Effects {
    /// Messages to send to the input's chat, in order.
    pub replies: Vec<Reply>,
    /// A short notice on the pressed button.
    pub toast: Option<String>,
    /// A line appended to the message whose button was pressed (its buttons then removed).
    pub mark_pressed: Option<String>,
    /// The pressed message's text and buttons replaced (lists toggled in place).
    pub replace_pressed: Option<Reply>,
    /// Answers for the asker's private chat although the input came from a group.
    pub private: Vec<Reply>,
    /// Sent to the input's chat instead when the private answers cannot be delivered.
    pub private_fallback: Vec<Reply>,
    /// Delete the user's message, if the bot may.
    pub delete_input: bool,
    /// Set the person's command menu for their chat.
    pub menu: Option<ChatMenu>,
    /// After these, ask the question of the dialogue in progress (registration, a profile edit) again.
    pub ask_again: bool,
    /// What else follows from this input (see `FollowUp`); run by the dispatcher, in order.
    pub follow_ups: Vec<FollowUp>,
}

/// A consequence one feature's change has for others: run by the dispatcher, so that registration and the
/// profile need not know the groups, coaching and menus that react to them.
#[derive(Debug)]
pub(crate) enum FollowUp {
    /// Someone finished registering: their command menu, peer group and coaching.
    Registered(Participant),
    /// A registered person changed their area or what they want from the programme.
    InterestChanged(Field, Participant),
}

impl Effects {
    /// One message.
    pub fn reply(reply: Reply) -> Self {
        Effects {
            replies: vec![reply],
            ..Effects::default()
        }
    }

    /// One text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::reply(Reply::text(text))
    }

    /// Only a notice on the pressed button.
    pub fn toast(text: impl Into<String>) -> Self {
        Effects {
            toast: Some(text.into()),
            ..Effects::default()
        }
    }

    pub fn push(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    /// These, then the pending question again.
    pub fn ask_again(mut self) -> Self {
        self.ask_again = true;
        self
    }

    /// These, then `later`'s (whose notice and change of the pressed message win, if it has them).
    pub fn and(mut self, later: Effects) -> Self {
        self.extend(later);
        self
    }

    /// Adds `later`'s effects after these.
    pub fn extend(&mut self, later: Effects) {
        let Effects {
            replies,
            toast,
            mark_pressed,
            replace_pressed,
            private,
            private_fallback,
            delete_input,
            menu,
            ask_again,
            follow_ups,
        } = later;
        self.replies.extend(replies);
        self.toast = toast.or(self.toast.take());
        self.mark_pressed = mark_pressed.or(self.mark_pressed.take());
        self.replace_pressed = replace_pressed.or(self.replace_pressed.take());
        self.private.extend(private);
        self.private_fallback.extend(private_fallback);
        self.delete_input |= delete_input;
        self.menu = menu.or(self.menu.take());
        self.ask_again |= ask_again;
        self.follow_ups.extend(follow_ups);
    }

    /// What the adapter is given (asking again and the follow-ups already done).
    pub fn into_response(self) -> Response {
        Response {
            replies: self.replies,
            toast: self.toast,
            mark_pressed: self.mark_pressed,
            replace_pressed: self.replace_pressed,
            private: self.private,
            private_fallback: self.private_fallback,
            delete_input: self.delete_input,
            menu: self.menu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_effects_come_after_and_their_notice_wins() {
        let mut first = Effects::text("one").ask_again();
        first.toast = Some("first toast".into());
        first.mark_pressed = Some("✅ first".into());
        let mut later = Effects::text("two");
        later.toast = Some("later toast".into());
        let both = first.and(later);
        assert_eq!(both.replies, vec![Reply::text("one"), Reply::text("two")]);
        assert_eq!(both.toast.as_deref(), Some("later toast"));
        assert_eq!(both.mark_pressed.as_deref(), Some("✅ first"), "kept");
        assert!(both.ask_again, "asking again is not forgotten");
        let response = both.into_response();
        assert_eq!(response.replies.len(), 2);
    }
}
