-- PostgreSQL twin of ../0010_invoices.sql. Differs: bigint/bytea/octet_length, STRICT and
-- WITHOUT ROWID dropped. The triggers are PL/pgSQL functions with the same conditions and
-- messages (plain refusals call shopkeep_refuse(), 0003); the no_replace triggers keep SQLite's
-- rule that an insert never meets an existing document or line, and the documents, their lines
-- and the purge window also refuse TRUNCATE.

-- Issued invoices and credit notes (see docs/invoicing.md).
--
-- An issued document never changes: triggers refuse every UPDATE, and every DELETE except the
-- retention purge, which opens a window in `shopkeep_invoice_purge` inside its own transaction
-- and may then delete only documents whose retention time has passed.

-- Gapless counters, one row per series pattern and year (0 for a series without {year}).
-- A number is taken by bumping `next` inside the issuing transaction, so a failed issue rolls
-- the counter back with everything else and no number is ever burned.
CREATE TABLE shopkeep_invoice_counters (
    series text NOT NULL,
    year   bigint NOT NULL,
    next   bigint NOT NULL CHECK (next > 1),
    PRIMARY KEY (series, year)
);

-- The documents. Amounts in minor units of `currency`. `seller` is the seller's data as stated
-- on the document (JSON; a company's, not personal data); `buyer` is the buyer as stated (JSON
-- inside AES-256-GCM under the legal-archive key, bound to (shopkeep_invoices, buyer, id)),
-- which outlives the customer's erasure; `terms` holds the remaining document fields (JSON).
CREATE TABLE shopkeep_invoices (
    id              bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    kind            text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    number          text NOT NULL UNIQUE,
    series          text NOT NULL,
    year            bigint NOT NULL,
    seq             bigint NOT NULL CHECK (seq > 0),
    order_id        bytea NOT NULL REFERENCES shopkeep_orders (id),
    customer_id     bytea NOT NULL,
    original_id     bytea REFERENCES shopkeep_invoices (id),
    issue_date      text NOT NULL,
    currency        text NOT NULL CHECK (length(currency) = 3),
    price_mode      text NOT NULL CHECK (price_mode IN ('exclusive', 'inclusive')),
    line_net_total  bigint NOT NULL,  -- BT-106
    allowance_total bigint NOT NULL,  -- BT-107
    charge_total    bigint NOT NULL,  -- BT-108
    net_total       bigint NOT NULL,  -- BT-109
    vat_total       bigint NOT NULL,  -- BT-110
    gross_total     bigint NOT NULL,  -- BT-112
    seller          text NOT NULL,
    buyer           bytea NOT NULL,
    terms           text NOT NULL,
    issued_at       text NOT NULL,
    deletable_from  text NOT NULL,  -- the first local date the retention purge may delete it
    UNIQUE (series, year, seq),
    CHECK ((kind = 'credit_note') = (original_id IS NOT NULL)),
    CHECK (net_total = line_net_total - allowance_total + charge_total),
    CHECK (gross_total = net_total + vat_total)
);
-- One invoice per order (credit notes may be several).
CREATE UNIQUE INDEX shopkeep_invoices_one_per_order
    ON shopkeep_invoices (order_id) WHERE kind = 'invoice';
CREATE INDEX shopkeep_invoices_by_customer ON shopkeep_invoices (customer_id, id);
CREATE INDEX shopkeep_invoices_by_original ON shopkeep_invoices (original_id);
CREATE INDEX shopkeep_invoices_by_retention ON shopkeep_invoices (deletable_from);

-- The lines as stated on the document. `order_position` is the order line it invoices (or
-- credits), `discount` its share of the order discount (in the price mode's terms).
CREATE TABLE shopkeep_invoice_lines (
    invoice_id       bytea NOT NULL REFERENCES shopkeep_invoices (id),
    position         bigint NOT NULL CHECK (position >= 0),
    order_position   bigint NOT NULL CHECK (order_position >= 0),
    sku              text NOT NULL,
    name             text NOT NULL,
    quantity         bigint NOT NULL CHECK (quantity > 0),
    unit_price       bigint NOT NULL CHECK (unit_price >= 0),
    line_net         bigint NOT NULL,  -- BT-131
    discount         bigint NOT NULL CHECK (discount >= 0),
    vat_category     text NOT NULL,
    vat_rate_bp      bigint NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason text,
    PRIMARY KEY (invoice_id, position)
);

-- The retention purge's window: one row, `open` only inside the purge's own transaction.
CREATE TABLE shopkeep_invoice_purge (
    id     bigint PRIMARY KEY CHECK (id = 1),
    open   bigint NOT NULL CHECK (open IN (0, 1)),
    cutoff text NOT NULL
);
INSERT INTO shopkeep_invoice_purge (id, open, cutoff) VALUES (1, 0, '');

CREATE TRIGGER shopkeep_invoices_no_update BEFORE UPDATE ON shopkeep_invoices
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('issued invoices cannot be changed; issue a credit note');

CREATE TRIGGER shopkeep_invoice_lines_no_update BEFORE UPDATE ON shopkeep_invoice_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('issued invoices cannot be changed; issue a credit note');

CREATE FUNCTION shopkeep_invoices_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM shopkeep_invoice_purge
        WHERE id = 1 AND open = 1 AND OLD.deletable_from <= cutoff
    ) THEN
        RAISE EXCEPTION 'issued invoices are kept for their retention period';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER shopkeep_invoices_no_delete BEFORE DELETE ON shopkeep_invoices
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoices_no_delete();

CREATE FUNCTION shopkeep_invoice_lines_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM shopkeep_invoice_purge p JOIN shopkeep_invoices i ON i.id = OLD.invoice_id
        WHERE p.id = 1 AND p.open = 1 AND i.deletable_from <= p.cutoff
    ) THEN
        RAISE EXCEPTION 'issued invoices are kept for their retention period';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER shopkeep_invoice_lines_no_delete BEFORE DELETE ON shopkeep_invoice_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoice_lines_no_delete();

CREATE TRIGGER shopkeep_invoices_no_truncate BEFORE TRUNCATE ON shopkeep_invoices
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('issued invoices are kept for their retention period');
CREATE TRIGGER shopkeep_invoice_lines_no_truncate BEFORE TRUNCATE ON shopkeep_invoice_lines
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('issued invoices are kept for their retention period');

-- An insert may never meet an existing document or line.
CREATE FUNCTION shopkeep_invoices_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM shopkeep_invoices
        WHERE id = NEW.id OR number = NEW.number
           OR (series = NEW.series AND year = NEW.year AND seq = NEW.seq)
    ) THEN
        RAISE EXCEPTION 'issued invoices cannot be changed; issue a credit note';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_invoices_no_replace BEFORE INSERT ON shopkeep_invoices
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoices_no_replace();

CREATE FUNCTION shopkeep_invoice_lines_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM shopkeep_invoice_lines
        WHERE invoice_id = NEW.invoice_id AND position = NEW.position
    ) THEN
        RAISE EXCEPTION 'issued invoices cannot be changed; issue a credit note';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_invoice_lines_no_replace BEFORE INSERT ON shopkeep_invoice_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoice_lines_no_replace();

-- The window may only be opened and closed, never removed.
CREATE TRIGGER shopkeep_invoice_purge_no_delete BEFORE DELETE ON shopkeep_invoice_purge
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('the purge window row is permanent');
CREATE TRIGGER shopkeep_invoice_purge_no_truncate BEFORE TRUNCATE ON shopkeep_invoice_purge
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('the purge window row is permanent');
