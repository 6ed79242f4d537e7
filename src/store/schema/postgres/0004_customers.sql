-- PostgreSQL twin of ../0004_customers.sql. Differs: INTEGER is bigint, BLOB is bytea
-- (octet_length), STRICT and WITHOUT ROWID dropped; the consent ledger's AUTOINCREMENT seq is an
-- identity column (GENERATED ALWAYS: the database numbers entries, never reusing a number); its
-- trigger calls shopkeep_refuse() (0003).
CREATE TABLE shopkeep_customers (
    id            bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    email_index   bytea UNIQUE CHECK (octet_length(email_index) = 32),
    email         bytea,
    name          bytea,
    phone         bytea,
    business      bytea,
    password_hash text,
    created_at    text NOT NULL,
    updated_at    text NOT NULL,
    last_login_at text,
    erased_at     text,
    version       bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK ((erased_at IS NULL) = (email_index IS NOT NULL AND email IS NOT NULL
                                  AND name IS NOT NULL AND password_hash IS NOT NULL)),
    CHECK (erased_at IS NULL OR (phone IS NULL AND business IS NULL AND last_login_at IS NULL))
);

CREATE TABLE shopkeep_customer_addresses (
    id               bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    customer_id      bytea NOT NULL REFERENCES shopkeep_customers (id),
    data             bytea NOT NULL,
    default_billing  bigint NOT NULL DEFAULT 0 CHECK (default_billing IN (0, 1)),
    default_shipping bigint NOT NULL DEFAULT 0 CHECK (default_shipping IN (0, 1)),
    created_at       text NOT NULL,
    updated_at       text NOT NULL
);
CREATE INDEX shopkeep_customer_addresses_customer ON shopkeep_customer_addresses (customer_id);
CREATE UNIQUE INDEX shopkeep_customer_addresses_billing
    ON shopkeep_customer_addresses (customer_id) WHERE default_billing = 1;
CREATE UNIQUE INDEX shopkeep_customer_addresses_shipping
    ON shopkeep_customer_addresses (customer_id) WHERE default_shipping = 1;

CREATE TABLE shopkeep_customer_consents (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bytea NOT NULL REFERENCES shopkeep_customers (id),
    channel      text NOT NULL CHECK (channel IN ('email', 'sms', 'phone', 'post', 'push')),
    event        text NOT NULL CHECK (event IN ('requested', 'confirmed', 'granted', 'withdrawn')),
    source       text NOT NULL,
    text_version text,
    recorded_by  text NOT NULL,
    at           text NOT NULL
);
CREATE INDEX shopkeep_customer_consents_customer ON shopkeep_customer_consents (customer_id, seq);

CREATE TRIGGER shopkeep_customer_consents_no_update BEFORE UPDATE ON shopkeep_customer_consents
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('the consent ledger is append-only');

CREATE TABLE shopkeep_customer_tokens (
    token_hash   bytea PRIMARY KEY NOT NULL CHECK (octet_length(token_hash) = 32),
    customer_id  bytea NOT NULL REFERENCES shopkeep_customers (id),
    purpose      text NOT NULL CHECK (purpose IN ('password_reset', 'consent_confirmation')),
    channel      text,
    source       text,
    text_version text,
    created_at   text NOT NULL,
    expires_at   text NOT NULL,
    CHECK ((purpose = 'consent_confirmation') = (channel IS NOT NULL AND source IS NOT NULL
                                                 AND text_version IS NOT NULL))
);
CREATE INDEX shopkeep_customer_tokens_customer ON shopkeep_customer_tokens (customer_id, purpose);

CREATE TABLE shopkeep_customer_unsubscribe (
    customer_id bytea NOT NULL REFERENCES shopkeep_customers (id),
    channel     text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    token       bytea NOT NULL,
    created_at  text NOT NULL,
    PRIMARY KEY (customer_id, channel)
);
