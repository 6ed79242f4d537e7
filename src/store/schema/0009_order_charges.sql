-- Document-level charges of an order (EN 16931 BG-21), such as shipping, each with the VAT
-- treatment decided at checkout. `amount` is the charge as shown to the buyer (net or gross,
-- per the order's price mode), `net` its net amount (BT-99); an order's `charge_total` equals
-- the sum of its charges' `net`, and each VAT row's `charges_net` the sum of its charges'.
CREATE TABLE shopkeep_order_charges (
    order_id         BLOB NOT NULL REFERENCES shopkeep_orders (id),
    position         INTEGER NOT NULL CHECK (position >= 0),
    reason           TEXT NOT NULL CHECK (length(reason) > 0),  -- BT-104
    amount           INTEGER NOT NULL CHECK (amount >= 0),
    net              INTEGER NOT NULL CHECK (net >= 0),         -- BT-99
    vat_category     TEXT NOT NULL,                             -- BT-102
    vat_rate_bp      INTEGER NOT NULL CHECK (vat_rate_bp >= 0), -- BT-103
    exemption_reason TEXT,
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;
