-- PostgreSQL twin of ../0013_auth_macs.sql. Differs: bytea/octet_length; the invoice update
-- trigger's WHEN is a PostgreSQL trigger WHEN calling shopkeep_refuse() (0003). The keyed step
-- that MACs existing rows runs after this file on both engines.
ALTER TABLE shopkeep_customers ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);
ALTER TABLE shopkeep_customer_tokens ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);
ALTER TABLE shopkeep_staff ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);
ALTER TABLE shopkeep_sessions ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);
ALTER TABLE shopkeep_api_keys ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);
ALTER TABLE shopkeep_orders ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);
ALTER TABLE shopkeep_invoices ADD COLUMN auth_mac bytea CHECK (octet_length(auth_mac) = 32);

-- The one update allowed is giving a row that has no MAC its MAC.
DROP TRIGGER shopkeep_invoices_no_update ON shopkeep_invoices;
CREATE TRIGGER shopkeep_invoices_no_update BEFORE UPDATE ON shopkeep_invoices
FOR EACH ROW WHEN (OLD.auth_mac IS NOT NULL OR NEW.auth_mac IS NULL)
EXECUTE FUNCTION shopkeep_refuse('issued invoices cannot be changed; issue a credit note');
