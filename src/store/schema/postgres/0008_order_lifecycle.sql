-- PostgreSQL twin of ../0008_order_lifecycle.sql. Differs: bigint/bytea/octet_length, STRICT and
-- WITHOUT ROWID dropped. The no_update/no_delete triggers call shopkeep_refuse() (0003), and
-- each table also refuses TRUNCATE. The no_replace triggers keep SQLite's rule (an insert
-- never meets an existing record; it fails with the same message, not a unique violation)
-- through one PL/pgSQL function per table, though PostgreSQL has no INSERT OR REPLACE (its
-- ON CONFLICT DO UPDATE fires the UPDATE triggers).

-- The order lifecycle after checkout: payments, shipments, cancellations and refunds (see
-- docs/orders.md). Status changes themselves are conditional UPDATEs of shopkeep_orders.status.
--
-- Payments, cancellations and refunds are records of money owed or moved: the database refuses
-- to change or delete them.

-- The gateway's confirmation that an order was paid: one per order, and one order per gateway
-- reference (a webhook replayed for another order is refused).
CREATE TABLE shopkeep_order_payments (
    order_id          bytea PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    gateway_reference text NOT NULL UNIQUE,
    amount            bigint NOT NULL CHECK (amount >= 0),
    currency          text NOT NULL CHECK (length(currency) = 3),
    paid_at           text NOT NULL
);

CREATE TABLE shopkeep_order_shipments (
    order_id   bytea PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    carrier    text,
    tracking   text,
    shipped_at text NOT NULL
);

-- `was_paid`: the order had been paid, so the host owes the buyer a refund through its gateway.
CREATE TABLE shopkeep_order_cancellations (
    order_id     bytea PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    reason       text NOT NULL,
    was_paid     bigint NOT NULL CHECK (was_paid IN (0, 1)),
    cancelled_at text NOT NULL
);

-- Refunds, numbered 1, 2, ... within their order. Amounts in minor units of the order's
-- currency, computed by the totals engine from the rows below and the order's lines.
CREATE TABLE shopkeep_refunds (
    id          bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    order_id    bytea NOT NULL REFERENCES shopkeep_orders (id),
    number      bigint NOT NULL CHECK (number > 0),
    restock     bigint NOT NULL CHECK (restock IN (0, 1)),
    net_total   bigint NOT NULL,
    vat_total   bigint NOT NULL,
    gross_total bigint NOT NULL CHECK (gross_total >= 0),
    created_at  text NOT NULL,
    UNIQUE (order_id, number),
    CHECK (gross_total = net_total + vat_total)
);

-- A refunded quantity of one order line, with its share of the line's discount (in the price
-- mode's terms). The unit price and VAT treatment are the order line's.
CREATE TABLE shopkeep_refund_lines (
    refund_id bytea NOT NULL REFERENCES shopkeep_refunds (id),
    position  bigint NOT NULL CHECK (position >= 0),
    quantity  bigint NOT NULL CHECK (quantity > 0),
    discount  bigint NOT NULL CHECK (discount >= 0),
    PRIMARY KEY (refund_id, position)
);

-- The order's charges a refund gives back, as the totals engine took them (price mode's terms).
CREATE TABLE shopkeep_refund_charges (
    refund_id        bytea NOT NULL REFERENCES shopkeep_refunds (id),
    seq              bigint NOT NULL CHECK (seq >= 0),
    amount           bigint NOT NULL CHECK (amount >= 0),
    vat_category     text NOT NULL,
    vat_rate_bp      bigint NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason text,
    PRIMARY KEY (refund_id, seq)
);

CREATE TRIGGER shopkeep_order_payments_no_update BEFORE UPDATE ON shopkeep_order_payments
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('payments are append-only');
CREATE TRIGGER shopkeep_order_payments_no_delete BEFORE DELETE ON shopkeep_order_payments
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('payments are append-only');
CREATE TRIGGER shopkeep_order_payments_no_truncate BEFORE TRUNCATE ON shopkeep_order_payments
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('payments are append-only');
CREATE TRIGGER shopkeep_order_cancellations_no_update BEFORE UPDATE ON shopkeep_order_cancellations
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('cancellations are append-only');
CREATE TRIGGER shopkeep_order_cancellations_no_delete BEFORE DELETE ON shopkeep_order_cancellations
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('cancellations are append-only');
CREATE TRIGGER shopkeep_order_cancellations_no_truncate BEFORE TRUNCATE ON shopkeep_order_cancellations
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('cancellations are append-only');
CREATE TRIGGER shopkeep_refunds_no_update BEFORE UPDATE ON shopkeep_refunds
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refunds_no_delete BEFORE DELETE ON shopkeep_refunds
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refunds_no_truncate BEFORE TRUNCATE ON shopkeep_refunds
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refund_lines_no_update BEFORE UPDATE ON shopkeep_refund_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refund_lines_no_delete BEFORE DELETE ON shopkeep_refund_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refund_lines_no_truncate BEFORE TRUNCATE ON shopkeep_refund_lines
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refund_charges_no_update BEFORE UPDATE ON shopkeep_refund_charges
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refund_charges_no_delete BEFORE DELETE ON shopkeep_refund_charges
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');
CREATE TRIGGER shopkeep_refund_charges_no_truncate BEFORE TRUNCATE ON shopkeep_refund_charges
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('refunds are append-only');

-- An insert may never meet an existing record.
CREATE FUNCTION shopkeep_order_payments_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shopkeep_order_payments
               WHERE order_id = NEW.order_id OR gateway_reference = NEW.gateway_reference) THEN
        RAISE EXCEPTION 'payments are append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_order_payments_no_replace BEFORE INSERT ON shopkeep_order_payments
FOR EACH ROW EXECUTE FUNCTION shopkeep_order_payments_no_replace();

CREATE FUNCTION shopkeep_order_cancellations_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shopkeep_order_cancellations WHERE order_id = NEW.order_id) THEN
        RAISE EXCEPTION 'cancellations are append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_order_cancellations_no_replace BEFORE INSERT ON shopkeep_order_cancellations
FOR EACH ROW EXECUTE FUNCTION shopkeep_order_cancellations_no_replace();

CREATE FUNCTION shopkeep_refunds_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shopkeep_refunds
               WHERE id = NEW.id OR (order_id = NEW.order_id AND number = NEW.number)) THEN
        RAISE EXCEPTION 'refunds are append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_refunds_no_replace BEFORE INSERT ON shopkeep_refunds
FOR EACH ROW EXECUTE FUNCTION shopkeep_refunds_no_replace();

CREATE FUNCTION shopkeep_refund_lines_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shopkeep_refund_lines
               WHERE refund_id = NEW.refund_id AND position = NEW.position) THEN
        RAISE EXCEPTION 'refunds are append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_refund_lines_no_replace BEFORE INSERT ON shopkeep_refund_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_refund_lines_no_replace();

CREATE FUNCTION shopkeep_refund_charges_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shopkeep_refund_charges
               WHERE refund_id = NEW.refund_id AND seq = NEW.seq) THEN
        RAISE EXCEPTION 'refunds are append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_refund_charges_no_replace BEFORE INSERT ON shopkeep_refund_charges
FOR EACH ROW EXECUTE FUNCTION shopkeep_refund_charges_no_replace();
