-- Spanish beside English in what staff write. Each consent wording version gets its Spanish
-- text (staff publish both at once from now on; versions published before this have none, and
-- a Spanish page shows their English, recording that it did). A message template and a mass
-- text may carry a Spanish body: each person gets the body in their saved language, English
-- when there is no Spanish one.
ALTER TABLE consent_wordings ADD COLUMN text_es TEXT;
ALTER TABLE message_templates ADD COLUMN body_es TEXT;
ALTER TABLE mass_texts ADD COLUMN body_es TEXT;
