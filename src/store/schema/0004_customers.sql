-- Customers: accounts, address books, the marketing consent ledger, one-time tokens and login
-- throttling. Every column of personal data is a ciphertext under the customer's data key
-- (subject 'customer:<id>'), bound to this table, its column and the row id (see
-- docs/security.md). The email is found through its keyed blind index.

-- One row per customer. Erasure keeps the row as a tombstone (id, created_at, erased_at) with
-- every personal column NULL, so that orders and invoices can still name the id. NULL email
-- indexes do not collide, so an erased customer's email is free again.
CREATE TABLE shopkeep_customers (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    email_index   BLOB UNIQUE CHECK (length(email_index) = 32),
    email         BLOB,
    name          BLOB,
    phone         BLOB,
    business      BLOB,
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_login_at TEXT,
    erased_at     TEXT,
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK ((erased_at IS NULL) = (email_index IS NOT NULL AND email IS NOT NULL
                                  AND name IS NOT NULL AND password_hash IS NOT NULL)),
    CHECK (erased_at IS NULL OR (phone IS NULL AND business IS NULL AND last_login_at IS NULL))
) STRICT;

-- Address books. `data` is the whole address, one ciphertext (JSON inside), bound to the
-- address id. At most one default billing and one default shipping address per customer.
CREATE TABLE shopkeep_customer_addresses (
    id               BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    customer_id      BLOB NOT NULL REFERENCES shopkeep_customers (id),
    data             BLOB NOT NULL,
    default_billing  INTEGER NOT NULL DEFAULT 0 CHECK (default_billing IN (0, 1)),
    default_shipping INTEGER NOT NULL DEFAULT 0 CHECK (default_shipping IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX shopkeep_customer_addresses_customer ON shopkeep_customer_addresses (customer_id);
CREATE UNIQUE INDEX shopkeep_customer_addresses_billing
    ON shopkeep_customer_addresses (customer_id) WHERE default_billing = 1;
CREATE UNIQUE INDEX shopkeep_customer_addresses_shipping
    ON shopkeep_customer_addresses (customer_id) WHERE default_shipping = 1;

-- The marketing consent ledger (GDPR Art. 7: consent must be demonstrable). Append-only while
-- the customer exists; erasure deletes a customer's rows.
CREATE TABLE shopkeep_customer_consents (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  BLOB NOT NULL REFERENCES shopkeep_customers (id),
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone', 'post', 'push')),
    event        TEXT NOT NULL CHECK (event IN ('requested', 'confirmed', 'granted', 'withdrawn')),
    source       TEXT NOT NULL,
    text_version TEXT,
    recorded_by  TEXT NOT NULL,
    at           TEXT NOT NULL
) STRICT;
CREATE INDEX shopkeep_customer_consents_customer ON shopkeep_customer_consents (customer_id, seq);

CREATE TRIGGER shopkeep_customer_consents_no_update BEFORE UPDATE ON shopkeep_customer_consents
BEGIN
    SELECT RAISE(ABORT, 'the consent ledger is append-only');
END;

-- Single-use tokens a host emails: password resets and double opt-in confirmations. Only the
-- keyed hash of a token is stored.
CREATE TABLE shopkeep_customer_tokens (
    token_hash   BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    customer_id  BLOB NOT NULL REFERENCES shopkeep_customers (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('password_reset', 'consent_confirmation')),
    channel      TEXT,
    source       TEXT,
    text_version TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    CHECK ((purpose = 'consent_confirmation') = (channel IS NOT NULL AND source IS NOT NULL
                                                 AND text_version IS NOT NULL))
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_customer_tokens_customer ON shopkeep_customer_tokens (customer_id, purpose);

-- Unsubscribe tokens, one per customer and channel: found by keyed hash, and kept encrypted
-- under the customer's data key so that the same token can be handed out for every message.
CREATE TABLE shopkeep_customer_unsubscribe (
    customer_id BLOB NOT NULL REFERENCES shopkeep_customers (id),
    channel     TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    token       BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id, channel)
) STRICT, WITHOUT ROWID;

