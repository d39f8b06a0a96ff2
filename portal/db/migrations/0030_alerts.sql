-- The staff Alerts page: what staff have already looked at, so the count in the navigation
-- shows only what still wants a look.
-- Each opt-out alert (a consent event that opted out or suppressed a number) marked "Seen"
-- by a staff member: one row per event, who and when. The ledger itself is never touched.
CREATE TABLE alert_acknowledgements (
    id {ID},
    event_id INTEGER NOT NULL UNIQUE REFERENCES consent_events (id),
    account_id INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
-- A stop in plain words ("please stop texting me") was treated as an opt-out and flagged for
-- review. Reviewing it records who looked and what they decided ('opt_out': it is one; the
-- "not an opt-out" correction of the person's page records 'not_opt_out'). It changes no
-- consent by itself.
ALTER TABLE inbound_messages ADD COLUMN reviewed_at TEXT;
ALTER TABLE inbound_messages ADD COLUMN reviewed_by INTEGER REFERENCES accounts (id);
ALTER TABLE inbound_messages ADD COLUMN review_outcome TEXT NOT NULL DEFAULT '';
-- A failed or stuck message that staff sent again: when and by whom. A retried message is
-- counted as stuck again only an hour after the retry, not after its first queueing.
ALTER TABLE outbox ADD COLUMN retried_at TEXT;
ALTER TABLE outbox ADD COLUMN retried_by INTEGER REFERENCES accounts (id);
