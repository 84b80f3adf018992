-- Messages between a newcomer and their guide, relayed by Lotse (handlers/relay.py): neither side
-- sees the other's platform account.  A row is written before it is delivered; its text is kept
-- while the conversation is open (a report needs it) and deleted when it closes — a reported
-- conversation's once a coordinator decided (bot/store/privacy_map.py).
CREATE TABLE relay_messages (
    id           INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    sender_id    INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    recipient_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    phrase       TEXT,             -- a phrase's code (read in the recipient's language), or NULL
    body         TEXT,             -- typed text; with a phrase, the value it names (a meeting point)
    language     TEXT,             -- the language it was probably written in: the sender's
    -- pending: stored, not yet on the wire; sending: leaving (a crash leaves it uncertain: never sent
    -- twice where the platform cannot recognise a repeat); sent; failed (the sender was told)
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    created_at   TEXT NOT NULL,
    sent_at      TEXT,
    reported_at  TEXT,             -- someone reported it to the coordinators …
    decided_at   TEXT,             -- … and one of them decided
    CHECK (phrase IS NOT NULL OR body IS NOT NULL)
);
CREATE INDEX relay_messages_assignment ON relay_messages (assignment_id, id);
CREATE INDEX relay_messages_people ON relay_messages (sender_id, recipient_id);
CREATE INDEX relay_messages_state ON relay_messages (state) WHERE state IN ('pending', 'sending');

-- Where the guide proposes to meet when the newcomer gave no place (relayed to the newcomer,
-- carried by the reminders), and when a coordinator closed the conversation early.
ALTER TABLE assignments ADD COLUMN meeting_point TEXT;
ALTER TABLE assignments ADD COLUMN relay_closed_at TEXT;
