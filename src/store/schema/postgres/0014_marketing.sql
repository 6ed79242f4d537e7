-- PostgreSQL twin of ../0014_marketing.sql. Differs: PostgreSQL changes a CHECK in place, so the
-- two tables that store roles are not rebuilt: their role CHECKs (named in 0003) are replaced.
-- The end state is the SQLite file's: the same columns in the same order, the same constraints.
-- Otherwise bigint/bytea/double precision, STRICT and WITHOUT ROWID dropped.

ALTER TABLE shopkeep_staff DROP CONSTRAINT shopkeep_staff_role_check,
    ADD CONSTRAINT shopkeep_staff_role_check CHECK
        (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse', 'marketing'));
ALTER TABLE shopkeep_api_keys DROP CONSTRAINT shopkeep_api_keys_role_check,
    ADD CONSTRAINT shopkeep_api_keys_role_check CHECK
        (role IN ('owner', 'manager', 'support', 'accountant', 'warehouse', 'marketing'));

-- The campaign attribution the host passed at checkout (UTM parameters and the message the
-- customer came from), one row per attributed order. Not personal data: campaign names and
-- message ids. Written once, with the order.
CREATE TABLE shopkeep_order_attribution (
    order_id   bytea PRIMARY KEY NOT NULL REFERENCES shopkeep_orders (id),
    source     text,
    medium     text,
    campaign   text,
    term       text,
    content    text,
    message_id text
);
CREATE INDEX shopkeep_order_attribution_by_campaign ON shopkeep_order_attribution (campaign);

-- Sales and cohort reports read paid orders by time.
CREATE INDEX shopkeep_orders_by_placed ON shopkeep_orders (placed_at);

-- Each customer's RFM scores as of the last `refresh_scores`, and the CLV figures the CLV
-- model fills in (NULL until it has). Audiences filter on these columns. `country` is the
-- shipping country of the customer's latest scored order (an ISO 3166 code: not personal data
-- on its own; names and streets stay encrypted in the orders). Money is in minor units of
-- the shop's base currency.
CREATE TABLE shopkeep_customer_scores (
    customer_id        bytea PRIMARY KEY NOT NULL CHECK (octet_length(customer_id) = 16),
    first_order_at     text NOT NULL,
    last_order_at      text NOT NULL,
    recency_days       bigint NOT NULL CHECK (recency_days >= 0),
    frequency          bigint NOT NULL CHECK (frequency > 0),
    monetary           bigint NOT NULL,
    r_score            bigint NOT NULL CHECK (r_score BETWEEN 1 AND 5),
    f_score            bigint NOT NULL CHECK (f_score BETWEEN 1 AND 5),
    m_score            bigint NOT NULL CHECK (m_score BETWEEN 1 AND 5),
    segment            text NOT NULL,
    country            text CHECK (length(country) = 2),
    p_alive            double precision CHECK (p_alive BETWEEN 0 AND 1),
    expected_purchases double precision CHECK (expected_purchases >= 0),
    expected_value     bigint,
    refreshed_at       text NOT NULL
);
CREATE INDEX shopkeep_customer_scores_by_segment ON shopkeep_customer_scores (segment, customer_id);
CREATE INDEX shopkeep_customer_scores_by_monetary ON shopkeep_customer_scores (monetary);
CREATE INDEX shopkeep_customer_scores_by_frequency ON shopkeep_customer_scores (frequency);
CREATE INDEX shopkeep_customer_scores_by_last_order ON shopkeep_customer_scores (last_order_at);
CREATE INDEX shopkeep_customer_scores_by_country ON shopkeep_customer_scores (country, customer_id);
