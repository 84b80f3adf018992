-- Matching starts from the weekly slot covering the appointment: with guide_id in the index the
-- prefilter reads the index alone instead of looking up every slot row.
CREATE INDEX guide_slots_covering ON guide_slots (weekday, start_minute, end_minute, guide_id);
DROP INDEX guide_slots_by_weekday;
