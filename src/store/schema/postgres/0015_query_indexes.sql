-- PostgreSQL twin of ../0015_query_indexes.sql: the same indexes, unchanged.

-- Indexes the query-plan test (tests/query_plans.rs) asked for: every statement the
-- repositories run is served by an index, so no read grows with its table.

-- `invoices.for_order` finds an order's invoice and credit notes. The only index on
-- order_id, shopkeep_invoices_one_per_order, is partial (kind = 'invoice'), so SQLite
-- scanned every invoice to find the credit notes too.
CREATE INDEX shopkeep_invoices_by_order ON shopkeep_invoices (order_id);

-- Product lists page by id within a filter: by status (visitors see only active products),
-- by tax category, or both. Without these SQLite walked every product in id order and
-- skipped those that did not match, so a rare filter value read the whole catalogue.
CREATE INDEX shopkeep_products_by_status ON shopkeep_products (status, id);
CREATE INDEX shopkeep_products_by_tax_category ON shopkeep_products (tax_category, id);
CREATE INDEX shopkeep_products_by_status_tax_category
    ON shopkeep_products (status, tax_category, id);

-- Marketing reports leave erased customers out of RFM: they read the erased ids once per
-- report. Erasures are few, so a partial index holds only them and the read stays as small
-- as they are.
CREATE INDEX shopkeep_customers_erased ON shopkeep_customers (id) WHERE erased_at IS NOT NULL;
