-- The programme lives here: coordinators edit it (src/services/season.rs), and the shipped
-- dialogues/programme.toml only seeds the series this database has never seen (by series id), so a release with
-- an older file never overwrites or brings back what coordinators changed. Local wall times (BOT_TIMEZONE) are
-- text like 2027-03-10T09:00:00; localized texts are JSON {"fi": …, "en": …}.
CREATE TABLE season_series (
    id                       TEXT    PRIMARY KEY,
    position                 INTEGER NOT NULL,   -- the order series are offered in
    code                     TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    area                     TEXT    NOT NULL,
    capacity                 INTEGER,
    waitlist                 INTEGER NOT NULL DEFAULT 0,
    certificate_min_sessions INTEGER,
    registration_opens       TEXT,
    registration_closes      TEXT,
    place                    TEXT,
    updated_at               TEXT    NOT NULL,
    updated_by               INTEGER NOT NULL    -- a coordinator's Telegram id; 0 when seeded from the file
);

-- A cancelled session stays (cancelled_at set): its id is never given to another session and never comes back.
CREATE TABLE season_sessions (
    id           TEXT    PRIMARY KEY,
    series_id    TEXT    NOT NULL REFERENCES season_series (id),
    starts       TEXT    NOT NULL,
    ends         TEXT    NOT NULL,
    place        TEXT,
    online       INTEGER NOT NULL DEFAULT 0,
    link         TEXT,
    title        TEXT    NOT NULL,
    theme        TEXT,
    cancelled_at TEXT,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX season_sessions_by_series ON season_sessions (series_id, starts);

-- Every series the shipped file ever gave this database: it is seeded once and never again.
CREATE TABLE season_seeded (
    series_id TEXT PRIMARY KEY,
    seeded_at TEXT NOT NULL
);

-- The programme's last day, every value it has had (the newest is in force). Fathers and others are erased
-- when the earliest end stated since their consent is over: moving the end later never keeps anyone longer
-- than the privacy notice they accepted said. The first row is seeded from content.toml `programme_ends`.
CREATE TABLE season_ends (
    set_at TEXT    NOT NULL,
    ends   TEXT    NOT NULL,
    set_by INTEGER NOT NULL
);

-- Counts every saved change, so that content built from an older state never replaces a newer one.
CREATE TABLE season_revision (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    revision INTEGER NOT NULL
);
INSERT INTO season_revision (only_row, revision) VALUES (1, 0);
