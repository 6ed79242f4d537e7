-- Issued invoices and credit notes (see docs/invoicing.md).
--
-- An issued document never changes: triggers refuse every UPDATE, and every DELETE except the
-- retention purge, which opens a window in `shopkeep_invoice_purge` inside its own transaction
-- and may then delete only documents whose retention time has passed.

-- Gapless counters, one row per series pattern and year (0 for a series without {year}).
-- A number is taken by bumping `next` inside the issuing transaction, so a failed issue rolls
-- the counter back with everything else and no number is ever burned.
CREATE TABLE shopkeep_invoice_counters (
    series TEXT NOT NULL,
    year   INTEGER NOT NULL,
    next   INTEGER NOT NULL CHECK (next > 1),
    PRIMARY KEY (series, year)
) STRICT, WITHOUT ROWID;

-- The documents. Amounts in minor units of `currency`. `seller` is the seller's data as stated
-- on the document (JSON; a company's, not personal data); `buyer` is the buyer as stated (JSON
-- inside AES-256-GCM under the legal-archive key, bound to (shopkeep_invoices, buyer, id)),
-- which outlives the customer's erasure; `terms` holds the remaining document fields (JSON).
CREATE TABLE shopkeep_invoices (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    number          TEXT NOT NULL UNIQUE,
    series          TEXT NOT NULL,
    year            INTEGER NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    order_id        BLOB NOT NULL REFERENCES shopkeep_orders (id),
    customer_id     BLOB NOT NULL,
    original_id     BLOB REFERENCES shopkeep_invoices (id),
    issue_date      TEXT NOT NULL,
    currency        TEXT NOT NULL CHECK (length(currency) = 3),
    price_mode      TEXT NOT NULL CHECK (price_mode IN ('exclusive', 'inclusive')),
    line_net_total  INTEGER NOT NULL,  -- BT-106
    allowance_total INTEGER NOT NULL,  -- BT-107
    charge_total    INTEGER NOT NULL,  -- BT-108
    net_total       INTEGER NOT NULL,  -- BT-109
    vat_total       INTEGER NOT NULL,  -- BT-110
    gross_total     INTEGER NOT NULL,  -- BT-112
    seller          TEXT NOT NULL,
    buyer           BLOB NOT NULL,
    terms           TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    deletable_from  TEXT NOT NULL,  -- the first local date the retention purge may delete it
    UNIQUE (series, year, seq),
    CHECK ((kind = 'credit_note') = (original_id IS NOT NULL)),
    CHECK (net_total = line_net_total - allowance_total + charge_total),
    CHECK (gross_total = net_total + vat_total)
) STRICT;
-- One invoice per order (credit notes may be several).
CREATE UNIQUE INDEX shopkeep_invoices_one_per_order
    ON shopkeep_invoices (order_id) WHERE kind = 'invoice';
CREATE INDEX shopkeep_invoices_by_customer ON shopkeep_invoices (customer_id, id);
CREATE INDEX shopkeep_invoices_by_original ON shopkeep_invoices (original_id);
CREATE INDEX shopkeep_invoices_by_retention ON shopkeep_invoices (deletable_from);

-- The lines as stated on the document. `order_position` is the order line it invoices (or
-- credits), `discount` its share of the order discount (in the price mode's terms).
CREATE TABLE shopkeep_invoice_lines (
    invoice_id       BLOB NOT NULL REFERENCES shopkeep_invoices (id),
    position         INTEGER NOT NULL CHECK (position >= 0),
    order_position   INTEGER NOT NULL CHECK (order_position >= 0),
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price       INTEGER NOT NULL CHECK (unit_price >= 0),
    line_net         INTEGER NOT NULL,  -- BT-131
    discount         INTEGER NOT NULL CHECK (discount >= 0),
    vat_category     TEXT NOT NULL,
    vat_rate_bp      INTEGER NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason TEXT,
    PRIMARY KEY (invoice_id, position)
) STRICT, WITHOUT ROWID;

-- The retention purge's window: one row, `open` only inside the purge's own transaction.
CREATE TABLE shopkeep_invoice_purge (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    open   INTEGER NOT NULL CHECK (open IN (0, 1)),
    cutoff TEXT NOT NULL
) STRICT;
INSERT INTO shopkeep_invoice_purge (id, open, cutoff) VALUES (1, 0, '');

CREATE TRIGGER shopkeep_invoices_no_update BEFORE UPDATE ON shopkeep_invoices
BEGIN
    SELECT RAISE(ABORT, 'issued invoices cannot be changed; issue a credit note');
END;

CREATE TRIGGER shopkeep_invoice_lines_no_update BEFORE UPDATE ON shopkeep_invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'issued invoices cannot be changed; issue a credit note');
END;

CREATE TRIGGER shopkeep_invoices_no_delete BEFORE DELETE ON shopkeep_invoices
WHEN NOT EXISTS (
    SELECT 1 FROM shopkeep_invoice_purge
    WHERE id = 1 AND open = 1 AND OLD.deletable_from <= cutoff
)
BEGIN
    SELECT RAISE(ABORT, 'issued invoices are kept for their retention period');
END;

CREATE TRIGGER shopkeep_invoice_lines_no_delete BEFORE DELETE ON shopkeep_invoice_lines
WHEN NOT EXISTS (
    SELECT 1 FROM shopkeep_invoice_purge p JOIN shopkeep_invoices i ON i.id = OLD.invoice_id
    WHERE p.id = 1 AND p.open = 1 AND i.deletable_from <= p.cutoff
)
BEGIN
    SELECT RAISE(ABORT, 'issued invoices are kept for their retention period');
END;

-- `INSERT OR REPLACE` deletes the row it replaces without firing DELETE triggers (unless
-- recursive triggers are on), so an insert may never meet an existing document or line.
CREATE TRIGGER shopkeep_invoices_no_replace BEFORE INSERT ON shopkeep_invoices
WHEN EXISTS (
    SELECT 1 FROM shopkeep_invoices
    WHERE id = NEW.id OR number = NEW.number
       OR (series = NEW.series AND year = NEW.year AND seq = NEW.seq)
)
BEGIN
    SELECT RAISE(ABORT, 'issued invoices cannot be changed; issue a credit note');
END;

CREATE TRIGGER shopkeep_invoice_lines_no_replace BEFORE INSERT ON shopkeep_invoice_lines
WHEN EXISTS (
    SELECT 1 FROM shopkeep_invoice_lines
    WHERE invoice_id = NEW.invoice_id AND position = NEW.position
)
BEGIN
    SELECT RAISE(ABORT, 'issued invoices cannot be changed; issue a credit note');
END;

-- The window may only be opened and closed, never removed.
CREATE TRIGGER shopkeep_invoice_purge_no_delete BEFORE DELETE ON shopkeep_invoice_purge
BEGIN
    SELECT RAISE(ABORT, 'the purge window row is permanent');
END;
