-- The order lifecycle after checkout: payments, shipments, cancellations and refunds (see
-- docs/orders.md). Status changes themselves are conditional UPDATEs of shopkeep_orders.status.
--
-- Payments, cancellations and refunds are records of money owed or moved: the database refuses
-- to change or delete them.

-- The gateway's confirmation that an order was paid: one per order, and one order per gateway
-- reference (a webhook replayed for another order is refused).
CREATE TABLE shopkeep_order_payments (
    order_id          BLOB PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    gateway_reference TEXT NOT NULL UNIQUE,
    amount            INTEGER NOT NULL CHECK (amount >= 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    paid_at           TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE shopkeep_order_shipments (
    order_id   BLOB PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    carrier    TEXT,
    tracking   TEXT,
    shipped_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- `was_paid`: the order had been paid, so the host owes the buyer a refund through its gateway.
CREATE TABLE shopkeep_order_cancellations (
    order_id     BLOB PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    reason       TEXT NOT NULL,
    was_paid     INTEGER NOT NULL CHECK (was_paid IN (0, 1)),
    cancelled_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Refunds, numbered 1, 2, ... within their order. Amounts in minor units of the order's
-- currency, computed by the totals engine from the rows below and the order's lines.
CREATE TABLE shopkeep_refunds (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    order_id    BLOB NOT NULL REFERENCES shopkeep_orders (id),
    number      INTEGER NOT NULL CHECK (number > 0),
    restock     INTEGER NOT NULL CHECK (restock IN (0, 1)),
    net_total   INTEGER NOT NULL,
    vat_total   INTEGER NOT NULL,
    gross_total INTEGER NOT NULL CHECK (gross_total >= 0),
    created_at  TEXT NOT NULL,
    UNIQUE (order_id, number),
    CHECK (gross_total = net_total + vat_total)
) STRICT;

-- A refunded quantity of one order line, with its share of the line's discount (in the price
-- mode's terms). The unit price and VAT treatment are the order line's.
CREATE TABLE shopkeep_refund_lines (
    refund_id BLOB NOT NULL REFERENCES shopkeep_refunds (id),
    position  INTEGER NOT NULL CHECK (position >= 0),
    quantity  INTEGER NOT NULL CHECK (quantity > 0),
    discount  INTEGER NOT NULL CHECK (discount >= 0),
    PRIMARY KEY (refund_id, position)
) STRICT, WITHOUT ROWID;

-- The order's charges a refund gives back, as the totals engine took them (price mode's terms).
CREATE TABLE shopkeep_refund_charges (
    refund_id        BLOB NOT NULL REFERENCES shopkeep_refunds (id),
    seq              INTEGER NOT NULL CHECK (seq >= 0),
    amount           INTEGER NOT NULL CHECK (amount >= 0),
    vat_category     TEXT NOT NULL,
    vat_rate_bp      INTEGER NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason TEXT,
    PRIMARY KEY (refund_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER shopkeep_order_payments_no_update BEFORE UPDATE ON shopkeep_order_payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER shopkeep_order_payments_no_delete BEFORE DELETE ON shopkeep_order_payments
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER shopkeep_order_cancellations_no_update BEFORE UPDATE ON shopkeep_order_cancellations
BEGIN SELECT RAISE(ABORT, 'cancellations are append-only'); END;
CREATE TRIGGER shopkeep_order_cancellations_no_delete BEFORE DELETE ON shopkeep_order_cancellations
BEGIN SELECT RAISE(ABORT, 'cancellations are append-only'); END;
CREATE TRIGGER shopkeep_refunds_no_update BEFORE UPDATE ON shopkeep_refunds
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refunds_no_delete BEFORE DELETE ON shopkeep_refunds
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refund_lines_no_update BEFORE UPDATE ON shopkeep_refund_lines
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refund_lines_no_delete BEFORE DELETE ON shopkeep_refund_lines
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refund_charges_no_update BEFORE UPDATE ON shopkeep_refund_charges
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refund_charges_no_delete BEFORE DELETE ON shopkeep_refund_charges
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;

-- `INSERT OR REPLACE` deletes the row it replaces without firing DELETE triggers (unless
-- recursive triggers are on), so an insert may never meet an existing record.
CREATE TRIGGER shopkeep_order_payments_no_replace BEFORE INSERT ON shopkeep_order_payments
WHEN EXISTS (SELECT 1 FROM shopkeep_order_payments
             WHERE order_id = NEW.order_id OR gateway_reference = NEW.gateway_reference)
BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER shopkeep_order_cancellations_no_replace BEFORE INSERT ON shopkeep_order_cancellations
WHEN EXISTS (SELECT 1 FROM shopkeep_order_cancellations WHERE order_id = NEW.order_id)
BEGIN SELECT RAISE(ABORT, 'cancellations are append-only'); END;
CREATE TRIGGER shopkeep_refunds_no_replace BEFORE INSERT ON shopkeep_refunds
WHEN EXISTS (SELECT 1 FROM shopkeep_refunds
             WHERE id = NEW.id OR (order_id = NEW.order_id AND number = NEW.number))
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refund_lines_no_replace BEFORE INSERT ON shopkeep_refund_lines
WHEN EXISTS (SELECT 1 FROM shopkeep_refund_lines
             WHERE refund_id = NEW.refund_id AND position = NEW.position)
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER shopkeep_refund_charges_no_replace BEFORE INSERT ON shopkeep_refund_charges
WHEN EXISTS (SELECT 1 FROM shopkeep_refund_charges
             WHERE refund_id = NEW.refund_id AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
