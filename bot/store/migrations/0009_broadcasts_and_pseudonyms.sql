-- Broadcasts: a coordinator's notice becomes an outbox, one row per recipient, drained by the
-- broadcast sender under each platform's rate limit.  A row is claimed (pending -> claimed) by one
-- conditional UPDATE, marked 'sending' right before its one send, and marked sent with the
-- platform's message id right after.  At start a row found 'claimed' never left and is pending
-- again; one found 'sending' may have arrived: 'uncertain' (at most once: not sent again, the
-- coordinator's report counts it) unless its platform recognises a repeat (Matrix), where it is
-- sent again under the same transaction id.

CREATE TABLE broadcasts (
    id             INTEGER PRIMARY KEY,
    coordinator_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
    audience       TEXT NOT NULL CHECK (audience IN ('guides', 'newcomers', 'everyone')),
    languages      TEXT NOT NULL DEFAULT '',   -- spoken-language codes narrowing the audience, space separated
    districts      TEXT NOT NULL DEFAULT '',   -- district names, separated by char(31)
    -- sending -> done (no row left to send) -> reported (the coordinator has the report)
    state          TEXT NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'done', 'reported')),
    progress_id    TEXT,                       -- the coordinator's progress message, edited as it goes
    created_at     TEXT NOT NULL,
    finished_at    TEXT
);

-- The text: language '' is the default version, others are versions for people reading that language.
CREATE TABLE broadcast_texts (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    language     TEXT NOT NULL,
    text         TEXT NOT NULL,
    PRIMARY KEY (broadcast_id, language)
) WITHOUT ROWID;

CREATE TABLE broadcast_outbox (
    id           INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    platform     TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'claimed', 'sending', 'sent', 'failed', 'unreachable', 'skipped',
                                   'uncertain')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT,                         -- a retry waits until then (backoff, retry_after)
    message_id   TEXT,
    error        TEXT,
    updated_at   TEXT,
    UNIQUE (broadcast_id, person_id)
);
CREATE INDEX broadcast_outbox_queue ON broadcast_outbox (platform, state, broadcast_id, id);
CREATE INDEX broadcast_outbox_by_broadcast ON broadcast_outbox (broadcast_id, state);

-- Secrets Lotse makes for itself, e.g. the key of the guides' pseudonyms in exports
-- ("G-" + a short HMAC of the guide's id: stable across exports, not reversible without the key).
CREATE TABLE app_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO app_secrets (name, value) VALUES ('pseudonym_key', lower(hex(randomblob(32))));
