-- Every text a handset sent us, once per MessageSid (Twilio retries; the UNIQUE key makes a
-- retry, even a concurrent one, a no-op). Kept for staff and as evidence.
CREATE TABLE inbound_messages (
    id {ID},
    message_sid TEXT NOT NULL UNIQUE,
    from_phone TEXT NOT NULL,
    to_phone TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    needs_review INTEGER NOT NULL DEFAULT 0,
    opt_out_type TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL
);
CREATE INDEX inbound_messages_by_phone ON inbound_messages (from_phone, id);
