-- PostgreSQL twin of ../0017_webhooks.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- Outbound webhooks (Standard Webhooks): endpoints staff register, their subscriptions, one
-- delivery per (outbox event, endpoint), the log of reported attempts, and the fan-out cursor.

-- An endpoint. Its signing secret is a ciphertext under the endpoint's own data key (subject
-- 'webhook_endpoint:<id>'), bound to this table, column and row like personal data; deleting
-- the endpoint destroys the key. `from_seq` is the outbox's last seq when it was registered:
-- only later events are delivered to it.
CREATE TABLE shopkeep_webhook_endpoints (
    id          bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    secret      bytea NOT NULL,
    enabled     bigint NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    from_seq    bigint NOT NULL CHECK (from_seq >= 0),
    created_at  text NOT NULL,
    updated_at  text NOT NULL
);

-- The event types an endpoint takes. Keyed by type first: the fan-out looks up the endpoints
-- of one event's type.
CREATE TABLE shopkeep_webhook_subscriptions (
    event_type  text NOT NULL,
    endpoint_id bytea NOT NULL REFERENCES shopkeep_webhook_endpoints (id) ON DELETE CASCADE,
    PRIMARY KEY (event_type, endpoint_id)
);
CREATE INDEX shopkeep_webhook_subscriptions_by_endpoint
    ON shopkeep_webhook_subscriptions (endpoint_id);

-- One event to one endpoint. The body is kept (ids and figures only) so that every attempt
-- sends the same bytes even after the outbox row is purged. `due_at` is when a pending
-- delivery is next due, or until when it is leased to a worker; NULL while its endpoint is
-- disabled, and once delivered or dead. `attempts` counts leases (every round), `failures` the
-- reported failures of the current round.
CREATE TABLE shopkeep_webhook_deliveries (
    id          bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    endpoint_id bytea NOT NULL REFERENCES shopkeep_webhook_endpoints (id) ON DELETE CASCADE,
    event_id    bytea NOT NULL CHECK (octet_length(event_id) = 16),
    event_type  text NOT NULL,
    body        text NOT NULL CHECK (shopkeep_json_valid(body)),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts    bigint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    failures    bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
    due_at      text,
    last_status bigint CHECK (last_status BETWEEN 100 AND 599),
    last_error  text,
    created_at  text NOT NULL,
    updated_at  text NOT NULL,
    UNIQUE (event_id, endpoint_id),
    CHECK (status = 'pending' OR due_at IS NULL)
);
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
    delivery_id bytea NOT NULL REFERENCES shopkeep_webhook_deliveries (id) ON DELETE CASCADE,
    attempt     bigint NOT NULL CHECK (attempt > 0),
    at          text NOT NULL,
    status      bigint CHECK (status BETWEEN 100 AND 599),
    error       text,
    PRIMARY KEY (delivery_id, attempt),
    CHECK ((status IS NULL) <> (error IS NULL))
);

-- How far the fan-out has read the outbox: the last seq it turned into deliveries. Starts at
-- the outbox's end, so events from before webhooks existed are not delivered.
CREATE TABLE shopkeep_webhook_cursor (
    id  bigint PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL CHECK (seq >= 0)
);
INSERT INTO shopkeep_webhook_cursor (id, seq)
    SELECT 1, coalesce(max(seq), 0) FROM shopkeep_outbox;
