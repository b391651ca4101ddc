-- Coordinators' broadcasts. The messages themselves are outbox rows (batch 'broadcast:{id}'); this table holds
-- the draft, the audience, the schedule and the progress message that is edited in place.
CREATE TABLE broadcasts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    coordinator    INTEGER NOT NULL,
    -- Where the draft is: choosing the audience, waiting for the message, confirming, or waiting for a time.
    step           TEXT    NOT NULL CHECK (step IN ('audience', 'message', 'confirm', 'time', 'done')),
    status         TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'done', 'cancelled')),
    audience       TEXT,
    source_chat    INTEGER,
    source_message INTEGER,
    send_at        TEXT,
    recipients     INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    confirmed_at   TEXT,
    finished_at    TEXT
);
CREATE INDEX broadcasts_by_status ON broadcasts (status, coordinator);

-- Participants can turn programme announcements off (/announcements).
ALTER TABLE users ADD COLUMN announcements INTEGER NOT NULL DEFAULT 1;
