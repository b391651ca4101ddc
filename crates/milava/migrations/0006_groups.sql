-- Fathers' peer groups in real Telegram groups, and one-to-one digital coaching (issue 8).
-- Timestamps are UTC, stored as RFC 3339 text. The bot stores no message texts of group chats: only which
-- Telegram group is linked to which content group, who it let in, and which prompts it posted.

-- A content group (dialogues/groups.toml) linked to a real Telegram group with /linkgroup.
CREATE TABLE group_links (
    group_id    TEXT    PRIMARY KEY,          -- the content id, e.g. 'oulu-isat-fi'
    chat_id     INTEGER NOT NULL UNIQUE,      -- the Telegram group
    invite_link TEXT,                         -- created with creates_join_request
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),  -- 0: bot removed or lost a right
    paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),  -- facilitators' /pause
    -- The latest schedule slot already handled (prompt posted, or passed while paused/inactive).
    last_slot   TEXT    NOT NULL,
    linked_at   TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- Every prompt a group has had, posted or skipped: a prompt is never posted twice to one group.
CREATE TABLE group_prompts (
    group_id  TEXT NOT NULL,
    prompt_id TEXT NOT NULL,
    outcome   TEXT NOT NULL CHECK (outcome IN ('posted', 'skipped')),
    at        TEXT NOT NULL,
    PRIMARY KEY (group_id, prompt_id)
);

-- Join requests the bot decided (membership only).
CREATE TABLE group_members (
    group_id         TEXT    NOT NULL,
    telegram_user_id INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('approved', 'declined')),
    at               TEXT    NOT NULL,
    PRIMARY KEY (group_id, telegram_user_id)
);

-- A father's weekly coaching: his chosen local weekday and time, and where he is on the path.
CREATE TABLE coaching (
    telegram_user_id INTEGER PRIMARY KEY,
    weekday          INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),   -- 1 = Monday
    minute_of_day    INTEGER NOT NULL CHECK (minute_of_day BETWEEN 0 AND 1439),
    status           TEXT    NOT NULL CHECK (status IN ('active', 'paused', 'stopped')),
    next_step        INTEGER NOT NULL DEFAULT 0,   -- index into dialogues/coaching.toml's steps
    -- The step whose reflection question is open: his next text in private chat is the answer.
    open_step        TEXT,
    -- The latest weekly slot already handled.
    last_slot        TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);

-- A father's reflections: shown only to him (/journal), in /mydata, erased by /forget.
CREATE TABLE coaching_reflections (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_user_id INTEGER NOT NULL,
    step_id          TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    at               TEXT    NOT NULL
);
CREATE INDEX coaching_reflections_user ON coaching_reflections (telegram_user_id, id);
