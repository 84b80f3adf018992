-- Small per-transport state that must survive restarts (Matrix: the sync token, DM rooms,
-- the numbered menu of the last message with buttons per room).
CREATE TABLE transport_state (
    platform   TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (platform, key)
) WITHOUT ROWID;
