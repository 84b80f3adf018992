-- An update whose handling committed keeps its inbox row until its replies went out: `replies`
-- holds them (JSON, written in the handling transaction, which is also the moment they start to
-- leave; NULL = not handled yet).  After a crash a restart sends them again where the platform
-- recognises a repeat, and elsewhere does not (they may have arrived; the log says so).
ALTER TABLE inbox ADD COLUMN replies TEXT;
