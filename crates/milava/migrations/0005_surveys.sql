-- Feedback surveys (issue 7). The surveys themselves are content (dialogues/surveys/); these tables hold who
-- was invited, progress while answering, and the submitted responses. Timestamps are UTC, RFC 3339 text.

-- The only link between a person and their survey responses: a random pseudonym. /forget deletes this row;
-- the responses stay, unlinkable (and leave the research export).
CREATE TABLE survey_pseudonyms (
    telegram_user_id INTEGER PRIMARY KEY,
    pseudonym        TEXT    NOT NULL UNIQUE,
    created_at       TEXT    NOT NULL
);

-- One invitation per survey, trigger and person (the trigger key as in the outbox key, e.g.
-- 'session:oulu-2024:oulu-2024-2'). Holds the answers while the person answers (resumable); on submission the
-- answers move to survey_responses and only the 'submitted' marker stays here, to refuse a second submission.
CREATE TABLE survey_invitations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id        TEXT    NOT NULL,
    trigger_key      TEXT    NOT NULL,
    telegram_user_id INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('invited', 'answering', 'submitted')),
    answers          TEXT    NOT NULL DEFAULT '{}',   -- JSON: question id -> answer
    current_question TEXT,                            -- the question on screen; NULL: the summary
    invited_at       TEXT    NOT NULL,
    closes_at        TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    UNIQUE (survey_id, trigger_key, telegram_user_id)
);
CREATE INDEX survey_invitations_by_user ON survey_invitations (telegram_user_id, status, updated_at);
CREATE INDEX survey_invitations_by_survey ON survey_invitations (survey_id, trigger_key);

-- How many were invited per survey and trigger (response rates): a count with no person in it, so /forget
-- does not change the rate's denominator while the answer stays.
CREATE TABLE survey_invited_counts (
    survey_id   TEXT    NOT NULL,
    trigger_key TEXT    NOT NULL,
    invited     INTEGER NOT NULL,
    PRIMARY KEY (survey_id, trigger_key)
);

-- Submitted responses. No person here: the pseudonym for ordinary surveys, nothing for anonymous ones (whose
-- research consent is recorded as it was at submission, and whose time is kept to the day only).
CREATE TABLE survey_responses (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id        TEXT    NOT NULL,
    survey_version   INTEGER NOT NULL,
    trigger_key      TEXT    NOT NULL,
    series_id        TEXT,
    session_id       TEXT,
    pseudonym        TEXT,
    research_consent INTEGER CHECK (research_consent IN (0, 1)),
    answers          TEXT    NOT NULL,
    submitted_at     TEXT    NOT NULL
);
CREATE INDEX survey_responses_by_survey ON survey_responses (survey_id, series_id, session_id);

-- Coordinators' /survey rounds: the trigger ('manual:{id}') of a survey sent by hand.
CREATE TABLE survey_rounds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id   TEXT    NOT NULL,
    audience    TEXT    NOT NULL,
    coordinator INTEGER NOT NULL,
    recipients  INTEGER NOT NULL,
    created_at  TEXT    NOT NULL
);
