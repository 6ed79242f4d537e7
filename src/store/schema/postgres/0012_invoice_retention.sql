-- PostgreSQL twin of ../0012_invoice_retention.sql. Differs: "now" is the store's clock as
-- `current_setting('shopkeep.now')`, which shopkeep sets with SET LOCAL at the start of every
-- transaction (RFC 3339 text, as SQLite's shopkeep_now() returns); a session that has not set it
-- (psql, another program) cannot delete a document at all, as a SQLite connection without
-- shopkeep_now() cannot. Dates are computed as SQLite's date() does (the UTC date, as
-- YYYY-MM-DD text). The triggers are PL/pgSQL functions; 0010's delete functions are dropped
-- with their triggers.

DROP TRIGGER shopkeep_invoices_no_delete ON shopkeep_invoices;
DROP TRIGGER shopkeep_invoice_lines_no_delete ON shopkeep_invoice_lines;
DROP FUNCTION shopkeep_invoices_no_delete();
DROP FUNCTION shopkeep_invoice_lines_no_delete();

-- The date it is in UTC-12 by the store's clock, or NULL when the clock is not set.
CREATE FUNCTION shopkeep_retention_today() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char((nullif(current_setting('shopkeep.now', true), '')::timestamptz
                    AT TIME ZONE 'UTC') - interval '12 hours', 'YYYY-MM-DD')
$$;

CREATE FUNCTION shopkeep_invoices_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today text := shopkeep_retention_today();
BEGIN
    IF today IS NULL OR NOT (OLD.deletable_from <= today) THEN
        RAISE EXCEPTION 'issued invoices are kept for their retention period';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER shopkeep_invoices_no_delete BEFORE DELETE ON shopkeep_invoices
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoices_no_delete();

CREATE FUNCTION shopkeep_invoice_lines_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today text := shopkeep_retention_today();
BEGIN
    IF today IS NULL OR NOT coalesce(
        (SELECT i.deletable_from <= today FROM shopkeep_invoices i WHERE i.id = OLD.invoice_id),
        false
    ) THEN
        RAISE EXCEPTION 'issued invoices are kept for their retention period';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER shopkeep_invoice_lines_no_delete BEFORE DELETE ON shopkeep_invoice_lines
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoice_lines_no_delete();

-- Kept at least until the second 1 January after the issue date.
CREATE FUNCTION shopkeep_invoices_minimum_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (NEW.deletable_from >= to_char(date_trunc('year', NEW.issue_date::date)
                                           + interval '2 years', 'YYYY-MM-DD')) THEN
        RAISE EXCEPTION 'issued invoices are kept for their retention period';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER shopkeep_invoices_minimum_retention BEFORE INSERT ON shopkeep_invoices
FOR EACH ROW EXECUTE FUNCTION shopkeep_invoices_minimum_retention();

-- The window row of 0010 no longer decides anything; it is closed for good.
UPDATE shopkeep_invoice_purge SET open = 0, cutoff = '' WHERE open <> 0 OR cutoff <> '';
CREATE TRIGGER shopkeep_invoice_purge_no_update BEFORE UPDATE ON shopkeep_invoice_purge
FOR EACH ROW EXECUTE FUNCTION
    shopkeep_refuse('the purge window is retired: retention is checked per document');
