-- Offers are written in the transaction that confirms the request (or opens the next wave); their
-- messages leave after the commit.  `notified` follows the message like a reminder row does:
-- NULL (not sent yet) -> 'sending' (about to leave) -> 'sent' / 'uncertain' (the platform did not
-- answer; not sent again where it could show it twice) / 'failed'.  A restart sends what is still NULL.
ALTER TABLE offers ADD COLUMN notified TEXT CHECK (notified IN ('sending', 'sent', 'uncertain', 'failed'));
UPDATE offers SET notified = 'sent';

-- The inbox: every incoming update, stored before it is acknowledged to the platform (an update
-- offset, a sync token), handled from here in order per person, and deleted in
-- the transaction that handled it.  `event` is the platform-neutral Event as JSON.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    event_id    TEXT,
    event       TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX inbox_once ON inbox (platform, event_id) WHERE event_id IS NOT NULL;
