-- Per-subject data keys, stored only wrapped (see docs/security.md). Deleting a row
-- crypto-shreds every ciphertext of its subject.
CREATE TABLE shopkeep_data_keys (
    subject    TEXT PRIMARY KEY NOT NULL,
    key_id     INTEGER NOT NULL CHECK (key_id > 0),
    wrapped    BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
