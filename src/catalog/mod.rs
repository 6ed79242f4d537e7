//! The catalogue: products and their variants, prices per currency, tax categories, stock and
//! its ledger, full-text search; and the shop's settings, which checkout and invoicing read.
//!
//! Models (plain validated types, no SQL) and repositories (the SQL) live side by side:
//!
//! - [`Sku`], [`Product`], [`Variant`], [`NewProduct`], [`NewVariant`], [`ProductUpdate`]:
//!   what is sold, each product goods or services ([`SupplyKind`]); [`ProductRepo`] stores, reads, lists, searches and archives it.
//! - [`StockChange`], [`StockMovement`]: stock movements; [`StockRepo`] records them in the
//!   ledger and moves the level in the same transaction, never below zero.
//! - [`ShopSettings`] with [`Seller`], [`TaxTable`], [`InvoiceSeries`], [`TimeZone`]: the
//!   shop's one settings record; [`SettingsRepo`] reads and saves it, versioned.
//! - `sellable`: what checkout reads and takes inside its own transaction.
//!
//! The [catalogue guide](crate::guide::catalog) covers variants, prices, stock and search.
//!
//! ```
//! use shopkeep::catalog::{NewProduct, Sku, StockChange, TaxCategory};
//! use shopkeep::{Currency, KeyRing, Money, Store};
//!
//! let store = Store::open_in_memory(KeyRing::generate()?)?;
//! let admin = store.system();
//! let mug = NewProduct::new(Sku::parse("MUG-1")?, "Enamel mug", TaxCategory::Standard)?
//!     .price(Money::parse("12.90", Currency::EUR)?)
//!     .track_stock(true);
//! let mug = store.products(&admin).create(mug)?;
//! let variant = mug.variants().first().ok_or("a product has a variant")?.id();
//! let movement = store.stock(&admin).adjust(variant, StockChange::receipt(40))?;
//! assert_eq!(movement.level_after(), 40);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod product;
mod product_repo;
mod query;
mod search;
mod sellable;
mod seller;
mod settings;
mod settings_repo;
mod sku;
mod sql;
mod stock;
mod stock_repo;
mod tax;

pub use product::{
    NewProduct, NewVariant, Product, ProductId, ProductStatus, ProductUpdate, Variant, VariantId,
    VariantOption,
};
pub use product_repo::ProductRepo;
pub use query::{Cursor, Page, ProductOrder, ProductQuery};
pub use seller::{BankAccount, Bic, Contact, Iban, PostalAddress, Seller, SellerIdentifier};
pub use settings::{InvoiceIssue, InvoiceSeries, ShopSettings, ShopSettingsBuilder, TimeZone};
pub use settings_repo::SettingsRepo;
pub use sku::Sku;
pub use stock::{StockChange, StockMovement, StockReason};
pub use stock_repo::StockRepo;
pub use tax::{AppliedTax, CountryTaxes, SupplyKind, TaxCategory, TaxTable};

pub(crate) use sellable::{Sellable, return_stock, sellable, take_stock};
pub(crate) use settings_repo::current as current_settings;
pub(crate) use settings_repo::{seller_from_json, seller_to_json};

#[cfg(test)]
mod tests;
