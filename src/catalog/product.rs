//! Products and their variants: the read model, and the validated inputs that create and
//! change them. No SQL here.

use std::collections::{BTreeMap, HashSet};

use super::sku::Sku;
use super::tax::{SupplyKind, TaxCategory};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::define_id;
use crate::money::{Currency, Money};
use crate::text;

define_id!(
    /// A product's id: a time-ordered UUID (version 7).
    ProductId,
    "product_id"
);
define_id!(
    /// A variant's id: a time-ordered UUID (version 7). Carts and orders name variants, the
    /// units that are sold.
    VariantId,
    "variant_id"
);

/// The longest product name, in characters.
const MAX_NAME: usize = 200;
/// The longest description, in characters.
const MAX_DESCRIPTION: usize = 10_000;
/// The most variants one product has.
const MAX_VARIANTS: usize = 100;
/// The most options (size, colour, ...) one variant has.
const MAX_OPTIONS: usize = 5;
/// The largest stock quantity or threshold one call may name.
pub(crate) const MAX_QUANTITY: u32 = 1_000_000_000;

/// Whether a product can be bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum ProductStatus {
    /// On sale (if it has a price and, when tracked, stock).
    Active,
    /// No longer sold; kept for the orders and invoices that name it. Only staff see it.
    Archived,
}

impl ProductStatus {
    /// The stable snake-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<ProductStatus> {
        match text {
            "active" => Some(ProductStatus::Active),
            "archived" => Some(ProductStatus::Archived),
            _ => None,
        }
    }
}

impl std::fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ProductStatus {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Parses the name [`as_str`](ProductStatus::as_str) gives (`active`, `archived`).
///
/// # Errors
///
/// `Validation` (field `status`) for any other text.
impl std::str::FromStr for ProductStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<ProductStatus> {
        ProductStatus::parse(text)
            .ok_or_else(|| Error::validation("status", "a product status is active or archived"))
    }
}

/// One option of a variant: its name (`size`) and value (`M`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VariantOption {
    pub(crate) name: String,
    pub(crate) value: String,
}

impl VariantOption {
    /// The option's name, such as `size`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The option's value, such as `M`.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// A product as stored: its data and its variants.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Product {
    pub(crate) id: ProductId,
    pub(crate) sku: Sku,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) tax_category: TaxCategory,
    pub(crate) supply_kind: SupplyKind,
    pub(crate) status: ProductStatus,
    pub(crate) variants: Vec<Variant>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) version: u64,
}

impl Product {
    /// The id.
    pub fn id(&self) -> ProductId {
        self.id
    }

    /// The product's SKU (a simple product's one variant has the same).
    pub fn sku(&self) -> &Sku {
        &self.sku
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description; empty if none.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// How it is taxed.
    pub fn tax_category(&self) -> TaxCategory {
        self.tax_category
    }

    /// Whether it is goods or services, which the VAT decision needs for buyers abroad.
    pub fn supply_kind(&self) -> SupplyKind {
        self.supply_kind
    }

    /// Whether it is on sale or archived.
    pub fn status(&self) -> ProductStatus {
        self.status
    }

    /// Whether it is on sale.
    pub fn is_active(&self) -> bool {
        self.status == ProductStatus::Active
    }

    /// Its variants, in the order they were added; at least one.
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// The variant with this id, if it is one of this product's.
    pub fn variant(&self, id: VariantId) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The variant with this SKU (regardless of case), if any.
    pub fn variant_by_sku(&self, sku: &Sku) -> Option<&Variant> {
        self.variants.iter().find(|v| &v.sku == sku)
    }

    /// When it was created.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// When its data last changed (stock movements do not count).
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }

    /// The version, for optimistic concurrency: an update names the version it was read at.
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// A sellable unit of a product: its SKU, options, prices and stock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Variant {
    pub(crate) id: VariantId,
    pub(crate) sku: Sku,
    pub(crate) options: Vec<VariantOption>,
    /// Sorted by currency code.
    pub(crate) prices: Vec<Money>,
    pub(crate) tracked: bool,
    pub(crate) on_hand: u64,
    pub(crate) low_stock_threshold: Option<u32>,
}

impl Variant {
    /// The id.
    pub fn id(&self) -> VariantId {
        self.id
    }

    /// The SKU.
    pub fn sku(&self) -> &Sku {
        &self.sku
    }

    /// Its options (size, colour, ...), in the product's order; empty for a simple product.
    pub fn options(&self) -> &[VariantOption] {
        &self.options
    }

    /// The value of the option called `name`, if it has one.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.value.as_str())
    }

    /// Its prices, one per currency, sorted by currency code. Net or gross according to the
    /// shop's [`PriceMode`](crate::PriceMode).
    pub fn prices(&self) -> &[Money] {
        &self.prices
    }

    /// Its price in `currency`, if it has one.
    pub fn price(&self, currency: Currency) -> Option<Money> {
        self.prices
            .iter()
            .copied()
            .find(|m| m.currency() == currency)
    }

    /// Whether its stock is tracked. Untracked variants (services, downloads) never run out.
    pub fn is_tracked(&self) -> bool {
        self.tracked
    }

    /// The quantity on hand, for a tracked variant; `None` if untracked.
    pub fn on_hand(&self) -> Option<u64> {
        self.tracked.then_some(self.on_hand)
    }

    /// Whether one can be sold now: untracked, or at least one on hand.
    pub fn in_stock(&self) -> bool {
        !self.tracked || self.on_hand > 0
    }

    /// The level at or below which stock counts as low, if set.
    pub fn low_stock_threshold(&self) -> Option<u32> {
        self.low_stock_threshold
    }
}

/// A variant to create: its SKU, options, prices and stock settings.
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::catalog::{NewVariant, Sku};
///
/// let medium = NewVariant::new(Sku::parse("TEE-M")?)
///     .option("size", "M")
///     .price(Money::parse("19.90", Currency::EUR)?)
///     .low_stock_threshold(5);
/// # let _ = medium;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct NewVariant {
    sku: Sku,
    options: Vec<(String, String)>,
    prices: Vec<Money>,
    tracked: Option<bool>,
    low_stock_threshold: Option<u32>,
}

impl NewVariant {
    /// A variant with this SKU.
    pub fn new(sku: Sku) -> NewVariant {
        NewVariant {
            sku,
            options: Vec::new(),
            prices: Vec::new(),
            tracked: None,
            low_stock_threshold: None,
        }
    }

    /// Adds an option (`size` = `M`). Every variant of a product has the same option names,
    /// in the same order, and no two have the same values.
    pub fn option(mut self, name: &str, value: &str) -> NewVariant {
        self.options.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets its price in the price's currency.
    pub fn price(mut self, price: Money) -> NewVariant {
        self.prices.push(price);
        self
    }

    /// Whether its stock is tracked (default: as the product says, which defaults to tracked).
    pub fn track_stock(mut self, tracked: bool) -> NewVariant {
        self.tracked = Some(tracked);
        self
    }

    /// Sets the low-stock threshold.
    pub fn low_stock_threshold(mut self, threshold: u32) -> NewVariant {
        self.low_stock_threshold = Some(threshold);
        self
    }
}

/// A product to create.
///
/// Without [`variant`](NewProduct::variant) calls, it is a *simple product*: one variant with
/// the product's own SKU. With them, it has exactly the variants given. The product's
/// [`price`](NewProduct::price), [`track_stock`](NewProduct::track_stock) and
/// [`low_stock_threshold`](NewProduct::low_stock_threshold) are defaults for every variant that
/// does not set its own.
///
/// Stock starts at zero; receive it with [`StockRepo::adjust`](crate::StockRepo::adjust).
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::catalog::{NewProduct, NewVariant, Sku, TaxCategory};
///
/// let mug = NewProduct::new(Sku::parse("MUG-1")?, "Mug", TaxCategory::Standard)?
///     .description("Stoneware, 350 ml")
///     .price(Money::parse("12.90", Currency::EUR)?);
///
/// let tee = NewProduct::new(Sku::parse("TEE")?, "T-shirt", TaxCategory::Standard)?
///     .price(Money::parse("19.90", Currency::EUR)?) // every size, unless it says otherwise
///     .variant(NewVariant::new(Sku::parse("TEE-S")?).option("size", "S"))
///     .variant(NewVariant::new(Sku::parse("TEE-XL")?).option("size", "XL")
///         .price(Money::parse("21.90", Currency::EUR)?));
/// # let _ = (mug, tee);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct NewProduct {
    sku: Sku,
    name: String,
    description: String,
    tax_category: TaxCategory,
    supply_kind: SupplyKind,
    prices: Vec<Money>,
    tracked: bool,
    low_stock_threshold: Option<u32>,
    variants: Vec<NewVariant>,
}

impl NewProduct {
    /// A product with its SKU, name and tax category.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `name`) if the name is empty, longer than 200 characters or
    /// holds control characters.
    pub fn new(sku: Sku, name: &str, tax_category: TaxCategory) -> Result<NewProduct> {
        Ok(NewProduct {
            sku,
            name: text::required("name", name, MAX_NAME)?,
            description: String::new(),
            tax_category,
            supply_kind: SupplyKind::Goods,
            prices: Vec::new(),
            tracked: true,
            low_stock_threshold: None,
            variants: Vec::new(),
        })
    }

    /// Sets the description (checked when the product is created).
    pub fn description(mut self, description: &str) -> NewProduct {
        description.clone_into(&mut self.description);
        self
    }

    /// Sets whether it is goods (the default) or services.
    pub fn supply_kind(mut self, kind: SupplyKind) -> NewProduct {
        self.supply_kind = kind;
        self
    }

    /// Sets a price, for every variant without its own in that currency.
    pub fn price(mut self, price: Money) -> NewProduct {
        self.prices.push(price);
        self
    }

    /// Whether stock is tracked, for every variant that does not say (default: tracked).
    pub fn track_stock(mut self, tracked: bool) -> NewProduct {
        self.tracked = tracked;
        self
    }

    /// Sets the low-stock threshold, for every variant without its own.
    pub fn low_stock_threshold(mut self, threshold: u32) -> NewProduct {
        self.low_stock_threshold = Some(threshold);
        self
    }

    /// Adds a variant.
    pub fn variant(mut self, variant: NewVariant) -> NewProduct {
        self.variants.push(variant);
        self
    }

    /// Checks everything that does not need the database.
    pub(crate) fn check(&self) -> Result<CheckedProduct> {
        let description = description(&self.description)?;
        let defaults = prices(&self.prices)?;
        let wanted: Vec<NewVariant> = if self.variants.is_empty() {
            vec![NewVariant::new(self.sku.clone())]
        } else {
            self.variants.clone()
        };
        if wanted.len() > MAX_VARIANTS {
            return Err(Error::validation(
                "variants",
                format!("a product has at most {MAX_VARIANTS} variants"),
            ));
        }
        let mut variants = Vec::with_capacity(wanted.len());
        for new in &wanted {
            let mut checked = check_variant(new, self.tracked, self.low_stock_threshold)?;
            for (currency, price) in &defaults {
                checked.prices.entry(*currency).or_insert(*price);
            }
            variants.push(checked);
        }
        if let Some(threshold) = self.low_stock_threshold {
            quantity("low_stock_threshold", threshold)?;
        }
        check_variant_set(None, &variants)?;
        Ok(CheckedProduct {
            sku: self.sku.clone(),
            name: self.name.clone(),
            description,
            tax_category: self.tax_category,
            supply_kind: self.supply_kind,
            variants,
        })
    }
}

/// Changes to a product: each setter changes one thing, everything else stays.
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::catalog::{ProductUpdate, TaxCategory};
///
/// # fn demo(variant: shopkeep::catalog::VariantId) -> Result<(), Box<dyn std::error::Error>> {
/// let update = ProductUpdate::new()
///     .name("Mug, large")
///     .tax_category(TaxCategory::Reduced)
///     .set_price(variant, Money::parse("14.90", Currency::EUR)?)
///     .remove_price(variant, Currency::CHF);
/// # let _ = update;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ProductUpdate {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) tax_category: Option<TaxCategory>,
    pub(crate) supply_kind: Option<SupplyKind>,
    pub(crate) prices: Vec<(VariantId, PriceChange)>,
    pub(crate) thresholds: Vec<(VariantId, Option<u32>)>,
    pub(crate) new_variants: Vec<NewVariant>,
}

/// One price change of an update.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PriceChange {
    Set(Money),
    Remove(Currency),
}

impl ProductUpdate {
    /// No changes yet.
    pub fn new() -> ProductUpdate {
        ProductUpdate::default()
    }

    /// Renames the product (checked when the update is applied).
    pub fn name(mut self, name: &str) -> ProductUpdate {
        self.name = Some(name.to_owned());
        self
    }

    /// Replaces the description.
    pub fn description(mut self, description: &str) -> ProductUpdate {
        self.description = Some(description.to_owned());
        self
    }

    /// Changes the tax category.
    pub fn tax_category(mut self, category: TaxCategory) -> ProductUpdate {
        self.tax_category = Some(category);
        self
    }

    /// Changes whether it is goods or services.
    pub fn supply_kind(mut self, kind: SupplyKind) -> ProductUpdate {
        self.supply_kind = Some(kind);
        self
    }

    /// Sets a variant's price in the price's currency, adding or replacing it.
    pub fn set_price(mut self, variant: VariantId, price: Money) -> ProductUpdate {
        self.prices.push((variant, PriceChange::Set(price)));
        self
    }

    /// Removes a variant's price in `currency` (it is then not sold in that currency).
    pub fn remove_price(mut self, variant: VariantId, currency: Currency) -> ProductUpdate {
        self.prices.push((variant, PriceChange::Remove(currency)));
        self
    }

    /// Sets or clears a variant's low-stock threshold.
    pub fn low_stock_threshold(
        mut self,
        variant: VariantId,
        threshold: Option<u32>,
    ) -> ProductUpdate {
        self.thresholds.push((variant, threshold));
        self
    }

    /// Adds a variant, with the same option names as the product's other variants.
    pub fn add_variant(mut self, variant: NewVariant) -> ProductUpdate {
        self.new_variants.push(variant);
        self
    }
}

/// A product whose fields passed every check that needs no database.
#[derive(Debug, Clone)]
pub(crate) struct CheckedProduct {
    pub(crate) sku: Sku,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) tax_category: TaxCategory,
    pub(crate) supply_kind: SupplyKind,
    pub(crate) variants: Vec<CheckedVariant>,
}

/// A variant whose fields passed every check that needs no database.
#[derive(Debug, Clone)]
pub(crate) struct CheckedVariant {
    pub(crate) sku: Sku,
    pub(crate) options: Vec<VariantOption>,
    pub(crate) prices: BTreeMap<Currency, Money>,
    pub(crate) tracked: bool,
    pub(crate) low_stock_threshold: Option<u32>,
}

/// Checks a new variant, with the product's defaults for what it does not say.
pub(crate) fn check_variant(
    new: &NewVariant,
    tracked: bool,
    low_stock_threshold: Option<u32>,
) -> Result<CheckedVariant> {
    if new.options.len() > MAX_OPTIONS {
        return Err(Error::validation(
            "options",
            format!("a variant has at most {MAX_OPTIONS} options"),
        ));
    }
    let mut options = Vec::with_capacity(new.options.len());
    for (name, value) in &new.options {
        options.push(VariantOption {
            name: text::required("option_name", name, 50)?,
            value: text::required("option_value", value, 100)?,
        });
    }
    let mut names = HashSet::new();
    if !options.iter().all(|o| names.insert(o.name.to_lowercase())) {
        return Err(Error::validation(
            "options",
            "a variant names each option once",
        ));
    }
    let threshold = new.low_stock_threshold.or(low_stock_threshold);
    if let Some(threshold) = threshold {
        quantity("low_stock_threshold", threshold)?;
    }
    Ok(CheckedVariant {
        sku: new.sku.clone(),
        options,
        prices: prices(&new.prices)?,
        tracked: new.tracked.unwrap_or(tracked),
        low_stock_threshold: threshold,
    })
}

/// Checks that a product's variants fit together: the same option names in the same order,
/// no two with the same option values, no two with the same SKU. `existing` are the variants
/// the product already has, if it is being extended.
pub(crate) fn check_variant_set(
    existing: Option<&[Variant]>,
    new: &[CheckedVariant],
) -> Result<()> {
    let names = |options: &[VariantOption]| -> Vec<String> {
        options.iter().map(|o| o.name.to_lowercase()).collect()
    };
    let values = |options: &[VariantOption]| -> Vec<String> {
        options.iter().map(|o| o.value.to_lowercase()).collect()
    };
    let mut all: Vec<(&Sku, &[VariantOption])> = existing
        .unwrap_or_default()
        .iter()
        .map(|v| (&v.sku, v.options.as_slice()))
        .collect();
    all.extend(new.iter().map(|v| (&v.sku, v.options.as_slice())));
    let Some((_, first)) = all.first() else {
        return Err(Error::validation(
            "variants",
            "a product has at least one variant",
        ));
    };
    let expected = names(first);
    let mut seen_values = HashSet::new();
    let mut seen_skus = HashSet::new();
    for (sku, options) in &all {
        if names(options) != expected {
            return Err(Error::validation(
                "options",
                "every variant of a product has the same option names, in the same order",
            ));
        }
        if !seen_values.insert(values(options)) {
            return Err(Error::validation(
                "options",
                "two variants of a product have the same option values",
            ));
        }
        if !seen_skus.insert(*sku) {
            return Err(Error::validation(
                "sku",
                format!("two variants have the SKU {sku}"),
            ));
        }
    }
    Ok(())
}

/// A description: may be empty, keeps line breaks and tabs, refuses other control characters.
pub(crate) fn description(text: &str) -> Result<String> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(Error::validation(
            "description",
            format!("a description has at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::validation(
            "description",
            "a description has no control characters but line breaks and tabs",
        ));
    }
    crate::text::refuse_invisible("description", text)?;
    Ok(text.to_owned())
}

/// Prices by currency: none negative, one per currency.
pub(crate) fn prices(list: &[Money]) -> Result<BTreeMap<Currency, Money>> {
    let mut out = BTreeMap::new();
    for &price in list {
        check_price(price)?;
        if out.insert(price.currency(), price).is_some() {
            return Err(Error::validation(
                "price",
                format!("two prices in {}", price.currency()),
            ));
        }
    }
    Ok(out)
}

/// A price is zero or more.
pub(crate) fn check_price(price: Money) -> Result<()> {
    if price.is_negative() {
        return Err(Error::validation("price", "a price cannot be negative"));
    }
    Ok(())
}

/// A quantity a call names is at most a billion.
pub(crate) fn quantity(field: &'static str, value: u32) -> Result<()> {
    if value > MAX_QUANTITY {
        return Err(Error::validation(
            field,
            format!("{field} is at most {MAX_QUANTITY}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn field(result: Result<CheckedProduct>) -> &'static str {
        match result.unwrap_err().kind() {
            ErrorKind::Validation { field } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_simple_product_has_one_variant_with_its_sku_and_prices() {
        let eur = Money::new(1290, Currency::EUR);
        let p = NewProduct::new(sku("MUG"), "Mug", TaxCategory::Standard)
            .unwrap()
            .price(eur)
            .check()
            .unwrap();
        assert_eq!(p.variants.len(), 1);
        assert_eq!(p.variants[0].sku, sku("MUG"));
        assert_eq!(p.variants[0].prices[&Currency::EUR], eur);
        assert!(p.variants[0].tracked);
    }

    #[test]
    fn variants_inherit_defaults_and_must_fit_together() {
        let base = || {
            NewProduct::new(sku("TEE"), "Tee", TaxCategory::Standard)
                .unwrap()
                .price(Money::new(1990, Currency::EUR))
                .track_stock(false)
        };
        let p = base()
            .variant(NewVariant::new(sku("TEE-S")).option("size", "S"))
            .variant(
                NewVariant::new(sku("TEE-L"))
                    .option("size", "L")
                    .price(Money::new(2190, Currency::EUR))
                    .track_stock(true),
            )
            .check()
            .unwrap();
        assert_eq!(p.variants[0].prices[&Currency::EUR].minor(), 1990);
        assert_eq!(p.variants[1].prices[&Currency::EUR].minor(), 2190);
        assert!(!p.variants[0].tracked && p.variants[1].tracked);

        let same_values = base()
            .variant(NewVariant::new(sku("A")).option("size", "S"))
            .variant(NewVariant::new(sku("B")).option("Size", "s"));
        assert_eq!(field(same_values.check()), "options");
        let other_names = base()
            .variant(NewVariant::new(sku("A")).option("size", "S"))
            .variant(NewVariant::new(sku("B")).option("colour", "red"));
        assert_eq!(field(other_names.check()), "options");
        let same_sku = base()
            .variant(NewVariant::new(sku("A")).option("size", "S"))
            .variant(NewVariant::new(sku("a")).option("size", "M"));
        assert_eq!(field(same_sku.check()), "sku");
        let no_options = base()
            .variant(NewVariant::new(sku("A")))
            .variant(NewVariant::new(sku("B")));
        assert_eq!(field(no_options.check()), "options");
    }

    #[test]
    fn prices_are_not_negative_and_one_per_currency() {
        let base = || NewProduct::new(sku("X"), "X", TaxCategory::Zero).unwrap();
        assert_eq!(
            field(base().price(Money::new(-1, Currency::EUR)).check()),
            "price"
        );
        let twice = base()
            .price(Money::new(1, Currency::EUR))
            .price(Money::new(2, Currency::EUR));
        assert_eq!(field(twice.check()), "price");
        assert!(base().price(Money::zero(Currency::EUR)).check().is_ok());
        assert_eq!(field(base().description("a\u{0}b").check()), "description");
        assert!(base().description("line\nbreak\ttab").check().is_ok());
        assert_eq!(
            field(base().description(&"x".repeat(10_001)).check()),
            "description"
        );
        assert_eq!(
            field(base().low_stock_threshold(MAX_QUANTITY + 1).check()),
            "low_stock_threshold"
        );
        assert!(NewProduct::new(sku("X"), " ", TaxCategory::Zero).is_err());
    }

    #[test]
    fn statuses_parse_what_they_display() {
        for status in [ProductStatus::Active, ProductStatus::Archived] {
            assert_eq!(status.to_string().parse::<ProductStatus>().unwrap(), status);
            assert_eq!(status.as_ref(), status.as_str());
        }
        for bad in ["", "Active", "deleted", " active"] {
            let err = bad.parse::<ProductStatus>().unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation { field: "status" },
                "{bad:?}"
            );
        }
    }
}
