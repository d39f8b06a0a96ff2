-- The address an emailed link went to, kept with the link: an answer through it is recorded
-- with the address, so proof shows where the question was sent, not only that it was.
ALTER TABLE links ADD COLUMN sent_to TEXT;
