-- Every staff page counts the open alerts in its navigation: these partial indexes hold only
-- the rows that can be alerts, so the count reads the opt-outs and the plain-words stops
-- still to review, never the whole ledger or every received text.
CREATE INDEX consent_events_opt_outs ON consent_events (id)
    WHERE new_status IN ('opted_out', 'suppressed');
CREATE INDEX inbound_messages_to_review ON inbound_messages (id)
    WHERE needs_review = 1 AND reviewed_at IS NULL;
