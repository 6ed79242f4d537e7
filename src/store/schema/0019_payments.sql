-- Payment gateway events (docs/integrations.md, "Payment gateways"): each event processed exactly once,
-- the payments gateways reported (for reconciliation), amount-only refunds queued for staff
-- to allocate to lines, and disputes. Amounts are integers in minor units of `currency`.

-- Every gateway event processed, keyed by the gateway's event id: the dedupe table. A row is
-- written in the transaction of the event's effect, so an event has its effect and its row,
-- or neither. The first outcome is kept to answer redeliveries with.
CREATE TABLE shopkeep_gateway_events (
    gateway           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN
                          ('succeeded', 'refunded', 'dispute_opened', 'dispute_closed', 'ignored')),
    outcome           TEXT NOT NULL CHECK (outcome IN
                          ('paid', 'already_paid', 'amount_mismatch', 'not_payable',
                           'reference_used', 'unknown_order', 'refund_queued',
                           'refund_unchanged', 'dispute', 'ignored')),
    order_id          BLOB REFERENCES shopkeep_orders (id),
    amount            INTEGER,
    currency          TEXT CHECK (length(currency) = 3),
    expected          INTEGER,
    expected_currency TEXT CHECK (length(expected_currency) = 3),
    -- The order's status (not_payable), the dispute's status (dispute).
    detail            TEXT,
    -- The queued refund (refund_queued).
    record_id         BLOB CHECK (length(record_id) = 16),
    processed_at      TEXT NOT NULL,
    PRIMARY KEY (gateway, event_id)
) STRICT, WITHOUT ROWID;

-- Payments a gateway reported as succeeded, one row per payment (a gateway may report one
-- payment through several events: Stripe's payment_intent.succeeded and charge.succeeded).
-- `order_id` is the order the payment named, when shopkeep has it.
CREATE TABLE shopkeep_gateway_payments (
    gateway     TEXT NOT NULL,
    reference   TEXT NOT NULL,
    order_id    BLOB REFERENCES shopkeep_orders (id),
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    currency    TEXT NOT NULL CHECK (length(currency) = 3),
    reported_at TEXT NOT NULL,
    PRIMARY KEY (gateway, reference)
) STRICT;
CREATE INDEX shopkeep_gateway_payments_by_reference ON shopkeep_gateway_payments (reference);
CREATE INDEX shopkeep_gateway_payments_by_reported ON shopkeep_gateway_payments (reported_at);
-- Reconciliation reads the orders paid in a period.
CREATE INDEX shopkeep_order_payments_by_paid_at ON shopkeep_order_payments (paid_at);

-- Refunds a gateway reported with an amount only, queued until staff allocate them to lines
-- (a refund of shopkeep's own, with its credit note) or link them to a refund already made.
-- Never approximated: the allocated refund's gross equals `amount` exactly.
CREATE TABLE shopkeep_gateway_refunds (
    id                BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    gateway           TEXT NOT NULL,
    payment_reference TEXT NOT NULL,
    order_id          BLOB NOT NULL REFERENCES shopkeep_orders (id),
    amount            INTEGER NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    event_id          TEXT NOT NULL,
    reported_at       TEXT NOT NULL,
    refund_id         BLOB UNIQUE REFERENCES shopkeep_refunds (id),
    settled_at        TEXT,
    CHECK ((refund_id IS NULL) = (settled_at IS NULL))
) STRICT;
CREATE INDEX shopkeep_gateway_refunds_open ON shopkeep_gateway_refunds (id)
    WHERE refund_id IS NULL;
CREATE INDEX shopkeep_gateway_refunds_by_payment
    ON shopkeep_gateway_refunds (gateway, payment_reference);
-- A queued refund is settled once; its amount and origin never change.
CREATE TRIGGER shopkeep_gateway_refunds_settle_once BEFORE UPDATE ON shopkeep_gateway_refunds
WHEN OLD.refund_id IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.amount IS NOT OLD.amount
     OR NEW.order_id IS NOT OLD.order_id OR NEW.currency IS NOT OLD.currency
BEGIN SELECT RAISE(ABORT, 'a gateway refund is settled once'); END;

-- Disputes (chargebacks) on orders' payments, opened and closed by gateway events.
CREATE TABLE shopkeep_gateway_disputes (
    gateway           TEXT NOT NULL,
    reference         TEXT NOT NULL,
    order_id          BLOB NOT NULL REFERENCES shopkeep_orders (id),
    payment_reference TEXT NOT NULL,
    amount            INTEGER NOT NULL CHECK (amount >= 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    status            TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost', 'closed')),
    opened_at         TEXT NOT NULL,
    closed_at         TEXT,
    CHECK ((status = 'open') = (closed_at IS NULL)),
    PRIMARY KEY (gateway, reference)
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_gateway_disputes_by_order ON shopkeep_gateway_disputes (order_id);

-- Processed events are the record of what each delivery did: never changed or removed.
CREATE TRIGGER shopkeep_gateway_events_no_update BEFORE UPDATE ON shopkeep_gateway_events
BEGIN SELECT RAISE(ABORT, 'processed gateway events are append-only'); END;
CREATE TRIGGER shopkeep_gateway_events_no_delete BEFORE DELETE ON shopkeep_gateway_events
BEGIN SELECT RAISE(ABORT, 'processed gateway events are append-only'); END;
