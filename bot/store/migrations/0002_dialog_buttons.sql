-- A dialog's current buttons live with its state (token -> value), so showing a step is one
-- write and pressing one needs no extra lookup; button_tokens keeps buttons outside dialogs.
ALTER TABLE dialog_states ADD COLUMN buttons TEXT NOT NULL DEFAULT '{}';
DELETE FROM button_tokens WHERE action = 'dialog';
