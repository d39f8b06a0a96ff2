-- Settings staff edit in the console; an empty value means "the setting's first default".
ALTER TABLE organization ADD COLUMN consent_link_days INTEGER;
ALTER TABLE organization ADD COLUMN provider_answers_keywords INTEGER;

-- Consent wording and the automatic reply texts, versioned: a published version is never
-- edited, a new text is a new row, and the ledger and the outbox keep what each person saw.
-- The first versions ship in the code (consent/wording.py, consent/reply_texts.py).
CREATE TABLE consent_wordings (
    version TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL
);

CREATE TABLE reply_texts (
    id {ID},
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    UNIQUE (kind, language, version)
);
