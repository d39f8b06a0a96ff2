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
