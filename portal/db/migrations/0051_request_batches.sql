-- Bulk opt-in requests sent by staff (the CLICK HERE email to everyone a filter chose), run in
-- the background in batches of about 200 people per write transaction. Each batch's emails,
-- its people's outcomes and the progress below are written in one transaction, so a batch is
-- either wholly recorded or not at all, and `resume_after` (the keyset position of the last
-- person processed) is where an interrupted send would carry on.
CREATE TABLE request_batches (
    id {ID},
    criteria TEXT NOT NULL,
    -- One per preview page: a second click of the same Send finds this row, not a new batch.
    send_token TEXT NOT NULL UNIQUE,
    total INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    skipped_reasons TEXT NOT NULL DEFAULT '{}',
    resume_after TEXT,
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    error TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX request_batches_by_status ON request_batches (status, id);

-- Who each batch emailed, and who it skipped and why (reason NULL: the email was queued).
CREATE TABLE request_batch_people (
    batch_id INTEGER NOT NULL REFERENCES request_batches (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    reason TEXT,
    PRIMARY KEY (batch_id, person_id)
);
