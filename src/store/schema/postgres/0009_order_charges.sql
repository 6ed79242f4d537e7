-- PostgreSQL twin of ../0009_order_charges.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- Document-level charges of an order (EN 16931 BG-21), such as shipping, each with the VAT
-- treatment decided at checkout. `amount` is the charge as shown to the buyer (net or gross,
-- per the order's price mode), `net` its net amount (BT-99); an order's `charge_total` equals
-- the sum of its charges' `net`, and each VAT row's `charges_net` the sum of its charges'.
CREATE TABLE shopkeep_order_charges (
    order_id         bytea NOT NULL REFERENCES shopkeep_orders (id),
    position         bigint NOT NULL CHECK (position >= 0),
    reason           text NOT NULL CHECK (length(reason) > 0),  -- BT-104
    amount           bigint NOT NULL CHECK (amount >= 0),
    net              bigint NOT NULL CHECK (net >= 0),         -- BT-99
    vat_category     text NOT NULL,                             -- BT-102
    vat_rate_bp      bigint NOT NULL CHECK (vat_rate_bp >= 0), -- BT-103
    exemption_reason text,
    PRIMARY KEY (order_id, position)
);
