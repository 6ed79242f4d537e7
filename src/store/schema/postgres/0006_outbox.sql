-- PostgreSQL twin of ../0006_outbox.sql. Differs: the AUTOINCREMENT seq is an identity column
-- (GENERATED ALWAYS), bigint/bytea/octet_length, shopkeep_json_valid() (0005) for json_valid,
-- STRICT dropped.
CREATE TABLE shopkeep_outbox (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           bytea NOT NULL UNIQUE CHECK (octet_length(id) = 16),
    type         text NOT NULL,
    version      bigint NOT NULL CHECK (version > 0),
    data         text NOT NULL CHECK (shopkeep_json_valid(data)),
    created_at   text NOT NULL,
    attempts     bigint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    leased_until text,
    acked_at     text
);

CREATE INDEX shopkeep_outbox_pending ON shopkeep_outbox (seq) WHERE acked_at IS NULL;
