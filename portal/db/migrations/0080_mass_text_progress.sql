-- A mass text is queued in the background, after the Send answers: its page shows how many of
-- the texts chosen are queued so far, and refreshes itself while `queueing` is 1.
ALTER TABLE mass_texts ADD COLUMN chosen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mass_texts ADD COLUMN queueing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mass_texts ADD COLUMN queue_error TEXT NOT NULL DEFAULT '';
-- Mass texts sent before this were queued inside their Send: all their texts are queued.
UPDATE mass_texts SET chosen = recipients;
