-- foreign_keys: off
-- (the first line: bot/store/migrations.py runs this file with foreign keys off, so rebuilding
-- requests and assignments below does not cascade into offers, request_languages and reminders;
-- PRAGMA foreign_key_check must find nothing before the COMMIT.)

-- Privacy and data rights.  An erased person's row stays, anonymised (erased_at set), so records
-- that must be kept (a guide's hours for the Träger's accounts) keep their foreign keys.
ALTER TABLE people ADD COLUMN erased_at TEXT;
-- When an inactive person was asked whether Lotse may keep their data.
ALTER TABLE people ADD COLUMN retention_asked_at TEXT;

-- Every consent decision, not only the last one: what was agreed to (the notice version), declined
-- or withdrawn, and when.
CREATE TABLE consents (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    version   TEXT,
    action    TEXT NOT NULL CHECK (action IN ('agreed', 'declined', 'withdrawn')),
    at        TEXT NOT NULL
);
CREATE INDEX consents_person ON consents (person_id);
INSERT INTO consents (person_id, version, action, at)
    SELECT person_id, version, action, at FROM (
        SELECT id AS person_id, consent_version AS version, 'agreed' AS action, consent_at AS at
            FROM people WHERE consent_at IS NOT NULL
        UNION ALL
        SELECT id, NULL, 'declined', declined_at FROM people WHERE declined_at IS NOT NULL
    ) ORDER BY at, person_id;

-- Requests and assignments outlive the erasure of the people in them (anonymised): deleting a
-- person, a guide or a request they belong to must fail (RESTRICT) instead of deleting them.  SQLite
-- cannot change a foreign key, so both tables are rebuilt with every other column, constraint,
-- default and index as before (0004, 0005, 0008).
CREATE TABLE requests_new (
    id               INTEGER PRIMARY KEY,
    person_id        INTEGER NOT NULL REFERENCES people (id) ON DELETE RESTRICT,
    topic            TEXT NOT NULL,
    starts_at        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    district         TEXT NOT NULL,
    place            TEXT,
    preferred_gender TEXT CHECK (preferred_gender IN ('female', 'male')),
    note             TEXT,
    state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'matched', 'cancelled', 'done')),
    created_at       TEXT NOT NULL,
    cancelled_at     TEXT,
    escalated_at     TEXT
);
INSERT INTO requests_new (id, person_id, topic, starts_at, duration_minutes, district, place, preferred_gender,
                          note, state, created_at, cancelled_at, escalated_at)
    SELECT id, person_id, topic, starts_at, duration_minutes, district, place, preferred_gender,
           note, state, created_at, cancelled_at, escalated_at FROM requests;
DROP TABLE requests;
ALTER TABLE requests_new RENAME TO requests;
CREATE INDEX requests_person ON requests (person_id, state);
CREATE INDEX requests_state_time ON requests (state, starts_at);

CREATE TABLE assignments_new (
    id               INTEGER PRIMARY KEY,
    request_id       INTEGER NOT NULL REFERENCES requests (id) ON DELETE RESTRICT,
    guide_id         INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE RESTRICT,
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
INSERT INTO assignments_new (id, request_id, guide_id, state, assigned_by, created_at, ended_at, hours, feedback,
                             feedback_comment)
    SELECT id, request_id, guide_id, state, assigned_by, created_at, ended_at, hours, feedback,
           feedback_comment FROM assignments;
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;
CREATE UNIQUE INDEX assignments_one_active ON assignments (request_id) WHERE state = 'active';
CREATE INDEX assignments_by_guide ON assignments (guide_id, state);
