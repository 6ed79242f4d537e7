-- The transactional outbox: events written in the same transaction as the change they report,
-- delivered at least once to the host's consumers (email tool, CRM, webhooks).
CREATE TABLE shopkeep_outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    type         TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    data         TEXT NOT NULL CHECK (json_valid(data)),
    created_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    leased_until TEXT,
    acked_at     TEXT
) STRICT;

-- Pending events in order, for polling.
CREATE INDEX shopkeep_outbox_pending ON shopkeep_outbox (seq) WHERE acked_at IS NULL;
