-- A person who has left is archived, never deleted: their ledger stays forever, and they drop
-- out of lists, searches and sends. The staff search reads names, emails and numbers through
-- these indexes; `phone_last4` keeps the last four digits of the cell phone for lookups.
ALTER TABLE people ADD COLUMN archived_at TEXT;
ALTER TABLE people ADD COLUMN phone_last4 TEXT;
UPDATE people SET phone_last4 = substr(cell_phone, length(cell_phone) - 3)
    WHERE cell_phone IS NOT NULL;
CREATE INDEX people_by_last_name ON people (lower(last_name), lower(first_name), id);
CREATE INDEX people_by_email ON people (lower(email));
CREATE INDEX people_by_last4 ON people (phone_last4);
CREATE INDEX people_by_first_name ON people (lower(first_name), id);
