-- Every staff action that is not itself a consent event (consent events are the ledger):
-- settings changed, staff logins made or disabled, families edited, students moved, people
-- archived, imports run, requests sent. Who, what, when, from where; never updated.
CREATE TABLE staff_actions (
    id {ID},
    account_id INTEGER REFERENCES accounts (id),
    action TEXT NOT NULL,
    subject_kind TEXT NOT NULL DEFAULT '',
    subject_id INTEGER,
    details TEXT NOT NULL DEFAULT '{}',
    ip TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX staff_actions_by_time ON staff_actions (created_at, id);
CREATE INDEX staff_actions_by_subject ON staff_actions (subject_kind, subject_id, id);
