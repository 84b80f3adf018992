-- A photo or file passed on through the relay (a letter from the office): Lotse keeps only the
-- platform's reference to it until it is delivered (the bytes are fetched from the sender's
-- platform and sent on, never stored); the caption is the body ('' without one).
ALTER TABLE relay_messages ADD COLUMN file_ref TEXT;       -- the sender's platform's id or url of it
ALTER TABLE relay_messages ADD COLUMN file_name TEXT;
ALTER TABLE relay_messages ADD COLUMN file_type TEXT;      -- its MIME type
ALTER TABLE relay_messages ADD COLUMN file_platform TEXT;  -- where to fetch it from
