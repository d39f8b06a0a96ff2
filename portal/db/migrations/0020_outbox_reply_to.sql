-- Where a reply to an email should go (the Reply-To header), for emails that invite one: the
-- portal's From address is a no-reply sender. Empty: no Reply-To header.
ALTER TABLE outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
