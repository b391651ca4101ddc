-- Email as a second channel of the outbox (src/delivery/email.rs): a row's channel says which sender takes it.
-- An email row's payload is {"kind":"email","to":…,"subject":…,"body":…,"file_name":…} with the attachment's
-- bytes in `document`; `chat_id` and `telegram_user_id` still name the person (for /forget and /mydata), but a
-- Telegram block never skips their email rows. Idempotency keys, statuses, retries and the crash rule are the
-- outbox's own.
ALTER TABLE deliveries ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram'
    CHECK (channel IN ('telegram', 'email'));
-- The worker's email lane: the next due email row.
CREATE INDEX deliveries_channel_due ON deliveries (channel, status, due_at, id);
-- A professional's choice (in /reminders) to get session reminders by email as well as in the chat.
ALTER TABLE users ADD COLUMN email_reminders INTEGER NOT NULL DEFAULT 0;
