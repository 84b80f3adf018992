-- Matching reads each candidate's languages, districts and topics.  Folding them in with three
-- correlated group_concat subqueries per guide cost more than the prefilter itself, so every guide
-- row carries them as text, kept current by triggers: the child tables stay the truth, and no code
-- path can forget to update the copy.  Separators: a space (codes have none), the unit separator
-- (char 31) for districts, whose names may contain spaces.
ALTER TABLE guides ADD COLUMN languages_text TEXT;
ALTER TABLE guides ADD COLUMN districts_text TEXT;
ALTER TABLE guides ADD COLUMN topics_text TEXT;

UPDATE guides SET
    languages_text = (SELECT group_concat(language, ' ') FROM guide_languages WHERE guide_id = guides.person_id),
    districts_text = (SELECT group_concat(district, char(31)) FROM guide_districts WHERE guide_id = guides.person_id),
    topics_text = (SELECT group_concat(topic, ' ') FROM guide_topics WHERE guide_id = guides.person_id);

CREATE TRIGGER guide_languages_added AFTER INSERT ON guide_languages BEGIN
    UPDATE guides SET languages_text = (SELECT group_concat(language, ' ') FROM guide_languages
                                        WHERE guide_id = NEW.guide_id) WHERE person_id = NEW.guide_id;
END;
CREATE TRIGGER guide_languages_removed AFTER DELETE ON guide_languages BEGIN
    UPDATE guides SET languages_text = (SELECT group_concat(language, ' ') FROM guide_languages
                                        WHERE guide_id = OLD.guide_id) WHERE person_id = OLD.guide_id;
END;
CREATE TRIGGER guide_districts_added AFTER INSERT ON guide_districts BEGIN
    UPDATE guides SET districts_text = (SELECT group_concat(district, char(31)) FROM guide_districts
                                        WHERE guide_id = NEW.guide_id) WHERE person_id = NEW.guide_id;
END;
CREATE TRIGGER guide_districts_removed AFTER DELETE ON guide_districts BEGIN
    UPDATE guides SET districts_text = (SELECT group_concat(district, char(31)) FROM guide_districts
                                        WHERE guide_id = OLD.guide_id) WHERE person_id = OLD.guide_id;
END;
CREATE TRIGGER guide_topics_added AFTER INSERT ON guide_topics BEGIN
    UPDATE guides SET topics_text = (SELECT group_concat(topic, ' ') FROM guide_topics
                                     WHERE guide_id = NEW.guide_id) WHERE person_id = NEW.guide_id;
END;
CREATE TRIGGER guide_topics_removed AFTER DELETE ON guide_topics BEGIN
    UPDATE guides SET topics_text = (SELECT group_concat(topic, ' ') FROM guide_topics
                                     WHERE guide_id = OLD.guide_id) WHERE person_id = OLD.guide_id;
END;
