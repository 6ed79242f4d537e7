-- Orders, carts, coupons and checkout idempotency keys (see docs/orders.md).
--
-- Amounts are integers in minor units of the order's currency. Every stored total equals the
-- sum of its stored parts (lines and VAT breakdown rows); tests check it from these rows.

-- The human-friendly order number counter: one row, bumped inside the checkout transaction.
CREATE TABLE shopkeep_order_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL CHECK (next > 0)
) STRICT;
INSERT INTO shopkeep_order_counter (id, next) VALUES (1, 1);

-- Orders. `buyer` is the buyer snapshot (name, email, addresses, company, VAT id, buyer
-- reference) as one AES-256-GCM ciphertext under the legal-archive key, bound to
-- (shopkeep_orders, buyer, id), so it outlives the customer's erasure.
CREATE TABLE shopkeep_orders (
    id               BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    number           INTEGER NOT NULL UNIQUE CHECK (number > 0),
    customer_id      BLOB NOT NULL REFERENCES shopkeep_customers (id),
    status           TEXT NOT NULL CHECK (status IN
                         ('placed', 'paid', 'shipped', 'completed', 'cancelled', 'expired')),
    currency         TEXT NOT NULL CHECK (length(currency) = 3),
    price_mode       TEXT NOT NULL CHECK (price_mode IN ('exclusive', 'inclusive')),
    line_net_total   INTEGER NOT NULL,  -- BT-106
    allowance_total  INTEGER NOT NULL,  -- BT-107
    charge_total     INTEGER NOT NULL,  -- BT-108
    net_total        INTEGER NOT NULL,  -- BT-109
    vat_total        INTEGER NOT NULL,  -- BT-110
    gross_total      INTEGER NOT NULL,  -- BT-112 (and BT-115: nothing is prepaid)
    coupon_code      TEXT,
    destination      TEXT NOT NULL CHECK (length(destination) = 2),
    buyer            BLOB NOT NULL,
    placed_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK (net_total = line_net_total - allowance_total + charge_total),
    CHECK (gross_total = net_total + vat_total)
) STRICT;
CREATE INDEX shopkeep_orders_by_customer ON shopkeep_orders (customer_id, id);
CREATE INDEX shopkeep_orders_by_status ON shopkeep_orders (status, id);

-- Order lines: prices copied from the catalogue at checkout, the VAT treatment decided then.
CREATE TABLE shopkeep_order_lines (
    order_id         BLOB NOT NULL REFERENCES shopkeep_orders (id),
    position         INTEGER NOT NULL CHECK (position >= 0),
    variant_id       BLOB NOT NULL CHECK (length(variant_id) = 16),
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price       INTEGER NOT NULL CHECK (unit_price >= 0),
    amount           INTEGER NOT NULL,  -- quantity x unit price, as shown (net or gross)
    line_net         INTEGER NOT NULL,  -- BT-131
    discount         INTEGER NOT NULL CHECK (discount >= 0),
    vat_category     TEXT NOT NULL,
    vat_rate_bp      INTEGER NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason TEXT,
    PRIMARY KEY (order_id, position),
    CHECK (amount = quantity * unit_price)
) STRICT, WITHOUT ROWID;

-- The VAT breakdown (BG-23), one row per category and rate.
CREATE TABLE shopkeep_order_vat (
    order_id         BLOB NOT NULL REFERENCES shopkeep_orders (id),
    vat_category     TEXT NOT NULL,
    vat_rate_bp      INTEGER NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason TEXT,
    lines_net        INTEGER NOT NULL,
    allowance_net    INTEGER NOT NULL,
    charges_net      INTEGER NOT NULL,
    taxable          INTEGER NOT NULL,  -- BT-116
    tax              INTEGER NOT NULL,  -- BT-117
    PRIMARY KEY (order_id, vat_category, vat_rate_bp),
    CHECK (taxable = lines_net - allowance_net + charges_net)
) STRICT, WITHOUT ROWID;

-- Carts: a customer's (one each) or an anonymous visitor's, found by the keyed hash of its
-- opaque token (the token itself is never stored).
CREATE TABLE shopkeep_carts (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    customer_id BLOB UNIQUE REFERENCES shopkeep_customers (id),
    token_hash  BLOB UNIQUE CHECK (length(token_hash) = 32),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK ((customer_id IS NULL) <> (token_hash IS NULL))
) STRICT;

CREATE TABLE shopkeep_cart_lines (
    cart_id    BLOB NOT NULL REFERENCES shopkeep_carts (id) ON DELETE CASCADE,
    variant_id BLOB NOT NULL REFERENCES shopkeep_variants (id),
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    seq        INTEGER NOT NULL,  -- the order lines were added in
    added_at   TEXT NOT NULL,
    PRIMARY KEY (cart_id, variant_id)
) STRICT, WITHOUT ROWID;

-- Coupons. Codes are stored upper-cased (matching is case-insensitive). `uses` only grows,
-- by a conditional UPDATE in the checkout transaction, so it never passes `max_uses`.
CREATE TABLE shopkeep_coupons (
    code             TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent_bp       INTEGER CHECK (percent_bp BETWEEN 1 AND 10000),
    amount           INTEGER CHECK (amount > 0),
    currency         TEXT CHECK (length(currency) = 3),
    min_subtotal     INTEGER NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
    valid_from       TEXT,
    valid_until      TEXT,
    max_uses         INTEGER CHECK (max_uses > 0),
    max_per_customer INTEGER CHECK (max_per_customer > 0),
    uses             INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at       TEXT NOT NULL,
    CHECK (max_uses IS NULL OR uses <= max_uses),
    CHECK ((kind = 'percent') = (percent_bp IS NOT NULL)),
    CHECK ((kind = 'fixed') = (amount IS NOT NULL AND currency IS NOT NULL))
) STRICT, WITHOUT ROWID;

CREATE TABLE shopkeep_coupon_uses (
    code        TEXT NOT NULL REFERENCES shopkeep_coupons (code),
    customer_id BLOB NOT NULL,
    order_id    BLOB NOT NULL UNIQUE REFERENCES shopkeep_orders (id),
    PRIMARY KEY (code, customer_id, order_id)
) STRICT, WITHOUT ROWID;

-- Checkout idempotency keys, scoped to the principal, kept 24 hours. Only keyed hashes of the
-- key and of the request's canonical form are stored.
CREATE TABLE shopkeep_idempotency (
    principal    TEXT NOT NULL,
    key_hash     BLOB NOT NULL CHECK (length(key_hash) = 32),
    request_hash BLOB NOT NULL CHECK (length(request_hash) = 32),
    order_id     BLOB NOT NULL REFERENCES shopkeep_orders (id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (principal, key_hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX shopkeep_idempotency_by_age ON shopkeep_idempotency (created_at);
