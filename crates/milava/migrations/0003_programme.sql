-- Workshop programme: who takes part in which series, reminder preferences, attendance, and the programme as
-- last announced (to notice moved or cancelled sessions after a content change).

-- Membership of a series: enrolled, waiting for a place, offered a freed place (until offered_until), or left.
CREATE TABLE enrolments (
    telegram_user_id INTEGER NOT NULL,
    series_id        TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('enrolled', 'waitlisted', 'offered', 'left')),
    offered_until    TEXT,
    queued_at        TEXT    NOT NULL,   -- waitlist order
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (telegram_user_id, series_id)
);
CREATE INDEX enrolments_by_series ON enrolments (series_id, status, queued_at);

-- Reminder preferences: off entirely, or only some offsets (JSON list of offset ids; NULL = all).
ALTER TABLE users ADD COLUMN reminders_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN reminder_offsets TEXT;

-- Attendance: checked in by the person during the session, or marked by a coordinator.
CREATE TABLE attendance (
    session_id       TEXT    NOT NULL,
    telegram_user_id INTEGER NOT NULL,
    marked_at        TEXT    NOT NULL,
    marked_by        INTEGER NOT NULL,
    PRIMARY KEY (session_id, telegram_user_id)
);

-- Each session as participants were last told about it.
CREATE TABLE session_snapshots (
    session_id TEXT PRIMARY KEY,
    series_id  TEXT    NOT NULL,
    title      TEXT    NOT NULL,   -- JSON {fi, en}
    starts_at  TEXT    NOT NULL,
    ends_at    TEXT    NOT NULL,
    place      TEXT,               -- JSON {fi, en} or NULL
    online     INTEGER NOT NULL,
    link       TEXT
);

-- Decisions the scheduler takes once (e.g. "certificates of series X sent").
CREATE TABLE scheduler_marks (
    key     TEXT PRIMARY KEY,
    done_at TEXT NOT NULL
);
