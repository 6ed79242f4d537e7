-- Marketing analytics (docs/marketing.md): the `marketing` staff role, the attribution an order
-- carries from checkout, and the stored customer scores that audiences filter on.

-- The `marketing` role. SQLite cannot change a CHECK constraint in place, so the two tables
-- that store roles are rebuilt with every column and row (rowids included) as they were.
CREATE TABLE shopkeep_staff_0014 (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    email_index   BLOB NOT NULL UNIQUE CHECK (length(email_index) = 32),
    email         BLOB NOT NULL,
    name          BLOB NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse', 'marketing')),
    password_hash TEXT NOT NULL,
    disabled_at   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    auth_mac      BLOB CHECK (length(auth_mac) = 32)
) STRICT;
INSERT INTO shopkeep_staff_0014 (rowid, id, email_index, email, name, role, password_hash,
    disabled_at, created_at, updated_at, version, auth_mac)
SELECT rowid, id, email_index, email, name, role, password_hash, disabled_at, created_at,
    updated_at, version, auth_mac FROM shopkeep_staff;
DROP TABLE shopkeep_staff;
ALTER TABLE shopkeep_staff_0014 RENAME TO shopkeep_staff;

CREATE TABLE shopkeep_api_keys_0014 (
    id           BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    prefix       TEXT NOT NULL UNIQUE,
    key_hash     BLOB NOT NULL CHECK (length(key_hash) = 32),
    label        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse', 'marketing')),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    auth_mac     BLOB CHECK (length(auth_mac) = 32)
) STRICT;
INSERT INTO shopkeep_api_keys_0014 (rowid, id, prefix, key_hash, label, role, created_by,
    created_at, last_used_at, revoked_at, auth_mac)
SELECT rowid, id, prefix, key_hash, label, role, created_by, created_at, last_used_at,
    revoked_at, auth_mac FROM shopkeep_api_keys;
DROP TABLE shopkeep_api_keys;
ALTER TABLE shopkeep_api_keys_0014 RENAME TO shopkeep_api_keys;

-- The campaign attribution the host passed at checkout (UTM parameters and the message the
-- customer came from), one row per attributed order. Not personal data: campaign names and
-- message ids. Written once, with the order.
CREATE TABLE shopkeep_order_attribution (
    order_id   BLOB PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    source     TEXT,
    medium     TEXT,
    campaign   TEXT,
    term       TEXT,
    content    TEXT,
    message_id TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_order_attribution_by_campaign ON shopkeep_order_attribution (campaign);

-- Sales and cohort reports read paid orders by time.
CREATE INDEX shopkeep_orders_by_placed ON shopkeep_orders (placed_at);

-- Each customer's RFM scores as of the last `refresh_scores`, and the CLV figures the CLV
-- model fills in (NULL until it has). Audiences filter on these columns. `country` is the
-- shipping country of the customer's latest scored order (an ISO 3166 code: not personal data
-- on its own; names and streets stay encrypted in the orders). Money is in minor units of
-- the shop's base currency.
CREATE TABLE shopkeep_customer_scores (
    customer_id        BLOB PRIMARY KEY NOT NULL CHECK (length(customer_id) = 16),
    first_order_at     TEXT NOT NULL,
    last_order_at      TEXT NOT NULL,
    recency_days       INTEGER NOT NULL CHECK (recency_days >= 0),
    frequency          INTEGER NOT NULL CHECK (frequency > 0),
    monetary           INTEGER NOT NULL,
    r_score            INTEGER NOT NULL CHECK (r_score BETWEEN 1 AND 5),
    f_score            INTEGER NOT NULL CHECK (f_score BETWEEN 1 AND 5),
    m_score            INTEGER NOT NULL CHECK (m_score BETWEEN 1 AND 5),
    segment            TEXT NOT NULL,
    country            TEXT CHECK (length(country) = 2),
    p_alive            REAL CHECK (p_alive BETWEEN 0 AND 1),
    expected_purchases REAL CHECK (expected_purchases >= 0),
    expected_value     INTEGER,
    refreshed_at       TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_customer_scores_by_segment ON shopkeep_customer_scores (segment, customer_id);
CREATE INDEX shopkeep_customer_scores_by_monetary ON shopkeep_customer_scores (monetary);
CREATE INDEX shopkeep_customer_scores_by_frequency ON shopkeep_customer_scores (frequency);
CREATE INDEX shopkeep_customer_scores_by_last_order ON shopkeep_customer_scores (last_order_at);
CREATE INDEX shopkeep_customer_scores_by_country ON shopkeep_customer_scores (country, customer_id);
