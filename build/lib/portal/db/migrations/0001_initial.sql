-- The first schema: organization, families, people, logins, sessions, the consent ledger,
-- current consent state, phone suppressions, signed links, the outbox and login throttling.
-- Portable SQL: {ID} becomes each dialect's auto-increment key; times are ISO-8601 UTC text.

CREATE TABLE organization (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);

CREATE TABLE families (
    id {ID},
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Contacts (adults) and students of a family: the subjects of consent.
CREATE TABLE people (
    id {ID},
    family_id INTEGER NOT NULL REFERENCES families (id),
    kind TEXT NOT NULL CHECK (kind IN ('contact', 'student')),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    cell_phone TEXT,
    is_account_holder INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_by_family ON people (family_id, kind, id);
CREATE INDEX people_by_phone ON people (cell_phone);

CREATE TABLE accounts (
    id {ID},
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('family', 'staff')),
    person_id INTEGER UNIQUE REFERENCES people (id),
    display_name TEXT NOT NULL,
    can_text INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

-- The cookie holds a random id; only its SHA-256 is stored, so a copy of the database
-- cannot be used to log in.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_account ON sessions (account_id);

-- The append-only ledger. Nothing updates or deletes a row (triggers enforce it); a
-- correction is a new event. person_id is empty for number-wide events (a STOP from a number
-- nobody has yet).
CREATE TABLE consent_events (
    id {ID},
    person_id INTEGER REFERENCES people (id),
    phone TEXT,
    old_status TEXT,
    new_status TEXT NOT NULL,
    channel TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_account_id INTEGER REFERENCES accounts (id),
    actor_person_id INTEGER REFERENCES people (id),
    actor_label TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '{}',
    wording_version TEXT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX consent_events_by_person ON consent_events (person_id, id);
CREATE INDEX consent_events_by_phone ON consent_events (phone, id);

-- Current state, derived from the ledger and written in the same transaction as each event.
-- version counts changes: a link issued at an older version is stale.
CREATE TABLE consent_state (
    person_id INTEGER PRIMARY KEY REFERENCES people (id),
    status TEXT NOT NULL CHECK (status IN ('none', 'pending', 'opted_in', 'opted_out')),
    phone TEXT,
    version INTEGER NOT NULL,
    last_event_id INTEGER REFERENCES consent_events (id),
    updated_at TEXT NOT NULL
);

-- A number that replied STOP (or that the carrier reports as stopped). Only START from that
-- number makes it inactive again.
CREATE TABLE phone_suppressions (
    phone TEXT PRIMARY KEY,
    active INTEGER NOT NULL,
    source TEXT NOT NULL,
    last_event_id INTEGER REFERENCES consent_events (id),
    updated_at TEXT NOT NULL
);

-- Server-side state of every emailed link; the signed token carries only the opaque id.
CREATE TABLE links (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    person_id INTEGER REFERENCES people (id),
    account_id INTEGER REFERENCES accounts (id),
    phone TEXT,
    consent_version INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    answer TEXT
);
CREATE INDEX links_by_person ON links (person_id, purpose);

-- Email and texts, written in the same transaction as the change they tell of.
CREATE TABLE outbox (
    id {ID},
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
        CHECK (status IN ('pending', 'sent', 'failed', 'blocked')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    provider_id TEXT,
    provider_status TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Recent failed logins, per account email and per client address.
CREATE TABLE throttle_hits (
    id {ID},
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX throttle_hits_by_key ON throttle_hits (key, at);
