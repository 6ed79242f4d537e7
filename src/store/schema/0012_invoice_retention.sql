-- Invoice retention checked against each document and the clock, not against a settable row
-- (see docs/invoicing.md, "Retention").
--
-- 0010 let a DELETE through while `shopkeep_invoice_purge` was open with a cutoff after the
-- document's `deletable_from`, and anyone with SQL access could open it with any cutoff. Now a
-- document may be deleted once its own `deletable_from` (frozen at issue from its issue date and
-- the retention period then in force; issued documents cannot be updated) has begun everywhere
-- on earth: on the date it is in UTC-12, the last zone to reach a date. "Now" is
-- `shopkeep_now()`, a function every shopkeep connection registers with the store's clock; a
-- connection without it (the sqlite3 shell, another program) cannot delete a document at all.
-- Triggers defend against misuse through SQL, not against someone who drops them.

DROP TRIGGER shopkeep_invoices_no_delete;
DROP TRIGGER shopkeep_invoice_lines_no_delete;

CREATE TRIGGER shopkeep_invoices_no_delete BEFORE DELETE ON shopkeep_invoices
WHEN NOT (OLD.deletable_from <= date(shopkeep_now(), '-12 hours'))
BEGIN
    SELECT RAISE(ABORT, 'issued invoices are kept for their retention period');
END;

CREATE TRIGGER shopkeep_invoice_lines_no_delete BEFORE DELETE ON shopkeep_invoice_lines
WHEN NOT coalesce(
    (SELECT i.deletable_from <= date(shopkeep_now(), '-12 hours')
     FROM shopkeep_invoices i WHERE i.id = OLD.invoice_id),
    0
)
BEGIN
    SELECT RAISE(ABORT, 'issued invoices are kept for their retention period');
END;

-- Every retention period is at least a year, counted from the end of the year of issue, so a
-- document is kept at least until the second 1 January after its issue date; a row written
-- by hand with an earlier `deletable_from` is refused.
CREATE TRIGGER shopkeep_invoices_minimum_retention BEFORE INSERT ON shopkeep_invoices
WHEN NOT (NEW.deletable_from >= date(NEW.issue_date, 'start of year', '+2 years'))
BEGIN
    SELECT RAISE(ABORT, 'issued invoices are kept for their retention period');
END;

-- The window row of 0010 no longer decides anything; it is closed for good.
UPDATE shopkeep_invoice_purge SET open = 0, cutoff = '' WHERE open <> 0 OR cutoff <> '';
CREATE TRIGGER shopkeep_invoice_purge_no_update BEFORE UPDATE ON shopkeep_invoice_purge
BEGIN
    SELECT RAISE(ABORT, 'the purge window is retired: retention is checked per document');
END;
