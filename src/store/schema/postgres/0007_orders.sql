-- PostgreSQL twin of ../0007_orders.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- Orders, carts, coupons and checkout idempotency keys (see docs/orders.md).
--
-- Amounts are integers in minor units of the order's currency. Every stored total equals the
-- sum of its stored parts (lines and VAT breakdown rows); tests check it from these rows.

-- The human-friendly order number counter: one row, bumped inside the checkout transaction.
CREATE TABLE shopkeep_order_counter (
    id   bigint PRIMARY KEY CHECK (id = 1),
    next bigint NOT NULL CHECK (next > 0)
);
INSERT INTO shopkeep_order_counter (id, next) VALUES (1, 1);

-- Orders. `buyer` is the buyer snapshot (name, email, addresses, company, VAT id, buyer
-- reference) as one AES-256-GCM ciphertext under the legal-archive key, bound to
-- (shopkeep_orders, buyer, id), so it outlives the customer's erasure.
CREATE TABLE shopkeep_orders (
    id               bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    number           bigint NOT NULL UNIQUE CHECK (number > 0),
    customer_id      bytea NOT NULL REFERENCES shopkeep_customers (id),
    status           text NOT NULL CHECK (status IN
                         ('placed', 'paid', 'shipped', 'completed', 'cancelled', 'expired')),
    currency         text NOT NULL CHECK (length(currency) = 3),
    price_mode       text NOT NULL CHECK (price_mode IN ('exclusive', 'inclusive')),
    line_net_total   bigint NOT NULL,  -- BT-106
    allowance_total  bigint NOT NULL,  -- BT-107
    charge_total     bigint NOT NULL,  -- BT-108
    net_total        bigint NOT NULL,  -- BT-109
    vat_total        bigint NOT NULL,  -- BT-110
    gross_total      bigint NOT NULL,  -- BT-112 (and BT-115: nothing is prepaid)
    coupon_code      text,
    destination      text NOT NULL CHECK (length(destination) = 2),
    buyer            bytea NOT NULL,
    placed_at        text NOT NULL,
    updated_at       text NOT NULL,
    version          bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    CHECK (net_total = line_net_total - allowance_total + charge_total),
    CHECK (gross_total = net_total + vat_total)
);
CREATE INDEX shopkeep_orders_by_customer ON shopkeep_orders (customer_id, id);
CREATE INDEX shopkeep_orders_by_status ON shopkeep_orders (status, id);

-- Order lines: prices copied from the catalogue at checkout, the VAT treatment decided then.
CREATE TABLE shopkeep_order_lines (
    order_id         bytea NOT NULL REFERENCES shopkeep_orders (id),
    position         bigint NOT NULL CHECK (position >= 0),
    variant_id       bytea NOT NULL CHECK (octet_length(variant_id) = 16),
    sku              text NOT NULL,
    name             text NOT NULL,
    quantity         bigint NOT NULL CHECK (quantity > 0),
    unit_price       bigint NOT NULL CHECK (unit_price >= 0),
    amount           bigint NOT NULL,  -- quantity x unit price, as shown (net or gross)
    line_net         bigint NOT NULL,  -- BT-131
    discount         bigint NOT NULL CHECK (discount >= 0),
    vat_category     text NOT NULL,
    vat_rate_bp      bigint NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason text,
    PRIMARY KEY (order_id, position),
    CHECK (amount = quantity * unit_price)
);

-- The VAT breakdown (BG-23), one row per category and rate.
CREATE TABLE shopkeep_order_vat (
    order_id         bytea NOT NULL REFERENCES shopkeep_orders (id),
    vat_category     text NOT NULL,
    vat_rate_bp      bigint NOT NULL CHECK (vat_rate_bp >= 0),
    exemption_reason text,
    lines_net        bigint NOT NULL,
    allowance_net    bigint NOT NULL,
    charges_net      bigint NOT NULL,
    taxable          bigint NOT NULL,  -- BT-116
    tax              bigint NOT NULL,  -- BT-117
    PRIMARY KEY (order_id, vat_category, vat_rate_bp),
    CHECK (taxable = lines_net - allowance_net + charges_net)
);

-- Carts: a customer's (one each) or an anonymous visitor's, found by the keyed hash of its
-- opaque token (the token itself is never stored).
CREATE TABLE shopkeep_carts (
    id          bytea PRIMARY KEY NOT NULL CHECK (octet_length(id) = 16),
    customer_id bytea UNIQUE REFERENCES shopkeep_customers (id),
    token_hash  bytea UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  text NOT NULL,
    updated_at  text NOT NULL,
    CHECK ((customer_id IS NULL) <> (token_hash IS NULL))
);

CREATE TABLE shopkeep_cart_lines (
    cart_id    bytea NOT NULL REFERENCES shopkeep_carts (id) ON DELETE CASCADE,
    variant_id bytea NOT NULL REFERENCES shopkeep_variants (id),
    quantity   bigint NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    seq        bigint NOT NULL,  -- the order lines were added in
    added_at   text NOT NULL,
    PRIMARY KEY (cart_id, variant_id)
);

-- Coupons. Codes are stored upper-cased (matching is case-insensitive). `uses` only grows,
-- by a conditional UPDATE in the checkout transaction, so it never passes `max_uses`.
CREATE TABLE shopkeep_coupons (
    code             text PRIMARY KEY NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent_bp       bigint CHECK (percent_bp BETWEEN 1 AND 10000),
    amount           bigint CHECK (amount > 0),
    currency         text CHECK (length(currency) = 3),
    min_subtotal     bigint NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
    valid_from       text,
    valid_until      text,
    max_uses         bigint CHECK (max_uses > 0),
    max_per_customer bigint CHECK (max_per_customer > 0),
    uses             bigint NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at       text NOT NULL,
    CHECK (max_uses IS NULL OR uses <= max_uses),
    CHECK ((kind = 'percent') = (percent_bp IS NOT NULL)),
    CHECK ((kind = 'fixed') = (amount IS NOT NULL AND currency IS NOT NULL))
);

CREATE TABLE shopkeep_coupon_uses (
    code        text NOT NULL REFERENCES shopkeep_coupons (code),
    customer_id bytea NOT NULL,
    order_id    bytea NOT NULL UNIQUE REFERENCES shopkeep_orders (id),
    PRIMARY KEY (code, customer_id, order_id)
);

-- Checkout idempotency keys, scoped to the principal, kept 24 hours. Only keyed hashes of the
-- key and of the request's canonical form are stored.
CREATE TABLE shopkeep_idempotency (
    principal    text NOT NULL,
    key_hash     bytea NOT NULL CHECK (octet_length(key_hash) = 32),
    request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
    order_id     bytea NOT NULL REFERENCES shopkeep_orders (id),
    created_at   text NOT NULL,
    PRIMARY KEY (principal, key_hash)
);
CREATE INDEX shopkeep_idempotency_by_age ON shopkeep_idempotency (created_at);
