-- Whether the person's email address is one they own: set by themselves, by staff or by an
-- import. An address another family member typed in for them is not, until they confirm it,
-- and consent requests and portal invitations never go to such an address (DESIGN.md rule 4).
-- Addresses already on file came from staff, imports or the people themselves.
ALTER TABLE people ADD COLUMN email_confirmed INTEGER NOT NULL DEFAULT 1;
