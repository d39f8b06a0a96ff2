-- SQLite cannot alter a CHECK: copy the outbox into a table with the new one. Nothing
-- references outbox, so dropping the old table breaks no foreign key.
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    template TEXT NOT NULL,
    recipient TEXT NOT NULL,
    person_id INTEGER REFERENCES people (id),
    subject TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL UNIQUE,
    requires_consent INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed', 'blocked', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    provider_id TEXT,
    provider_status TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    reply_to TEXT NOT NULL DEFAULT '',
    retried_at TEXT,
    retried_by INTEGER REFERENCES accounts (id),
    mass_text_id INTEGER REFERENCES mass_texts (id)
);
INSERT INTO outbox_new (id, channel, template, recipient, person_id, subject, body_text,
    body_html, message_id, requires_consent, status, attempts, next_attempt_at, lease_owner,
    lease_until, last_error, provider_id, provider_status, created_at, sent_at, reply_to,
    retried_at, retried_by, mass_text_id)
SELECT id, channel, template, recipient, person_id, subject, body_text, body_html,
    message_id, requires_consent, status, attempts, next_attempt_at, lease_owner, lease_until,
    last_error, provider_id, provider_status, created_at, sent_at, reply_to, retried_at,
    retried_by, mass_text_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_mass_text ON outbox (mass_text_id, status);
CREATE INDEX outbox_by_recipient ON outbox (recipient, id);
