-- An update whose handling committed keeps its inbox row until its replies went out: `replies`
-- holds them (JSON, written in the handling transaction; NULL = not handled yet), `sending` is set
-- just before they leave.  After a crash a restart sends what was handled but not sent, and does
-- not send again what may have arrived (`sending`), except where the platform recognises a repeat.
ALTER TABLE inbox ADD COLUMN replies TEXT;
ALTER TABLE inbox ADD COLUMN sending INTEGER NOT NULL DEFAULT 0;
