-- PostgreSQL twin of ../0001_store_meta.sql. Differs: BLOB is bytea; STRICT and WITHOUT ROWID
-- have no PostgreSQL counterpart (every column is strictly typed, every table is a heap).
CREATE TABLE shopkeep_meta (
    key   text PRIMARY KEY NOT NULL,
    value bytea NOT NULL
);
