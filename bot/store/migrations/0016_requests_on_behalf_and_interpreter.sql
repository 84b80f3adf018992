-- Requests a coordinator files for someone without a phone of their own (requests.person_id is the
-- coordinator, who receives what the newcomer would), and requests that need a professional
-- interpreter (a guide is a volunteer, not an interpreter).
--   on_behalf    1 when filed by a coordinator for behalf_name; kept for the statistics.
--   behalf_name  the newcomer's name as the coordinator typed it (personal: cleared with place and note).
--   behalf_phone their phone number for the guide, NULL: "through the coordinator" (personal, likewise).
--   interpreter  1 when the newcomer answered so or a coordinator marked it.
--   referred_at  when the newcomer was sent the referral to the language mediators (at most once).
ALTER TABLE requests ADD COLUMN on_behalf INTEGER NOT NULL DEFAULT 0 CHECK (on_behalf IN (0, 1));
ALTER TABLE requests ADD COLUMN behalf_name TEXT;
ALTER TABLE requests ADD COLUMN behalf_phone TEXT;
ALTER TABLE requests ADD COLUMN interpreter INTEGER NOT NULL DEFAULT 0 CHECK (interpreter IN (0, 1));
ALTER TABLE requests ADD COLUMN referred_at TEXT;
