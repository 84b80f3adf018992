-- Reminders and follow-ups.  A reminder is a row: the scheduler keeps only the next few hours of
-- them in memory.  pending -> claimed (one conditional UPDATE: nobody else sends it) -> sending (the
-- message is about to leave) -> sent; see bot/services/reminders.py for what a restart does with
-- rows left claimed or sending.

-- The guide's follow-up answer "it was cancelled" needs its own assignment state, and the
-- newcomer's feedback may carry a comment: SQLite cannot change a CHECK constraint, so the table is
-- rebuilt (nothing references assignments yet; reminders below are the first).
CREATE TABLE assignments_new (
    id               INTEGER PRIMARY KEY,
    request_id       INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    guide_id         INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'active'
                     CHECK (state IN ('active', 'cancelled_by_guide', 'cancelled_by_newcomer', 'done', 'no_show',
                                      'cancelled_late')),
    assigned_by      INTEGER REFERENCES people (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    ended_at         TEXT,
    hours            REAL,
    feedback         TEXT CHECK (feedback IN ('positive', 'negative')),
    feedback_comment TEXT
);
INSERT INTO assignments_new (id, request_id, guide_id, state, assigned_by, created_at, ended_at, hours, feedback)
    SELECT id, request_id, guide_id, state, assigned_by, created_at, ended_at, hours, feedback FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;
CREATE UNIQUE INDEX assignments_one_active ON assignments (request_id) WHERE state = 'active';
CREATE INDEX assignments_by_guide ON assignments (guide_id, state);

CREATE TABLE reminders (
    id             INTEGER PRIMARY KEY,
    assignment_id  INTEGER NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    person_id      INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- before: ahead of the appointment, offset_minutes before its start;
    -- followup: after its end (the guide: did it take place? the newcomer: feedback).
    kind           TEXT NOT NULL CHECK (kind IN ('before', 'followup')),
    offset_minutes INTEGER NOT NULL DEFAULT 0,
    due_at         TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'claimed', 'sending', 'sent', 'uncertain', 'skipped', 'failed')),
    claimed_at     TEXT,
    done_at        TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (assignment_id, person_id, kind, offset_minutes)
);
-- The scheduler's question: which pending rows fall due before <horizon>?
CREATE INDEX reminders_pending_by_due ON reminders (due_at) WHERE state = 'pending';
