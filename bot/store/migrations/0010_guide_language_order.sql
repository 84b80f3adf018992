-- A guide's languages keep the order they were chosen in (their first language first), as the
-- newcomer's do: "Leila (Arabic, French, German)", not alphabetical by code.  Existing rows keep
-- position 0 and read alphabetically until the profile is saved again.
ALTER TABLE guide_languages ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
