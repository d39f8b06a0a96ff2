-- Spanish beside English. A person's saved language ('en' or 'es'; NULL until someone picks
-- one, when the browser's Accept-Language decides), and the language each consent change was
-- shown in, so proof can say which wording the person read (NULL on events recorded before
-- languages existed: those were English).
ALTER TABLE people ADD COLUMN language TEXT CHECK (language IN ('en', 'es'));
ALTER TABLE consent_events ADD COLUMN language TEXT CHECK (language IN ('en', 'es'));
