-- Why a coordinator rejected a registration, in their words (the guide reads it); NULL when they
-- gave none and after any other decision.  Erasure sets it to NULL (bot/store/privacy_map.py).
ALTER TABLE guides ADD COLUMN decision_reason TEXT;
