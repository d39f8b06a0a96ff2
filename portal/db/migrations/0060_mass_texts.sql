-- Texts staff send to one person, a family or a group chosen by the People filters. One row
-- per Send; its texts are outbox rows tagged with its id, queued a few hundred per write
-- transaction. Consent is asked again by the dispatcher when each text goes out (rule 2).
CREATE TABLE mass_texts (
    id {ID},
    body TEXT NOT NULL,
    criteria TEXT NOT NULL,
    -- One per preview page: a second click of the same Send finds this row, not a new one.
    send_token TEXT NOT NULL UNIQUE,
    urgent INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'scheduled', 'cancelled')),
    scheduled_for TEXT,
    recipients INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    skipped_reasons TEXT NOT NULL DEFAULT '{}',
    cancelled_texts INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX mass_texts_newest ON mass_texts (id);

ALTER TABLE outbox ADD COLUMN mass_text_id INTEGER REFERENCES mass_texts (id);
CREATE INDEX outbox_by_mass_text ON outbox (mass_text_id, status);
-- A person's page lists the texts sent to their number.
CREATE INDEX outbox_by_recipient ON outbox (recipient, id);
