//! Users acting: the helpers that queue updates as if people used Telegram.

use super::types::{Failure, FakeGroup, FakeUser};
use super::{FakeTelegram, updates};
use serde_json::{Value, json};

impl FakeTelegram {
    /// Queues an update (given without `update_id`) and returns its id.
    pub fn push_update(&self, update_kind: Value) -> i64 {
        assert!(
            update_kind.is_object(),
            "push_update needs a JSON object, got {update_kind}"
        );
        let id = self.inner.lock().push_update(update_kind);
        self.updates_changed();
        id
    }

    pub(super) fn updates_changed(&self) {
        self.inner.updates.send_modify(|n| *n = n.wrapping_add(1));
        self.inner.bump();
    }

    /// Makes a user known (their name appears in chats the bot sees), without any update.
    pub fn add_user(&self, user: &FakeUser) {
        self.inner.lock().users.insert(user.id, user.clone());
    }

    /// Makes a group known (its title appears in chats the bot sees), without any update.
    pub fn add_group(&self, group: &FakeGroup) {
        self.inner.lock().groups.insert(group.id, group.clone());
    }

    /// Queues a `message` from `user` in `chat_id`; returns the message id.
    fn user_message(
        &self,
        chat_id: i64,
        user: &FakeUser,
        fields: Value,
        group: Option<&FakeGroup>,
    ) -> i64 {
        let message_id = {
            let mut st = self.inner.lock();
            st.users.insert(user.id, user.clone());
            if chat_id == user.id {
                // Writing to the bot starts it.
                st.not_started.remove(&user.id);
            }
            if let Some(group) = group {
                st.groups.insert(group.id, group.clone());
            }
            let message_id = st.alloc_message_id(chat_id);
            let chat = st.chat_json(chat_id);
            let message = updates::user_message(message_id, user, chat, updates::now(), fields);
            if st.keeps(chat_id) {
                st.user_messages
                    .insert((chat_id, message_id), message.clone());
            }
            st.push_update(json!({ "message": message }));
            message_id
        };
        self.updates_changed();
        message_id
    }

    /// A private text message from `user` (with a `bot_command` entity for `/commands`).
    pub fn send_private_text(&self, user: &FakeUser, text: &str) -> i64 {
        self.user_message(user.id, user, updates::text_fields(text), None)
    }

    /// A private message with arbitrary fields, e.g. `{"sticker": {...}}` or `{"photo": [...]}`.
    pub fn send_private_message(&self, user: &FakeUser, message_fields: Value) -> i64 {
        self.user_message(user.id, user, message_fields, None)
    }

    /// A text message from `user` in a supergroup.
    pub fn send_group_text(&self, group: &FakeGroup, user: &FakeUser, text: &str) -> i64 {
        self.user_message(group.id, user, updates::text_fields(text), Some(group))
    }

    /// A message with arbitrary fields from `user` in a supergroup.
    pub fn send_group_message(
        &self,
        group: &FakeGroup,
        user: &FakeUser,
        message_fields: Value,
    ) -> i64 {
        self.user_message(group.id, user, message_fields, Some(group))
    }

    /// The user edits one of their private messages (an `edited_message` update).
    pub fn edit_private_text(&self, user: &FakeUser, message_id: i64, new_text: &str) {
        {
            let mut st = self.inner.lock();
            st.users.insert(user.id, user.clone());
            let chat = st.chat_json(user.id);
            let date = st
                .user_messages
                .get(&(user.id, message_id))
                .and_then(|m| m.get("date"))
                .and_then(Value::as_i64)
                .unwrap_or_else(updates::now);
            let mut message =
                updates::user_message(message_id, user, chat, date, updates::text_fields(new_text));
            message["edit_date"] = json!(updates::now());
            st.user_messages
                .insert((user.id, message_id), message.clone());
            st.push_update(json!({ "edited_message": message }));
        }
        self.updates_changed();
    }

    /// The user presses an inline button on a bot message in their private chat; returns
    /// the callback query id. A message the fake does not know arrives as inaccessible.
    pub fn press_button(&self, user: &FakeUser, message_id: i64, callback_data: &str) -> String {
        self.press_button_in(user.id, user, message_id, callback_data)
    }

    /// Like [`FakeTelegram::press_button`], for a bot message in any chat (e.g. a group).
    pub fn press_button_in(
        &self,
        chat_id: i64,
        user: &FakeUser,
        message_id: i64,
        callback_data: &str,
    ) -> String {
        let id = {
            let mut st = self.inner.lock();
            st.users.insert(user.id, user.clone());
            let message = match st.sent_index(chat_id, message_id) {
                Some(i) => st.message_json(&st.sent[i]),
                None => updates::inaccessible_message(st.chat_json(chat_id), message_id),
            };
            let id = st.alloc_callback_id();
            let query = updates::callback_query(&id, user, message, callback_data);
            st.push_update(json!({ "callback_query": query }));
            id
        };
        self.updates_changed();
        id
    }

    /// `user` asks to join `group` (a `chat_join_request` update), e.g. through an invite link
    /// created with `creates_join_request`. Returns the update id.
    pub fn request_to_join(
        &self,
        group: &FakeGroup,
        user: &FakeUser,
        invite_link: Option<&str>,
    ) -> i64 {
        let id = {
            let mut st = self.inner.lock();
            st.users.insert(user.id, user.clone());
            st.groups.insert(group.id, group.clone());
            st.join_requests.insert((group.id, user.id));
            st.join_requested_at.insert(user.id, updates::now());
            st.push_update(
                json!({ "chat_join_request": updates::join_request(group, user, invite_link) }),
            )
        };
        self.updates_changed();
        id
    }

    /// The user blocks the bot: a `my_chat_member` update, and every later send to them
    /// fails with 403 until [`FakeTelegram::unblock_bot`].
    pub fn block_bot(&self, user: &FakeUser) {
        {
            let mut st = self.inner.lock();
            st.users.insert(user.id, user.clone());
            st.chat_failures.insert(user.id, Failure::blocked());
            st.push_update(
                json!({ "my_chat_member": updates::my_chat_member(user, "member", "kicked") }),
            );
        }
        self.updates_changed();
    }

    /// The user unblocks the bot (a `my_chat_member` update) and sends work again.
    pub fn unblock_bot(&self, user: &FakeUser) {
        {
            let mut st = self.inner.lock();
            st.chat_failures.remove(&user.id);
            st.push_update(
                json!({ "my_chat_member": updates::my_chat_member(user, "kicked", "member") }),
            );
        }
        self.updates_changed();
    }

    /// The user has never started the bot: sending to them fails with 403 `Forbidden: bot can't initiate
    /// conversation with a user`, except for 5 minutes after their join request. Writing to the bot lifts it.
    pub fn set_not_started(&self, user: &FakeUser) {
        let mut st = self.inner.lock();
        st.users.insert(user.id, user.clone());
        st.not_started.insert(user.id);
    }

    /// `by` changes the bot's membership in `group` to `member` (a `ChatMember` object without `user`, e.g.
    /// `{"status": "member"}`): getChatMember answers it from now on, and a `my_chat_member` update is queued.
    pub fn set_bot_membership(&self, group: &FakeGroup, by: &FakeUser, member: Value) {
        {
            let mut st = self.inner.lock();
            st.users.insert(by.id, by.clone());
            st.groups.insert(group.id, group.clone());
            let old = st.bot_member(group.id);
            let mut new = member;
            new["user"] = updates::bot_user();
            if new.get("status").and_then(Value::as_str) == Some("kicked") {
                new["until_date"] = json!(0);
                st.chat_failures.insert(
                    group.id,
                    Failure::api(403, "Forbidden: bot was kicked from the supergroup chat"),
                );
            }
            st.chat_members
                .insert((group.id, super::FAKE_BOT_ID), new.clone());
            st.push_update(json!({
                "my_chat_member": updates::my_chat_member_in_group(group, by, old, new)
            }));
        }
        self.updates_changed();
    }

    /// `by` removes the bot from `group`: a `my_chat_member` update (status "kicked"), and every later send
    /// to the group fails with 403 `Forbidden: bot was kicked from the supergroup chat`.
    pub fn remove_bot_from_group(&self, group: &FakeGroup, by: &FakeUser) {
        self.set_bot_membership(group, by, json!({"status": "kicked"}));
    }
}
