-- The coordinators' web console (src/console/): one-time sign-in links and browser sessions.
-- Neither table keeps a secret: a link's token and a session's id are stored only as SHA-256 hashes (hex), so a
-- copy of the database opens no console. Coordinators are never erased, so these rows name them by
-- `coordinator_id` (not `telegram_user_id`, which marks a participant's personal rows).

-- A link sent by `/admin`: works once (`used_at`), until `expires_at` (10 minutes).
CREATE TABLE console_links (
    token_hash     TEXT    PRIMARY KEY,
    coordinator_id INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    used_at        TEXT
);

-- A signed-in browser: ends after 8 hours without a request (`last_seen_at`) or on sign-out (row deleted).
-- `csrf` is the token every form of this session must carry.
CREATE TABLE console_sessions (
    id_hash        TEXT    PRIMARY KEY,
    coordinator_id INTEGER NOT NULL,
    csrf           TEXT    NOT NULL,
    lang           TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    last_seen_at   TEXT    NOT NULL
);
CREATE INDEX console_sessions_coordinator ON console_sessions (coordinator_id);
