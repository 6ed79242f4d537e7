-- PostgreSQL twin of ../0011_supply_kind.sql. Differs: TEXT is text; nothing else.
ALTER TABLE shopkeep_products
    ADD COLUMN supply_kind text NOT NULL DEFAULT 'goods'
    CHECK (supply_kind IN ('goods', 'services'));
