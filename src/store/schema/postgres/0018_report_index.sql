-- PostgreSQL twin of ../0018_report_index.sql, converted type for type: INTEGER is bigint, TEXT text, BLOB
-- bytea (length() of a 16- or 32-byte blob is octet_length()), REAL double precision,
-- json_valid() is shopkeep_json_valid() (0005); STRICT and WITHOUT ROWID dropped.

-- Marketing reports (RFM, cohorts, CLV, sales, affinity) read every counted order of the shop's
-- base currency in time order. This index holds every column they read, in that order, so a
-- report walks it and never visits the orders' rows, which are several times wider (the buyer
-- snapshot, every total): a covering index, about a third of the table's size.
CREATE INDEX shopkeep_orders_for_reports ON shopkeep_orders
    (currency, placed_at, id, status, customer_id, gross_total, destination, coupon_code);
