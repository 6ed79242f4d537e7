-- Outbound webhooks (Standard Webhooks): endpoints staff register, their subscriptions, one
-- delivery per (outbox event, endpoint), the log of reported attempts, and the fan-out cursor.

-- An endpoint. Its signing secret is a ciphertext under the endpoint's own data key (subject
-- 'webhook_endpoint:<id>'), bound to this table, column and row like personal data; deleting
-- the endpoint destroys the key. `from_seq` is the outbox's last seq when it was registered:
-- only later events are delivered to it.
CREATE TABLE shopkeep_webhook_endpoints (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    url         TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    secret      BLOB NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    from_seq    INTEGER NOT NULL CHECK (from_seq >= 0),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- The event types an endpoint takes. Keyed by type first: the fan-out looks up the endpoints
-- of one event's type.
CREATE TABLE shopkeep_webhook_subscriptions (
    event_type  TEXT NOT NULL,
    endpoint_id BLOB NOT NULL REFERENCES shopkeep_webhook_endpoints (id) ON DELETE CASCADE,
    PRIMARY KEY (event_type, endpoint_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_webhook_subscriptions_by_endpoint
    ON shopkeep_webhook_subscriptions (endpoint_id);

-- One event to one endpoint. The body is kept (ids and figures only) so that every attempt
-- sends the same bytes even after the outbox row is purged. `due_at` is when a pending
-- delivery is next due, or until when it is leased to a worker; NULL while its endpoint is
-- disabled, and once delivered or dead. `attempts` counts leases (every round), `failures` the
-- reported failures of the current round.
CREATE TABLE shopkeep_webhook_deliveries (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    endpoint_id BLOB NOT NULL REFERENCES shopkeep_webhook_endpoints (id) ON DELETE CASCADE,
    event_id    BLOB NOT NULL CHECK (length(event_id) = 16),
    event_type  TEXT NOT NULL,
    body        TEXT NOT NULL CHECK (json_valid(body)),
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    failures    INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    due_at      TEXT,
    last_status INTEGER CHECK (last_status BETWEEN 100 AND 599),
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (event_id, endpoint_id),
    CHECK (status = 'pending' OR due_at IS NULL)
) STRICT;
-- What is due, soonest first: pending deliveries of enabled endpoints only.
CREATE INDEX shopkeep_webhook_deliveries_due
    ON shopkeep_webhook_deliveries (due_at) WHERE status = 'pending' AND due_at IS NOT NULL;
-- An endpoint's delivery log, oldest first.
CREATE INDEX shopkeep_webhook_deliveries_by_endpoint
    ON shopkeep_webhook_deliveries (endpoint_id, id);
-- An endpoint's pending deliveries, parked when it is disabled and due again when enabled.
CREATE INDEX shopkeep_webhook_deliveries_by_endpoint_status
    ON shopkeep_webhook_deliveries (endpoint_id, status);
-- The dead letters, for staff to list and re-queue.
CREATE INDEX shopkeep_webhook_deliveries_dead
    ON shopkeep_webhook_deliveries (id) WHERE status = 'dead';

-- Every reported attempt: the endpoint's HTTP status or the worker's network error.
CREATE TABLE shopkeep_webhook_attempts (
    delivery_id BLOB NOT NULL REFERENCES shopkeep_webhook_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL CHECK (attempt > 0),
    at          TEXT NOT NULL,
    status      INTEGER CHECK (status BETWEEN 100 AND 599),
    error       TEXT,
    PRIMARY KEY (delivery_id, attempt),
    CHECK ((status IS NULL) <> (error IS NULL))
) STRICT, WITHOUT ROWID;

-- How far the fan-out has read the outbox: the last seq it turned into deliveries. Starts at
-- the outbox's end, so events from before webhooks existed are not delivered.
CREATE TABLE shopkeep_webhook_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq >= 0)
) STRICT;
INSERT INTO shopkeep_webhook_cursor (id, seq)
    SELECT 1, coalesce(max(seq), 0) FROM shopkeep_outbox;
