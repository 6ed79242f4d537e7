//! Listing products: filters, order, and keyset pagination with opaque cursors.

use base64ct::{Base64UrlUnpadded, Encoding};

use super::product::{ProductId, ProductStatus};
use super::tax::TaxCategory;
use crate::error::{Error, Result};
use crate::money::Money;

/// The default page size.
const DEFAULT_LIMIT: usize = 50;
/// The largest page.
pub(crate) const MAX_LIMIT: usize = 500;

/// The order of a product list. Both are stable: ids are unique and time-ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProductOrder {
    /// Oldest first (the default). Products created while paging appear on later pages.
    #[default]
    Oldest,
    /// Newest first. Products created while paging are not visited.
    Newest,
}

impl ProductOrder {
    fn tag(self) -> u8 {
        match self {
            ProductOrder::Oldest => b'o',
            ProductOrder::Newest => b'n',
        }
    }
}

/// Where a page ends: pass it to [`ProductQuery::after`] for the next page.
///
/// A cursor is opaque text, safe in a URL. It names a position, not an offset, so rows
/// created or archived between pages neither repeat nor skip the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// Reads a cursor the host stored or received back from a client.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `cursor`) if the text is not a cursor shopkeep made.
    pub fn parse(text: &str) -> Result<Cursor> {
        decode(text)?;
        Ok(Cursor(text.to_owned()))
    }

    /// The cursor as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn new(order: ProductOrder, last: ProductId) -> Cursor {
        let mut bytes = Vec::with_capacity(18);
        bytes.push(1); // format version
        bytes.push(order.tag());
        bytes.extend_from_slice(last.as_bytes());
        Cursor(Base64UrlUnpadded::encode_string(&bytes))
    }

    /// The last product of the previous page, checked against the query's order.
    pub(crate) fn position(&self, order: ProductOrder) -> Result<ProductId> {
        let (tag, id) = decode(&self.0)?;
        if tag != order.tag() {
            return Err(Error::validation(
                "cursor",
                "the cursor belongs to a list in another order",
            ));
        }
        Ok(id)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn decode(text: &str) -> Result<(u8, ProductId)> {
    let invalid = || Error::validation("cursor", "not a cursor of this list");
    let bytes = Base64UrlUnpadded::decode_vec(text).map_err(|_| invalid())?;
    match bytes.as_slice() {
        [1, tag @ (b'o' | b'n'), id @ ..] => {
            let id: [u8; 16] = id.try_into().map_err(|_| invalid())?;
            Ok((*tag, ProductId::from_bytes(id)))
        }
        _ => Err(invalid()),
    }
}

/// One page of a list, and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next: Option<Cursor>,
}

impl<T> Page<T> {
    /// The items of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// The items, owned.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// The cursor of the next page; `None` on the last page.
    pub fn next_cursor(&self) -> Option<&Cursor> {
        self.next.as_ref()
    }
}

/// What to list: filters, order, page size and position.
///
/// Anonymous visitors and customers only ever see active products, whatever the filter says.
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::catalog::{ProductQuery, TaxCategory};
///
/// let query = ProductQuery::new()
///     .in_stock()
///     .price_between(Money::parse("5", Currency::EUR)?, Money::parse("20", Currency::EUR)?)
///     .tax_category(TaxCategory::Standard)
///     .limit(20);
/// # let _ = query;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ProductQuery {
    pub(crate) status: Option<ProductStatus>,
    pub(crate) in_stock: bool,
    pub(crate) price: Option<(Money, Money)>,
    pub(crate) tax_category: Option<TaxCategory>,
    pub(crate) order: ProductOrder,
    pub(crate) limit: Option<usize>,
    pub(crate) after: Option<Cursor>,
}

impl ProductQuery {
    /// Every product the principal may see, oldest first, 50 a page.
    pub fn new() -> ProductQuery {
        ProductQuery::default()
    }

    /// Only products with this status.
    pub fn status(mut self, status: ProductStatus) -> ProductQuery {
        self.status = Some(status);
        self
    }

    /// Only products with a variant that can be sold now (untracked, or on hand).
    pub fn in_stock(mut self) -> ProductQuery {
        self.in_stock = true;
        self
    }

    /// Only products with a variant priced between `min` and `max` (inclusive), in their
    /// currency.
    pub fn price_between(mut self, min: Money, max: Money) -> ProductQuery {
        self.price = Some((min, max));
        self
    }

    /// Only products of this tax category.
    pub fn tax_category(mut self, category: TaxCategory) -> ProductQuery {
        self.tax_category = Some(category);
        self
    }

    /// The order (default: oldest first).
    pub fn order(mut self, order: ProductOrder) -> ProductQuery {
        self.order = order;
        self
    }

    /// The page size, 1 to 500 (default 50).
    pub fn limit(mut self, limit: usize) -> ProductQuery {
        self.limit = Some(limit);
        self
    }

    /// Starts after the page that returned `cursor`.
    pub fn after(mut self, cursor: Cursor) -> ProductQuery {
        self.after = Some(cursor);
        self
    }

    /// The page size, checked.
    pub(crate) fn checked_limit(&self) -> Result<usize> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::validation(
                "limit",
                format!("a page has 1 to {MAX_LIMIT} products"),
            ));
        }
        Ok(limit)
    }

    /// The price range, checked.
    pub(crate) fn checked_price(&self) -> Result<Option<(Money, Money)>> {
        let Some((min, max)) = self.price else {
            return Ok(None);
        };
        if min.currency() != max.currency() {
            return Err(Error::validation("price", "a price range has one currency"));
        }
        if min.is_negative() || min.minor() > max.minor() {
            return Err(Error::validation(
                "price",
                "a price range runs from zero or more up to at least its minimum",
            ));
        }
        Ok(Some((min, max)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let id = ProductId::from_bytes([9; 16]);
        let cursor = Cursor::new(ProductOrder::Newest, id);
        let parsed = Cursor::parse(cursor.as_str()).unwrap();
        assert_eq!(parsed.position(ProductOrder::Newest).unwrap(), id);
        assert!(parsed.position(ProductOrder::Oldest).is_err());
        for bad in [
            "",
            "x",
            "AAAA",
            &cursor.as_str()[1..],
            "!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?}");
        }
    }
}
