-- Peer groups' facilitators, chosen by coordinators in the web console (issue 21). The shipped
-- dialogues/groups.toml seeds a group's list once (group_facilitators_seeded); after that only coordinators'
-- choices change it, so a release with an older file never overwrites them. The bot's facilitator checks read
-- this table; who added whom is in the audit log. /forget removes the person from every list.
CREATE TABLE group_facilitators (
    group_id         TEXT    NOT NULL,   -- the content id, e.g. 'oulu-isat-fi'
    telegram_user_id INTEGER NOT NULL,
    added_at         TEXT    NOT NULL,
    PRIMARY KEY (group_id, telegram_user_id)
);

-- Groups whose list the shipped file has seeded.
CREATE TABLE group_facilitators_seeded (
    group_id  TEXT PRIMARY KEY,
    seeded_at TEXT NOT NULL
);
