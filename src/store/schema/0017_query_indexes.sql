-- Indexes the query-plan test (tests/query_plans.rs) asked for: every statement the
-- repositories run is served by an index, so no read grows with its table.

-- `invoices.for_order` finds an order's invoice and credit notes. The only index on
-- order_id, shopkeep_invoices_one_per_order, is partial (kind = 'invoice'), so SQLite
-- scanned every invoice to find the credit notes too.
CREATE INDEX shopkeep_invoices_by_order ON shopkeep_invoices (order_id);
