-- The catalogue: products, their variants, prices per currency, the stock ledger, full-text
-- search; and the shop's settings.

-- The shop's one settings record: a JSON document that the repository writes and reads only
-- through the validating model types (src/catalog/settings_repo.rs), versioned for optimistic
-- concurrency. It is read and written whole and never filtered on, so typed columns (and three
-- more tables for the currencies and the tax table) would buy nothing.
CREATE TABLE shopkeep_settings (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version    INTEGER NOT NULL CHECK (version > 0),
    document   TEXT NOT NULL CHECK (json_valid(document)),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
) STRICT;

-- Every SKU, a product's or a variant's, in one namespace: a SKU names exactly one product
-- (a simple product and its one variant share theirs). Compared regardless of case.
CREATE TABLE shopkeep_skus (
    sku        TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
    product_id BLOB NOT NULL CHECK (length(product_id) = 16),
    UNIQUE (sku, product_id)
) STRICT, WITHOUT ROWID;

-- Products. `seq` is an explicit INTEGER PRIMARY KEY because the full-text index is keyed by
-- it, and VACUUM may renumber an implicit rowid.
CREATE TABLE shopkeep_products (
    seq          INTEGER PRIMARY KEY NOT NULL,
    id           BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    sku          TEXT NOT NULL COLLATE NOCASE,
    name         TEXT NOT NULL CHECK (length(name) > 0),
    description  TEXT NOT NULL,
    tax_category TEXT NOT NULL CHECK (tax_category IN ('standard', 'reduced', 'zero', 'exempt')),
    status       TEXT NOT NULL CHECK (status IN ('active', 'archived')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    FOREIGN KEY (sku, id) REFERENCES shopkeep_skus (sku, product_id)
) STRICT;

-- Variants: the units that are sold, each with its own SKU, options (a JSON array of
-- [name, value] pairs), stock level and low-stock threshold. The level changes only together
-- with a row of the stock ledger, and never goes below zero.
CREATE TABLE shopkeep_variants (
    id                  BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    product_id          BLOB NOT NULL REFERENCES shopkeep_products (id),
    sku                 TEXT NOT NULL UNIQUE COLLATE NOCASE,
    position            INTEGER NOT NULL CHECK (position >= 0),
    options             TEXT NOT NULL CHECK (json_valid(options)),
    tracked             INTEGER NOT NULL CHECK (tracked IN (0, 1)),
    stock               INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    low_stock_threshold INTEGER CHECK (low_stock_threshold >= 0),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (tracked = 1 OR stock = 0),
    UNIQUE (product_id, position),
    FOREIGN KEY (sku, product_id) REFERENCES shopkeep_skus (sku, product_id)
) STRICT;

-- Prices in minor units of their currency; net or gross as the settings' price mode says.
CREATE TABLE shopkeep_prices (
    variant_id BLOB NOT NULL REFERENCES shopkeep_variants (id),
    currency   TEXT NOT NULL CHECK (length(currency) = 3),
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (variant_id, currency)
) STRICT, WITHOUT ROWID;

-- The stock ledger: one row per movement, append-only. A variant's level equals the sum of
-- its rows' deltas.
CREATE TABLE shopkeep_stock_ledger (
    seq         INTEGER PRIMARY KEY NOT NULL,
    variant_id  BLOB NOT NULL REFERENCES shopkeep_variants (id),
    reason      TEXT NOT NULL,
    delta       INTEGER NOT NULL,
    level_after INTEGER NOT NULL CHECK (level_after >= 0),
    note        TEXT,
    principal   TEXT NOT NULL,
    at          TEXT NOT NULL,
    CHECK (
        (reason IN ('receipt', 'return', 'reservation_release') AND delta > 0)
        OR (reason = 'sale' AND delta < 0)
        OR (reason = 'adjustment' AND delta != 0)
    )
) STRICT;
CREATE INDEX shopkeep_stock_ledger_variant ON shopkeep_stock_ledger (variant_id, seq);

CREATE TRIGGER shopkeep_stock_ledger_no_update BEFORE UPDATE ON shopkeep_stock_ledger
BEGIN
    SELECT RAISE(ABORT, 'the stock ledger is append-only');
END;

CREATE TRIGGER shopkeep_stock_ledger_no_delete BEFORE DELETE ON shopkeep_stock_ledger
BEGIN
    SELECT RAISE(ABORT, 'the stock ledger is append-only');
END;

-- Full-text search over names and descriptions, keyed by the product's seq. It keeps its own
-- copy of the text and is written by the repository in the product's transaction: triggers
-- cannot write a virtual table while `trusted_schema` is off, and an external-content index
-- would need the exact old text to delete a row. Names weigh ten times descriptions in bm25.
CREATE VIRTUAL TABLE shopkeep_products_fts USING fts5(
    name,
    description,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO shopkeep_products_fts (shopkeep_products_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)');
