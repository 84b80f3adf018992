-- People: one row per (platform, platform user id).  Before consent only what is needed to hold
-- a conversation is kept (ids, chosen language, dialog state); the display name comes with consent.
CREATE TABLE people (
    id               INTEGER PRIMARY KEY,
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    language         TEXT,
    display_name     TEXT,
    role             TEXT CHECK (role IN ('newcomer', 'guide')),
    consent_version  TEXT,
    consent_at       TEXT,
    declined_at      TEXT,
    unreachable_at   TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (platform, platform_user_id)
);

-- The one dialog a person is in, persisted after every step so a restart resumes it.
CREATE TABLE dialog_states (
    person_id  INTEGER PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    dialog     TEXT NOT NULL,
    instance   TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL
);

-- Opaque button tokens: the meaning of a button stays here, the platform sees only `token`.
CREATE TABLE button_tokens (
    token      TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    action     TEXT NOT NULL,
    scope      TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL DEFAULT 'null',
    created_at TEXT NOT NULL
);
CREATE INDEX button_tokens_person ON button_tokens (person_id, action);

-- Platform event ids already handled (a redelivered update is ignored).
CREATE TABLE processed_events (
    platform   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (platform, event_id)
) WITHOUT ROWID;
CREATE INDEX processed_events_time ON processed_events (handled_at);
