-- Requests of newcomers and profiles of guides, normalized so matching can filter in SQL by
-- language, district and weekday.  Times in UTC; weekly slots in local minutes after midnight.

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY,
    person_id        INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    topic            TEXT NOT NULL,
    starts_at        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    district         TEXT NOT NULL,
    place            TEXT,
    preferred_gender TEXT CHECK (preferred_gender IN ('female', 'male')),
    note             TEXT,
    state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'matched', 'cancelled', 'done')),
    created_at       TEXT NOT NULL,
    cancelled_at     TEXT
);
CREATE INDEX requests_person ON requests (person_id, state);
CREATE INDEX requests_state_time ON requests (state, starts_at);

CREATE TABLE request_languages (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    position   INTEGER NOT NULL,  -- 0 = the newcomer's first language
    PRIMARY KEY (request_id, language)
) WITHOUT ROWID;

CREATE TABLE guides (
    person_id          INTEGER PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    state              TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'approved', 'rejected', 'suspended')),
    weekly_max         INTEGER NOT NULL CHECK (weekly_max BETWEEN 1 AND 20),
    gender             TEXT CHECK (gender IN ('female', 'male', 'diverse')),
    all_districts      INTEGER NOT NULL DEFAULT 0,
    paused_from        TEXT,      -- local date; paused_until NULL with paused_from set: until resume
    paused_until       TEXT,
    training_on        TEXT,
    pledge_on          TEXT,
    police_certificate_on TEXT,
    registered_at      TEXT NOT NULL,
    decided_at         TEXT,
    decided_by         INTEGER REFERENCES people (id) ON DELETE SET NULL
);
CREATE INDEX guides_state ON guides (state);

CREATE TABLE guide_languages (
    guide_id INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    PRIMARY KEY (guide_id, language)
) WITHOUT ROWID;
CREATE INDEX guide_languages_by_language ON guide_languages (language, guide_id);

CREATE TABLE guide_districts (
    guide_id INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    district TEXT NOT NULL,
    PRIMARY KEY (guide_id, district)
) WITHOUT ROWID;
CREATE INDEX guide_districts_by_district ON guide_districts (district, guide_id);

CREATE TABLE guide_topics (
    guide_id INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    topic    TEXT NOT NULL,
    PRIMARY KEY (guide_id, topic)
) WITHOUT ROWID;

CREATE TABLE guide_slots (
    id           INTEGER PRIMARY KEY,
    guide_id     INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    weekday      INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute)
);
CREATE INDEX guide_slots_by_weekday ON guide_slots (weekday, start_minute, end_minute);
CREATE INDEX guide_slots_by_guide ON guide_slots (guide_id);
