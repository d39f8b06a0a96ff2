-- The dashboard's chart reads the last 90 days of the ledger by time, and the proof page
-- reads every event of one number: both through indexes, never a scan of the whole ledger.
CREATE INDEX consent_events_by_time ON consent_events (created_at, id);
