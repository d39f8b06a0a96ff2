-- The staff console lists families by name, searched by its beginning and paged by keyset
-- (lower(name), id), so the list stays fast however many families there are.
CREATE INDEX families_by_name ON families (lower(name), id);
