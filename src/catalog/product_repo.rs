//! Products' SQL: create, read, list, search, update, archive.

use super::product::{
    self, CheckedVariant, NewProduct, PriceChange, Product, ProductId, ProductStatus,
    ProductUpdate, Variant, VariantId, VariantOption,
};
use super::query::{Cursor, Page, ProductOrder, ProductQuery};
use super::search::{fts_query, ts_query};
use super::settings_repo;
use super::sku::Sku;
use super::sql::{int, uint};
use super::tax::SupplyKind;
use crate::access::{Action, Principal, PrincipalKind, Resource};
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::sql::{Param, Row, args};
use crate::store::{Store, Tx, not_found};
use crate::text;

/// The most results one search returns.
const MAX_SEARCH_RESULTS: usize = 100;
/// The most matches one search ranks: the newest this many matching products (by their
/// full-text rowid, which follows creation). bm25 is computed for every row a ranked FTS5
/// query matches before `LIMIT` applies, so without a ceiling a word found in every product
/// cost a visitor's search as much as the whole catalogue (docs/catalog.md, "Listing and
/// search").
pub(crate) const SEARCH_CANDIDATES: usize = 500;

/// The columns every product read selects, in the order [`collect`] reads them. `p` is the
/// product, `v` its variants, `pr` their prices (a LEFT JOIN: a variant may have none).
const COLUMNS: &str = "p.id, p.sku, p.name, p.description, p.tax_category, p.status, \
     p.created_at, p.updated_at, p.version, v.id, v.sku, v.options, v.tracked, v.stock, \
     v.low_stock_threshold, pr.currency, pr.amount, p.supply_kind";

/// Joins a product's variants and their prices.
const JOINS: &str = "JOIN shopkeep_variants v ON v.product_id = p.id \
     LEFT JOIN shopkeep_prices pr ON pr.variant_id = v.id";

/// A list's parameters: values built with its statement, bound when it runs.
type ListParams = Vec<Box<dyn Param>>;

/// The catalogue's products, as seen by one principal. From [`Store::products`].
///
/// Anonymous visitors and customers see active products only: for them an archived product
/// answers `NotFound`, exactly like a missing one. Staff, API keys and the system see all.
#[derive(Debug)]
pub struct ProductRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The catalogue's products, for `principal`.
    ///
    /// ```
    /// use shopkeep::{Currency, KeyRing, Money, Principal, Store};
    /// use shopkeep::catalog::{NewProduct, Sku, TaxCategory};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let admin = store.system();
    /// let mug = NewProduct::new(Sku::parse("MUG-1")?, "Mug", TaxCategory::Standard)?
    ///     .price(Money::parse("12.90", Currency::EUR)?);
    /// let mug = store.products(&admin).create(mug)?;
    ///
    /// let visitor = Principal::anonymous();
    /// let found = store.products(&visitor).get_by_sku(&Sku::parse("mug-1")?)?;
    /// assert_eq!(found.id(), mug.id());
    /// assert_eq!(found.variants()[0].price(Currency::EUR), Some(Money::parse("12.90", Currency::EUR)?));
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn products<'s>(&'s self, principal: &'s Principal) -> ProductRepo<'s> {
        ProductRepo {
            store: self,
            principal,
        }
    }
}

impl ProductRepo<'_> {
    /// Creates a product and its variants. Needs [`Action::CreateProduct`]; audited.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` naming the field for a bad
    /// description, option, negative price, two prices in one currency, or (once settings are
    /// saved) a price in a currency the shop does not accept (`currency`); `AlreadyExists` if a
    /// SKU is already in use. Nothing is written on error.
    pub fn create(&self, new: NewProduct) -> Result<Product> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::CreateProduct, &Resource::Catalog)?;
            let checked = new.check()?;
            for variant in &checked.variants {
                check_currencies(tx, variant.prices.keys().copied())?;
            }
            let id = ProductId::generate(tx.now())?;
            insert_sku(tx, &checked.sku, id)?;
            let seq: i64 = tx.query_row(
                "INSERT INTO shopkeep_products
                         (id, sku, name, description, tax_category, supply_kind, status,
                          created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?7) RETURNING seq",
                args![
                    id,
                    checked.sku,
                    checked.name,
                    checked.description,
                    checked.tax_category,
                    checked.supply_kind,
                    tx.now()
                ],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO shopkeep_products_fts (rowid, name, description) VALUES (?1, ?2, ?3)",
                args![seq, checked.name, checked.description],
            )?;
            for (position, variant) in checked.variants.iter().enumerate() {
                insert_variant(tx, id, position, variant)?;
            }
            tx.audit(
                self.principal,
                Action::CreateProduct,
                &Resource::Product(id),
            )?;
            load(tx, id)?.ok_or_else(|| not_found(&Resource::Product(id)))
        })
    }

    /// Reads one product. Needs [`Action::ReadProduct`].
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such product, or it is archived and the principal is not
    /// staff.
    pub fn get(&self, id: ProductId) -> Result<Product> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadProduct, &Resource::Product(id))?;
            self.visible(load(tx, id)?, &Resource::Product(id))
        })
    }

    /// Reads the product that has `sku`, its own or one of its variants' (regardless of case).
    /// Needs [`Action::ReadProduct`].
    ///
    /// # Errors
    ///
    /// `NotFound` as for [`get`](ProductRepo::get).
    pub fn get_by_sku(&self, sku: &Sku) -> Result<Product> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadProduct, &Resource::Catalog)?;
            let sql = format!(
                "SELECT {COLUMNS} FROM shopkeep_products p {JOINS}
                 WHERE p.id = (SELECT product_id FROM shopkeep_skus WHERE sku = ?1)
                 ORDER BY v.position, pr.currency"
            );
            let found = collect(tx, &sql, args![sku])?.into_iter().next();
            self.visible(found, &Resource::Catalog)
        })
    }

    /// One page of products, in a stable order, filtered. Pass the page's
    /// [`next_cursor`](Page::next_cursor) to [`ProductQuery::after`] for the next.
    /// Needs [`Action::ReadProduct`].
    ///
    /// ```
    /// use shopkeep::{KeyRing, Store};
    /// use shopkeep::catalog::{NewProduct, ProductQuery, Sku, TaxCategory};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let admin = store.system();
    /// for i in 0..5 {
    ///     let new = NewProduct::new(Sku::parse(&format!("P-{i}"))?, "Pen", TaxCategory::Standard)?;
    ///     store.products(&admin).create(new)?;
    /// }
    /// let mut query = ProductQuery::new().limit(2);
    /// let mut seen = 0;
    /// loop {
    ///     let page = store.products(&admin).list(&query)?;
    ///     seen += page.items().len();
    ///     match page.next_cursor() {
    ///         Some(cursor) => query = query.after(cursor.clone()),
    ///         None => break,
    ///     }
    /// }
    /// assert_eq!(seen, 5);
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` for a page size outside 1 to 500
    /// (`limit`), a cursor of another order (`cursor`), or a price range with two currencies
    /// or a minimum above its maximum (`price`).
    pub fn list(&self, query: &ProductQuery) -> Result<Page<Product>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadProduct, &Resource::Catalog)?;
            let (sql, params, limit) = self.list_statement(query)?;
            let params: Vec<&dyn Param> = params.iter().map(|param| &**param).collect();
            let mut items = collect(tx, &sql, &params)?;
            let next = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|p| Cursor::new(query.order, p.id))
            } else {
                None
            };
            Ok(Page { items, next })
        })
    }

    /// The statement of a list, its parameters and the page size. Only fixed SQL fragments
    /// are joined; every value is a parameter.
    fn list_statement(&self, query: &ProductQuery) -> Result<(String, ListParams, usize)> {
        let limit = query.checked_limit()?;
        let price = query.checked_price()?;
        let after = query
            .after
            .as_ref()
            .map(|c| c.position(query.order))
            .transpose()?;
        let (compare, direction) = match query.order {
            ProductOrder::Oldest => (">", "ASC"),
            ProductOrder::Newest => ("<", "DESC"),
        };
        let mut conditions = String::new();
        let mut params: ListParams = Vec::new();
        if let Some(status) = query.status {
            conditions.push_str(" AND p.status = ?");
            params.push(Box::new(status.as_str().to_owned()));
        }
        if !sees_archived(self.principal) {
            conditions.push_str(" AND p.status = 'active'");
        }
        if let Some(category) = query.tax_category {
            conditions.push_str(" AND p.tax_category = ?");
            params.push(Box::new(category.as_str().to_owned()));
        }
        if query.in_stock {
            conditions.push_str(
                " AND EXISTS (SELECT 1 FROM shopkeep_variants s
                   WHERE s.product_id = p.id AND (s.tracked = 0 OR s.stock > 0))",
            );
        }
        if let Some((min, max)) = price {
            conditions.push_str(
                " AND EXISTS (SELECT 1 FROM shopkeep_variants s
                   JOIN shopkeep_prices sp ON sp.variant_id = s.id
                   WHERE s.product_id = p.id AND sp.currency = ? AND sp.amount BETWEEN ? AND ?)",
            );
            params.push(Box::new(min.currency().code().to_owned()));
            params.push(Box::new(min.minor()));
            params.push(Box::new(max.minor()));
        }
        if let Some(after) = after {
            conditions.push_str(&format!(" AND p.id {compare} ?"));
            params.push(Box::new(after.as_bytes().to_vec()));
        }
        // One row more than the page tells whether there is a next page.
        params.push(Box::new(int(limit + 1)));
        let sql = format!(
            "WITH page AS (
                 SELECT p.id FROM shopkeep_products p WHERE 1 = 1{conditions}
                 ORDER BY p.id {direction} LIMIT ?
             )
             SELECT {COLUMNS} FROM page JOIN shopkeep_products p ON p.id = page.id {JOINS}
             ORDER BY p.id {direction}, v.position, pr.currency"
        );
        Ok((sql, params, limit))
    }

    /// Full-text search over names and descriptions, best match first (bm25, a match in the
    /// name counting ten times one in the description), at most `limit` (1 to 100) products.
    /// Needs [`Action::ReadProduct`].
    ///
    /// The text is only ever text: every word must appear (the last may be the start of a
    /// word, so results follow typing), case and accents are ignored, and characters that
    /// mean something to SQLite's FTS5 (`"`, `*`, `-`, `:`, `(`, `NEAR`, `AND`, ...) are
    /// searched for like any other. A text without words finds nothing.
    ///
    /// ```
    /// use shopkeep::{KeyRing, Principal, Store};
    /// use shopkeep::catalog::{NewProduct, Sku, TaxCategory};
    ///
    /// let store = Store::open_in_memory(KeyRing::generate()?)?;
    /// let new = NewProduct::new(Sku::parse("MUG-1")?, "Café mug", TaxCategory::Standard)?
    ///     .description("Stoneware, 350 ml");
    /// store.products(&store.system()).create(new)?;
    ///
    /// let visitor = Principal::anonymous();
    /// let hits = store.products(&visitor).search("cafe MU", 10)?;
    /// assert_eq!(hits[0].name(), "Café mug");
    /// assert!(store.products(&visitor).search("\"NEAR(*", 10)?.is_empty()); // no error
    /// Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Forbidden` without the permission; `Validation` for a text over 200 characters or 16
    /// words (`query`), or a `limit` outside 1 to 100.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Product>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadProduct, &Resource::Catalog)?;
            self.search_in(tx, text, limit)
        })
    }

    fn search_in(&self, tx: &Tx<'_>, text: &str, limit: usize) -> Result<Vec<Product>> {
        if !(1..=MAX_SEARCH_RESULTS).contains(&limit) {
            return Err(Error::validation(
                "limit",
                format!("a search returns 1 to {MAX_SEARCH_RESULTS} products"),
            ));
        }
        let query = if tx.is_postgres() {
            ts_query(text)?
        } else {
            fts_query(text)?
        };
        let Some(query) = query else {
            return Ok(Vec::new());
        };
        // The candidates are the newest SEARCH_CANDIDATES matches: FTS5 walks a match's
        // rowids in order without ranking them, and the lowest of them bounds the ranked
        // query below (a rowid range FTS5 applies while matching), so bm25 is computed for
        // those candidates only. PostgreSQL's GIN index gives the matches the same way.
        let lowest: Option<i64> = tx.query_row(
            tx.dialect(
                "SELECT min(rowid) FROM (
                     SELECT rowid FROM shopkeep_products_fts
                     WHERE shopkeep_products_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2
                 )",
                "SELECT min(rowid) FROM (
                     SELECT rowid FROM shopkeep_products_fts
                     WHERE document @@ to_tsquery('simple', ?1) ORDER BY rowid DESC LIMIT ?2
                 ) AS candidates",
            ),
            args![query, int(SEARCH_CANDIDATES)],
            |r| r.get(0),
        )?;
        let Some(lowest) = lowest else {
            return Ok(Vec::new());
        };
        let visible = if sees_archived(self.principal) {
            ""
        } else {
            " AND p.status = 'active'"
        };
        // bm25's rank is lower for better matches; ts_rank is higher, so it is negated.
        let hits = tx.dialect(
            "SELECT p.id, f.rank AS rank
                 FROM shopkeep_products_fts f JOIN shopkeep_products p ON p.seq = f.rowid
                 WHERE shopkeep_products_fts MATCH ?1 AND f.rowid >= ?3",
            "SELECT p.id, -ts_rank(f.document, to_tsquery('simple', ?1)) AS rank
                 FROM shopkeep_products_fts f JOIN shopkeep_products p ON p.seq = f.rowid
                 WHERE f.document @@ to_tsquery('simple', ?1) AND f.rowid >= ?3",
        );
        let sql = format!(
            "WITH hits AS (
                 {hits}{visible}
                 ORDER BY rank LIMIT ?2
             )
             SELECT {COLUMNS} FROM hits JOIN shopkeep_products p ON p.id = hits.id {JOINS}
             ORDER BY hits.rank, p.id, v.position, pr.currency"
        );
        let limit = int(limit);
        collect(tx, &sql, args![query, limit, lowest])
    }

    /// Changes a product that is still at `expected_version`, and returns it at its new
    /// version. Needs [`Action::UpdateProduct`]; audited. Stock is changed through
    /// [`StockRepo`](crate::StockRepo), not here, and does not change the version.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown product; `Forbidden` without the permission; `Conflict` if
    /// the product changed since `expected_version`; `AlreadyExists` if a new variant's SKU is
    /// taken;
    /// `Validation` naming the field for a bad name, description, price or option, a price in
    /// a currency the shop does not accept (`currency`), or a variant of another product
    /// (`variant_id`). Nothing is written on error.
    pub fn update(
        &self,
        id: ProductId,
        expected_version: u64,
        update: ProductUpdate,
    ) -> Result<Product> {
        let resource = Resource::Product(id);
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::UpdateProduct, &resource)?;
            let current = self.visible(load(tx, id)?, &resource)?;
            check_version(&current, expected_version)?;
            let name = match &update.name {
                Some(name) => text::required("name", name, 200)?,
                None => current.name.clone(),
            };
            let description = match &update.description {
                Some(d) => product::description(d)?,
                None => current.description.clone(),
            };
            let tax_category = update.tax_category.unwrap_or(current.tax_category);
            let supply_kind = update.supply_kind.unwrap_or(current.supply_kind);
            let own = |variant: VariantId| {
                current.variant(variant).map(drop).ok_or_else(|| {
                    Error::validation("variant_id", "the variant is not one of this product's")
                })
            };
            for (variant, change) in &update.prices {
                own(*variant)?;
                if let PriceChange::Set(price) = change {
                    product::check_price(*price)?;
                    check_currencies(tx, [price.currency()])?;
                }
            }
            for (variant, threshold) in &update.thresholds {
                own(*variant)?;
                if let Some(threshold) = threshold {
                    product::quantity("low_stock_threshold", *threshold)?;
                }
            }
            let added: Vec<CheckedVariant> = update
                .new_variants
                .iter()
                .map(|v| product::check_variant(v, true, None))
                .collect::<Result<_>>()?;
            if !added.is_empty() {
                product::check_variant_set(Some(&current.variants), &added)?;
            }
            for variant in &added {
                check_currencies(tx, variant.prices.keys().copied())?;
            }

            let seq: Option<i64> = tx.query_opt(
                "UPDATE shopkeep_products
                     SET name = ?3, description = ?4, tax_category = ?5, supply_kind = ?7,
                         updated_at = ?6, version = version + 1
                     WHERE id = ?1 AND version = ?2 RETURNING seq",
                args![
                    id,
                    int(expected_version),
                    name,
                    description,
                    tax_category,
                    tx.now(),
                    supply_kind
                ],
                |r| r.get(0),
            )?;
            let seq = seq.ok_or_else(|| stale(expected_version))?;
            if name != current.name || description != current.description {
                tx.execute(
                    "UPDATE shopkeep_products_fts SET name = ?2, description = ?3 WHERE rowid = ?1",
                    args![seq, name, description],
                )?;
            }
            for (variant, change) in &update.prices {
                match change {
                    PriceChange::Set(price) => set_price(tx, *variant, *price)?,
                    PriceChange::Remove(currency) => {
                        tx.execute(
                            "DELETE FROM shopkeep_prices WHERE variant_id = ?1 AND currency = ?2",
                            args![variant, currency.code()],
                        )?;
                    }
                }
            }
            for (variant, threshold) in &update.thresholds {
                tx.execute(
                    "UPDATE shopkeep_variants SET low_stock_threshold = ?2, updated_at = ?3 WHERE id = ?1",
                    args![variant, threshold, tx.now()],
                )?;
            }
            for (i, variant) in added.iter().enumerate() {
                insert_variant(tx, id, current.variants.len() + i, variant)?;
            }
            tx.audit(self.principal, Action::UpdateProduct, &resource)?;
            load(tx, id)?.ok_or_else(|| not_found(&resource))
        })
    }

    /// Archives a product still at `expected_version`: it can no longer be bought, and only
    /// staff see it; orders and invoices that name it keep it. Needs
    /// [`Action::ArchiveProduct`]; audited.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown product; `Forbidden` without the permission; `Conflict` for
    /// a stale version; `InvalidTransition` if it is already archived.
    pub fn archive(&self, id: ProductId, expected_version: u64) -> Result<Product> {
        self.set_status(id, expected_version, ProductStatus::Archived)
    }

    /// Puts an archived product back on sale. Needs [`Action::ArchiveProduct`]; audited.
    ///
    /// # Errors
    ///
    /// As [`archive`](ProductRepo::archive); `InvalidTransition` if it is active.
    pub fn restore(&self, id: ProductId, expected_version: u64) -> Result<Product> {
        self.set_status(id, expected_version, ProductStatus::Active)
    }

    fn set_status(
        &self,
        id: ProductId,
        expected_version: u64,
        status: ProductStatus,
    ) -> Result<Product> {
        let resource = Resource::Product(id);
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ArchiveProduct, &resource)?;
            let current = self.visible(load(tx, id)?, &resource)?;
            check_version(&current, expected_version)?;
            if current.status == status {
                return Err(Error::new(
                    ErrorKind::InvalidTransition,
                    format!("the product is already {}", status.as_str()),
                ));
            }
            let changed = tx.execute(
                "UPDATE shopkeep_products SET status = ?3, updated_at = ?4, version = version + 1
                     WHERE id = ?1 AND version = ?2",
                args![id, int(expected_version), status.as_str(), tx.now()],
            )?;
            if changed != 1 {
                return Err(stale(expected_version));
            }
            tx.audit(self.principal, Action::ArchiveProduct, &resource)?;
            load(tx, id)?.ok_or_else(|| not_found(&resource))
        })
    }

    /// The product if the principal may see it; otherwise the same `NotFound` as a missing one.
    fn visible(&self, product: Option<Product>, resource: &Resource) -> Result<Product> {
        match product {
            Some(p) if p.is_active() || sees_archived(self.principal) => Ok(p),
            _ => Err(not_found(resource)),
        }
    }
}

/// Staff, API keys and the system see archived products; visitors and customers do not.
pub(crate) fn sees_archived(principal: &Principal) -> bool {
    matches!(
        principal.kind(),
        PrincipalKind::Staff | PrincipalKind::ApiKey | PrincipalKind::System
    )
}

fn check_version(current: &Product, expected: u64) -> Result<()> {
    if current.version != expected {
        return Err(stale(expected));
    }
    Ok(())
}

fn stale(expected: u64) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!("the product changed since version {expected}: read it again"),
    )
}

/// Once settings are saved, prices must be in currencies the shop accepts.
fn check_currencies(tx: &Tx<'_>, currencies: impl IntoIterator<Item = Currency>) -> Result<()> {
    let mut currencies = currencies.into_iter().peekable();
    if currencies.peek().is_none() {
        return Ok(());
    }
    let Some(settings) = settings_repo::current(tx)? else {
        return Ok(());
    };
    for currency in currencies {
        if !settings.accepts(currency) {
            return Err(Error::validation(
                "currency",
                format!("the shop does not accept {currency}"),
            ));
        }
    }
    Ok(())
}

/// Claims `sku` for `product` in the SKU namespace; a SKU the product already holds is fine.
fn insert_sku(tx: &Tx<'_>, sku: &Sku, product: ProductId) -> Result<()> {
    let inserted = tx.execute(
        "INSERT INTO shopkeep_skus (sku, product_id) VALUES (?1, ?2) ON CONFLICT (sku) DO NOTHING",
        args![sku, product],
    )?;
    if inserted == 0 {
        let owner: ProductId = tx.query_row(
            "SELECT product_id FROM shopkeep_skus WHERE sku = ?1",
            args![sku],
            |r| r.get(0),
        )?;
        if owner != product {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("the SKU {sku} is already in use"),
            ));
        }
    }
    Ok(())
}

fn insert_variant(
    tx: &Tx<'_>,
    product: ProductId,
    position: usize,
    variant: &CheckedVariant,
) -> Result<VariantId> {
    let id = VariantId::generate(tx.now())?;
    insert_sku(tx, &variant.sku, product)?;
    let options: Vec<(&str, &str)> = variant
        .options
        .iter()
        .map(|o| (o.name(), o.value()))
        .collect();
    let options = serde_json::to_string(&options).map_err(|e| {
        Error::new(ErrorKind::Storage, "options could not be encoded").with_source(e)
    })?;
    tx.execute(
        "INSERT INTO shopkeep_variants
             (id, product_id, sku, position, options, tracked, low_stock_threshold, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        args![
            id,
            product,
            variant.sku,
            int(position),
            options,
            variant.tracked,
            variant.low_stock_threshold,
            tx.now()
        ],
    )?;
    for price in variant.prices.values() {
        set_price(tx, id, *price)?;
    }
    Ok(id)
}

fn set_price(tx: &Tx<'_>, variant: VariantId, price: Money) -> Result<()> {
    tx.execute(
        "INSERT INTO shopkeep_prices (variant_id, currency, amount) VALUES (?1, ?2, ?3)
         ON CONFLICT (variant_id, currency) DO UPDATE SET amount = excluded.amount",
        args![variant, price.currency().code(), price.minor()],
    )?;
    Ok(())
}

/// One product with its variants and prices, whatever its status.
pub(crate) fn load(tx: &Tx<'_>, id: ProductId) -> Result<Option<Product>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM shopkeep_products p {JOINS}
         WHERE p.id = ?1 ORDER BY v.position, pr.currency"
    );
    Ok(collect(tx, &sql, args![id])?.into_iter().next())
}

/// Runs a query of [`COLUMNS`] rows, ordered by product, variant position and currency, and
/// folds them into products.
fn collect(tx: &Tx<'_>, sql: &str, params: &[&dyn Param]) -> Result<Vec<Product>> {
    let mut products: Vec<Product> = Vec::new();
    tx.query_each(sql, params, |row| {
        let id: ProductId = row.get(0)?;
        let product = match products.last_mut() {
            Some(p) if p.id == id => p,
            _ => {
                products.push(product_from_row(id, row)?);
                products
                    .last_mut()
                    .ok_or_else(|| Error::new(ErrorKind::Storage, "a product vanished"))?
            }
        };
        let variant_id: VariantId = row.get(9)?;
        let variant = match product.variants.last_mut() {
            Some(v) if v.id == variant_id => v,
            _ => {
                product.variants.push(variant_from_row(variant_id, row)?);
                product
                    .variants
                    .last_mut()
                    .ok_or_else(|| Error::new(ErrorKind::Storage, "a variant vanished"))?
            }
        };
        let currency: Option<String> = row.get(15)?;
        if let Some(code) = currency {
            let currency = Currency::from_code(&code).map_err(corrupt)?;
            variant.prices.push(Money::new(row.get(16)?, currency));
        }
        Ok(())
    })?;
    Ok(products)
}

fn product_from_row(id: ProductId, row: &Row<'_>) -> Result<Product> {
    let category: String = row.get(4)?;
    let status: String = row.get(5)?;
    let supply_kind: String = row.get(17)?;
    Ok(Product {
        id,
        sku: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        tax_category: super::tax::TaxCategory::parse(&category).map_err(corrupt)?,
        supply_kind: SupplyKind::parse(&supply_kind).map_err(corrupt)?,
        status: ProductStatus::parse(&status)
            .ok_or_else(|| Error::new(ErrorKind::Storage, "a product has an unknown status"))?,
        variants: Vec::new(),
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        version: uint(row.get(8)?),
    })
}

fn variant_from_row(id: VariantId, row: &Row<'_>) -> Result<Variant> {
    let options: String = row.get(11)?;
    let options: Vec<(String, String)> = serde_json::from_str(&options).map_err(|e| {
        Error::new(ErrorKind::Storage, "a variant's options are not readable").with_source(e)
    })?;
    Ok(Variant {
        id,
        sku: row.get(10)?,
        options: options
            .into_iter()
            .map(|(name, value)| VariantOption { name, value })
            .collect(),
        prices: Vec::new(),
        tracked: row.get(12)?,
        on_hand: uint(row.get(13)?),
        low_stock_threshold: row.get(14)?,
    })
}

/// Stored data that fails a model check: the file was changed outside shopkeep.
fn corrupt(e: Error) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!("the catalogue holds invalid data: {}", e.message()),
    )
}
