-- PostgreSQL twin of ../0019_payments.sql. Differs: bigint/bytea/octet_length, STRICT and
-- WITHOUT ROWID dropped; `IS NOT` between values is IS DISTINCT FROM in the settle-once
-- trigger's WHEN; the triggers call shopkeep_refuse() (0003); processed events also refuse
-- TRUNCATE.

-- Payment gateway events (docs/integrations.md, "Payment gateways"): each event processed exactly once,
-- the payments gateways reported (for reconciliation), amount-only refunds queued for staff
-- to allocate to lines, and disputes. Amounts are integers in minor units of `currency`.

-- Every gateway event processed, keyed by the gateway's event id: the dedupe table. A row is
-- written in the transaction of the event's effect, so an event has its effect and its row,
-- or neither. The first outcome is kept to answer redeliveries with.
CREATE TABLE shopkeep_gateway_events (
    gateway           text NOT NULL,
    event_id          text NOT NULL,
    kind              text NOT NULL CHECK (kind IN
                          ('succeeded', 'refunded', 'dispute_opened', 'dispute_closed', 'ignored')),
    outcome           text NOT NULL CHECK (outcome IN
                          ('paid', 'already_paid', 'amount_mismatch', 'not_payable',
                           'reference_used', 'unknown_order', 'refund_queued',
                           'refund_unchanged', 'dispute', 'ignored')),
    order_id          bytea REFERENCES shopkeep_orders (id),
    amount            bigint,
    currency          text CHECK (length(currency) = 3),
    expected          bigint,
    expected_currency text CHECK (length(expected_currency) = 3),
    -- The order's status (not_payable), the dispute's status (dispute).
    detail            text,
    -- The queued refund (refund_queued).
    record_id         bytea CHECK (octet_length(record_id) = 16),
    processed_at      text NOT NULL,
    PRIMARY KEY (gateway, event_id)
);

-- Payments a gateway reported as succeeded, one row per payment (a gateway may report one
-- payment through several events: Stripe's payment_intent.succeeded and charge.succeeded).
-- `order_id` is the order the payment named, when shopkeep has it.
CREATE TABLE shopkeep_gateway_payments (
    gateway     text NOT NULL,
    reference   text NOT NULL,
    order_id    bytea REFERENCES shopkeep_orders (id),
    amount      bigint NOT NULL CHECK (amount >= 0),
    currency    text NOT NULL CHECK (length(currency) = 3),
    reported_at text NOT NULL,
    PRIMARY KEY (gateway, reference)
);
CREATE INDEX shopkeep_gateway_payments_by_reference ON shopkeep_gateway_payments (reference);
CREATE INDEX shopkeep_gateway_payments_by_reported ON shopkeep_gateway_payments (reported_at);
-- Reconciliation reads the orders paid in a period.
CREATE INDEX shopkeep_order_payments_by_paid_at ON shopkeep_order_payments (paid_at);

-- Refunds a gateway reported with an amount only, queued until staff allocate them to lines
-- (a refund of shopkeep's own, with its credit note) or link them to a refund already made.
-- Never approximated: the allocated refund's gross equals `amount` exactly.
CREATE TABLE shopkeep_gateway_refunds (
    id                bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    gateway           text NOT NULL,
    payment_reference text NOT NULL,
    order_id          bytea NOT NULL REFERENCES shopkeep_orders (id),
    amount            bigint NOT NULL CHECK (amount > 0),
    currency          text NOT NULL CHECK (length(currency) = 3),
    event_id          text NOT NULL,
    reported_at       text NOT NULL,
    refund_id         bytea UNIQUE REFERENCES shopkeep_refunds (id),
    settled_at        text,
    CHECK ((refund_id IS NULL) = (settled_at IS NULL))
);
CREATE INDEX shopkeep_gateway_refunds_open ON shopkeep_gateway_refunds (id)
    WHERE refund_id IS NULL;
CREATE INDEX shopkeep_gateway_refunds_by_payment
    ON shopkeep_gateway_refunds (gateway, payment_reference);
-- A queued refund is settled once; its amount and origin never change.
CREATE TRIGGER shopkeep_gateway_refunds_settle_once BEFORE UPDATE ON shopkeep_gateway_refunds
FOR EACH ROW WHEN (OLD.refund_id IS NOT NULL OR NEW.id IS DISTINCT FROM OLD.id
     OR NEW.amount IS DISTINCT FROM OLD.amount OR NEW.order_id IS DISTINCT FROM OLD.order_id
     OR NEW.currency IS DISTINCT FROM OLD.currency)
EXECUTE FUNCTION shopkeep_refuse('a gateway refund is settled once');

-- Disputes (chargebacks) on orders' payments, opened and closed by gateway events.
CREATE TABLE shopkeep_gateway_disputes (
    gateway           text NOT NULL,
    reference         text NOT NULL,
    order_id          bytea NOT NULL REFERENCES shopkeep_orders (id),
    payment_reference text NOT NULL,
    amount            bigint NOT NULL CHECK (amount >= 0),
    currency          text NOT NULL CHECK (length(currency) = 3),
    status            text NOT NULL CHECK (status IN ('open', 'won', 'lost', 'closed')),
    opened_at         text NOT NULL,
    closed_at         text,
    CHECK ((status = 'open') = (closed_at IS NULL)),
    PRIMARY KEY (gateway, reference)
);
CREATE INDEX shopkeep_gateway_disputes_by_order ON shopkeep_gateway_disputes (order_id);

-- Processed events are the record of what each delivery did: never changed or removed.
CREATE TRIGGER shopkeep_gateway_events_no_update BEFORE UPDATE ON shopkeep_gateway_events
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('processed gateway events are append-only');
CREATE TRIGGER shopkeep_gateway_events_no_delete BEFORE DELETE ON shopkeep_gateway_events
FOR EACH ROW EXECUTE FUNCTION shopkeep_refuse('processed gateway events are append-only');
CREATE TRIGGER shopkeep_gateway_events_no_truncate BEFORE TRUNCATE ON shopkeep_gateway_events
FOR EACH STATEMENT EXECUTE FUNCTION shopkeep_refuse('processed gateway events are append-only');
