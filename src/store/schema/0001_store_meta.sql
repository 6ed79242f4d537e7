-- Store-wide facts that belong to no domain (for example the wrapped root key of the key ring).
CREATE TABLE shopkeep_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT, WITHOUT ROWID;
