-- PostgreSQL twin of ../0024_dialect_functions.sql: SQLite's built-in functions that shared
-- statements use, with SQLite's results, so that the statement text stays one for both engines.

-- hex(blob): the bytes as upper-case hexadecimal digits (campaign flows' subject keys and scan
-- cursors). SQLite's hex(NULL) is '', this one's is NULL; every caller passes a NOT NULL id or
-- wraps it in coalesce(..., '').
CREATE FUNCTION hex(value bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT upper(encode(value, 'hex')) $$;
