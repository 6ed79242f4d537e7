-- PostgreSQL twin of ../0002_data_keys.sql. Differs: INTEGER is bigint, BLOB is bytea, STRICT and
-- WITHOUT ROWID dropped.
CREATE TABLE shopkeep_data_keys (
    subject    text PRIMARY KEY NOT NULL,
    key_id     bigint NOT NULL CHECK (key_id > 0),
    wrapped    bytea NOT NULL,
    created_at text NOT NULL
);
