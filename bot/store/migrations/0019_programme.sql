-- The funding programme's rules (bot/services/programme.py).
-- A guide a coordinator marks as also coordinating has the higher caps; one marked as receiving
-- benefits (Asylbewerberleistungen, Bürgergeld) has a monthly limit on the allowance.  Only that
-- guide and the coordinators see the benefits mark (sensitive: it tells their social situation).
ALTER TABLE guides ADD COLUMN coordinating INTEGER NOT NULL DEFAULT 0 CHECK (coordinating IN (0, 1));
ALTER TABLE guides ADD COLUMN benefits INTEGER NOT NULL DEFAULT 0 CHECK (benefits IN (0, 1));

-- Every correction of an assignment's hours by a coordinator: who, when, old → new, why.  The
-- accounts rest on it, so it is kept as long as they are.
CREATE TABLE hours_corrections (
    id            INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES assignments (id) ON DELETE RESTRICT,
    corrected_by  INTEGER REFERENCES people (id) ON DELETE SET NULL,
    corrected_at  TEXT NOT NULL,
    old_hours     REAL,
    new_hours     REAL NOT NULL CHECK (new_hours >= 0),
    reason        TEXT NOT NULL
);
CREATE INDEX hours_corrections_assignment ON hours_corrections (assignment_id, id);

-- The warnings at 80 % and 95 % of the yearly cap, sent once per guide, year and level.
CREATE TABLE cap_warnings (
    guide_id INTEGER NOT NULL REFERENCES guides (person_id) ON DELETE CASCADE,
    year     INTEGER NOT NULL,
    level    REAL NOT NULL,
    sent_at  TEXT NOT NULL,
    PRIMARY KEY (guide_id, year, level)
) WITHOUT ROWID;
