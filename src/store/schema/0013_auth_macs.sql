-- Authenticated authority (see docs/security.md, "Auth MACs"): every row that decides who owns
-- something or what someone may do gets `auth_mac`, an HMAC-SHA256 under a key derived from the
-- root key over its bound columns, verified on every read. Rows written before this migration
-- are MACed in the same transaction by a step that needs the keys (store/auth_macs.rs), so once
-- this version is recorded every row has its MAC, and a NULL one means the row was tampered with.
ALTER TABLE shopkeep_customers ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);
ALTER TABLE shopkeep_customer_tokens ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);
ALTER TABLE shopkeep_staff ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);
ALTER TABLE shopkeep_sessions ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);
ALTER TABLE shopkeep_api_keys ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);
ALTER TABLE shopkeep_orders ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);
ALTER TABLE shopkeep_invoices ADD COLUMN auth_mac BLOB CHECK (length(auth_mac) = 32);

-- An issued document still never changes. The one update allowed is giving a row that has no
-- MAC its MAC, which only this migration's keyed step does: after it, no such row exists.
DROP TRIGGER shopkeep_invoices_no_update;
CREATE TRIGGER shopkeep_invoices_no_update BEFORE UPDATE ON shopkeep_invoices
WHEN OLD.auth_mac IS NOT NULL OR NEW.auth_mac IS NULL
BEGIN
    SELECT RAISE(ABORT, 'issued invoices cannot be changed; issue a credit note');
END;
