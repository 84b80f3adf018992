-- Dispatch: offers to guides in waves, and the one assignment that wins a request.

CREATE TABLE offers (
    id             INTEGER PRIMARY KEY,
    request_id     INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    guide_id       INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    wave           INTEGER NOT NULL,
    state          TEXT NOT NULL DEFAULT 'open'
                   CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'withdrawn', 'taken')),
    sent_at        TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    answered_at    TEXT,
    decline_reason TEXT,
    message_id     TEXT,            -- the offer message on the guide's platform, to edit it later
    UNIQUE (request_id, guide_id)
);
CREATE INDEX offers_open_by_expiry ON offers (state, expires_at);
CREATE INDEX offers_by_guide ON offers (guide_id, state);

CREATE TABLE assignments (
    id           INTEGER PRIMARY KEY,
    request_id   INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    guide_id     INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    state        TEXT NOT NULL DEFAULT 'active'
                 CHECK (state IN ('active', 'cancelled_by_guide', 'cancelled_by_newcomer', 'done', 'no_show')),
    assigned_by  INTEGER REFERENCES people (id) ON DELETE SET NULL,  -- a coordinator, when by hand
    created_at   TEXT NOT NULL,
    ended_at     TEXT,
    hours        REAL,
    feedback     TEXT CHECK (feedback IN ('positive', 'negative'))
);
-- A request has at most one active assignment: the database itself forbids a double booking.
CREATE UNIQUE INDEX assignments_one_active ON assignments (request_id) WHERE state = 'active';
CREATE INDEX assignments_by_guide ON assignments (guide_id, state);

-- Requests that found nobody (or are close) and were handed to coordinators.
ALTER TABLE requests ADD COLUMN escalated_at TEXT;
