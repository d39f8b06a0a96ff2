-- Who a mass text skipped, and why, one row per person, so its report can name them later
-- (the counts in mass_texts.skipped_reasons say how many, not who).
CREATE TABLE mass_text_skips (
    id {ID},
    mass_text_id INTEGER NOT NULL REFERENCES mass_texts (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    reason TEXT NOT NULL
);
CREATE INDEX mass_text_skips_by_mass_text ON mass_text_skips (mass_text_id, id);
