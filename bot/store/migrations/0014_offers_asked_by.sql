-- An offer a coordinator sent by hand (to a guide matching did not offer the request to) names
-- that coordinator: a decline is reported to them, an accept records them as the assigner.
ALTER TABLE offers ADD COLUMN asked_by INTEGER REFERENCES people (id) ON DELETE SET NULL;
