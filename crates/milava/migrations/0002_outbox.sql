-- The outbox: everything the bot sends on its own initiative (reminders, prompts, invitations, certificates,
-- broadcasts) is a row here, written in the same transaction as the decision to send it, and sent by the one
-- delivery worker (src/delivery/) within Telegram's rate limits. Timestamps are UTC, RFC 3339 text.

CREATE TABLE deliveries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Names the message so that planning it twice stores it once, e.g. 'broadcast:{id}:{user}',
    -- 'reminder:{session}:{user}:{offset}'. Holds while the row exists (see DELIVERY_RETENTION_DAYS).
    idempotency_key     TEXT    NOT NULL UNIQUE,
    chat_id             INTEGER NOT NULL,
    -- The person, when the chat is someone's private chat: marked unreachable on 403, erased by /forget.
    telegram_user_id    INTEGER,
    -- JSON: {"kind":"text","text":…,"buttons":[[…]]} | {"kind":"copy","from_chat_id":…,"message_id":…}
    --     | {"kind":"document","file_name":…,"caption":…} (the bytes are in `document`).
    payload             TEXT    NOT NULL,
    document            BLOB,
    due_at              TEXT    NOT NULL,
    -- Not sent after this (e.g. a reminder once its session has begun): the worker cancels it instead.
    expires_at          TEXT,
    status              TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
    -- Tries that ended in a transient error (network, 5xx); the retry delay grows with it. Flood waits
    -- (429) and crashes do not count.
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    telegram_message_id INTEGER,
    created_at          TEXT    NOT NULL,
    sent_at             TEXT,
    -- Groups rows for progress and cancelling, e.g. a broadcast id.
    batch               TEXT
);
-- The worker: the next due pending row, and the earliest due time to sleep until.
CREATE INDEX deliveries_due ON deliveries (status, due_at, id);
-- Skipping a blocked chat's other rows, moving a migrated group's rows.
CREATE INDEX deliveries_chat ON deliveries (chat_id, status);
-- Progress and cancelling per batch.
CREATE INDEX deliveries_batch ON deliveries (batch, status) WHERE batch IS NOT NULL;
-- /forget.
CREATE INDEX deliveries_user ON deliveries (telegram_user_id) WHERE telegram_user_id IS NOT NULL;

-- Set when Telegram says the user blocked the bot or is gone; cleared when they write to the bot again.
ALTER TABLE users ADD COLUMN unreachable_since TEXT;
