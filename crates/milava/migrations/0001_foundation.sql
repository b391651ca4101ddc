-- Foundation: people who have talked to the bot, registrations, dialogue state, and the coordinators' audit log.
-- Timestamps are UTC, stored as RFC 3339 text.

-- Everyone who has written to the bot: chat and language, even before registering.
CREATE TABLE users (
    telegram_user_id INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    language         TEXT    NOT NULL CHECK (language IN ('fi', 'en')),
    first_seen       TEXT    NOT NULL,
    last_seen        TEXT    NOT NULL
);

-- A completed registration (consent given).
CREATE TABLE participants (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id    INTEGER NOT NULL UNIQUE,
    role                TEXT    NOT NULL CHECK (role IN ('father', 'professional', 'other')),
    name                TEXT    NOT NULL,
    area                TEXT,
    wants               TEXT,
    organisation        TEXT,
    profession          TEXT,
    email               TEXT,
    series_id           TEXT,
    group_id            TEXT,
    privacy_version     TEXT    NOT NULL,
    consent_at          TEXT    NOT NULL,
    research_consent    INTEGER NOT NULL DEFAULT 0 CHECK (research_consent IN (0, 1)),
    research_consent_at TEXT,
    registered_at       TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL
);
CREATE INDEX participants_series ON participants (series_id);

-- Where a user is in a dialogue (registration, editing an answer, confirming /forget).
CREATE TABLE dialogues (
    telegram_user_id INTEGER PRIMARY KEY,
    flow             TEXT NOT NULL,
    step             TEXT NOT NULL,
    answers          TEXT NOT NULL,   -- JSON object: field name -> value
    content_version  TEXT NOT NULL,   -- fingerprint of the flow the state was made with
    updated_at       TEXT NOT NULL
);

-- Coordinators' actions, kept for accountability.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    actor  INTEGER NOT NULL,
    action TEXT    NOT NULL,
    detail TEXT    NOT NULL DEFAULT '',
    at     TEXT    NOT NULL
);
