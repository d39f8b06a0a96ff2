-- What a staff login may do: 'admin' (everything, settings and staff logins included),
-- 'texting' (consent changes, blocks, requests and texts) or 'viewer' (read only). Family
-- logins have none. Staff created before roles existed were admins.
ALTER TABLE accounts ADD COLUMN staff_role TEXT NOT NULL DEFAULT '';
UPDATE accounts SET staff_role = 'admin' WHERE role = 'staff';
