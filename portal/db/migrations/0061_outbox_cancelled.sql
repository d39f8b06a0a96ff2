-- A text of a cancelled mass text that had not gone out is 'cancelled'. Changing a CHECK
-- needs each dialect's own statement (SQLite rebuilds the table): see the two files beside.
SELECT 1;
