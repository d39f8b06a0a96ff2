-- Texts staff save to start a mass text from: a name and a body with the same placeholders
-- ({first_name}, {organization}) and the same checks as a composed text.
CREATE TABLE message_templates (
    id {ID},
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Lists staff name and fill (from a People search or a person's page) to text later. A
-- member is only chosen: whether they may be texted is asked at preview and at send (rule 2).
CREATE TABLE saved_lists (
    id {ID},
    name TEXT NOT NULL,
    created_by INTEGER REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE TABLE saved_list_members (
    list_id INTEGER NOT NULL REFERENCES saved_lists (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, person_id)
);
