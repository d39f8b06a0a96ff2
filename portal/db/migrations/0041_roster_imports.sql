-- Roster files uploaded in the staff console, kept server-side between the dry run and the
-- import (the browser only ever holds the id), and the import jobs that run them in the
-- background with their progress and report. `data` is the file's bytes in base64, so the
-- same text column works on SQLite and PostgreSQL, and `sha256` is of those exact bytes.
CREATE TABLE pending_imports (
    id {ID},
    data TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL
);

CREATE TABLE import_jobs (
    id {ID},
    pending_import_id INTEGER NOT NULL REFERENCES pending_imports (id),
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'refused', 'failed')),
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '{}',
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX import_jobs_by_status ON import_jobs (status, id);
