-- Who a mass text skipped, and why, one row per person, so its report can name them later
-- (the counts in mass_texts.skipped_reasons say how many, not who).
CREATE TABLE mass_text_skips (
    id {ID},
    mass_text_id INTEGER NOT NULL REFERENCES mass_texts (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    reason TEXT NOT NULL
);
CREATE INDEX mass_text_skips_by_mass_text ON mass_text_skips (mass_text_id, id);

-- The metrics page counts segments (what the provider bills). Texts queued from now on store
-- their own count; older ones are estimated as GSM-7 (160 in one segment, else 153 each).
ALTER TABLE outbox ADD COLUMN segments INTEGER NOT NULL DEFAULT 1;
UPDATE outbox SET segments = CASE WHEN length(body_text) <= 160 THEN 1
    ELSE (length(body_text) + 152) / 153 END WHERE channel = 'sms';
-- Texts sent per day: a range over sent texts, carrying what the metrics add up.
CREATE INDEX outbox_sent_by_day ON outbox (status, sent_at, channel, template, segments,
    provider_status);
