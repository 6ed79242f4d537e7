//! Placed orders: the model (no SQL).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::totals::PriceMode;
use super::vat::VatTreatment;
use crate::access::CustomerId;
use crate::catalog::{Sku, VariantId};
use crate::clock::Timestamp;
use crate::customers::{Address, Country, ElectronicAddress};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::define_id;
use crate::money::{Currency, Money};

define_id!(
    /// An order's id (a time-ordered UUID).
    OrderId,
    "order_id"
);

/// The human-friendly, sequential order number (`1`, `2`, ...), separate from invoice numbers.
///
/// Its text form is at least six digits (`000123`), the way the confirmation prints it; it is
/// also what [`AsRef<str>`] and `Display` give.
///
/// ```
/// use shopkeep::orders::OrderNumber;
///
/// let number: OrderNumber = "123".parse()?;
/// assert_eq!(number.get(), 123);
/// assert_eq!(number.as_ref(), "000123");
/// # Ok::<(), shopkeep::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderNumber {
    // Ordering and equality follow `number`; `text` is a function of it.
    number: u64,
    // The text form, kept beside the number so that `as_ref` can lend it: a u64 has at most
    // 20 digits.
    text: [u8; 20],
    len: u8,
}

// As text (`"000123"`), the way the confirmation prints it.
crate::serde_text::text_serde!(OrderNumber);

impl OrderNumber {
    fn new(number: u64) -> OrderNumber {
        let digits = format!("{number:06}");
        let mut text = [0u8; 20];
        let len = digits.len().min(text.len());
        for (slot, digit) in text.iter_mut().zip(digits.bytes()) {
            *slot = digit;
        }
        OrderNumber {
            number,
            text,
            len: u8::try_from(len).unwrap_or(0),
        }
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.number
    }

    pub(crate) fn from_stored(n: i64) -> OrderNumber {
        OrderNumber::new(u64::try_from(n).unwrap_or(0))
    }
}

impl AsRef<str> for OrderNumber {
    fn as_ref(&self) -> &str {
        let digits = self.text.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII digits are ever written into `text`.
        std::str::from_utf8(digits).unwrap_or_default()
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_ref())
    }
}

impl fmt::Debug for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OrderNumber").field(&self.number).finish()
    }
}

/// Parses an order number as a customer reads it from a confirmation: decimal digits, leading
/// zeros allowed (`000123` and `123` are one number).
///
/// # Errors
///
/// `Validation` (field `order_number`) for anything but 1 to 20 digits, or zero.
impl std::str::FromStr for OrderNumber {
    type Err = Error;

    fn from_str(text: &str) -> Result<OrderNumber> {
        let invalid = || Error::validation("order_number", "an order number is 1 to 20 digits");
        if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        match text.parse::<u64>() {
            Ok(0) | Err(_) => Err(invalid()),
            Ok(n) => Ok(OrderNumber::new(n)),
        }
    }
}

/// Where an order is in its life. Checkout places orders; [`OrderRepo`](crate::OrderRepo)'s
/// lifecycle methods move them on (`docs/orders.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum OrderStatus {
    /// Placed, awaiting payment.
    Placed,
    /// Paid.
    Paid,
    /// Shipped.
    Shipped,
    /// Completed.
    Completed,
    /// Cancelled before shipping.
    Cancelled,
    /// Expired unpaid.
    Expired,
}

impl OrderStatus {
    /// The stored name (`placed`, `paid`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    /// A status read from the database: an unknown name there is a damaged row (`Storage`),
    /// not bad input.
    pub(crate) fn parse(text: &str) -> Result<OrderStatus> {
        OrderStatus::from_name(text)
            .ok_or_else(|| Error::new(ErrorKind::Storage, "unknown order status"))
    }

    fn from_name(text: &str) -> Option<OrderStatus> {
        Some(match text {
            "placed" => OrderStatus::Placed,
            "paid" => OrderStatus::Paid,
            "shipped" => OrderStatus::Shipped,
            "completed" => OrderStatus::Completed,
            "cancelled" => OrderStatus::Cancelled,
            "expired" => OrderStatus::Expired,
            _ => return None,
        })
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for OrderStatus {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Parses the stored name [`as_str`](OrderStatus::as_str) gives (`placed`, `paid`, ...), as
/// a host reads it from a query string.
///
/// # Errors
///
/// `Validation` (field `status`) for any other text.
impl std::str::FromStr for OrderStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<OrderStatus> {
        OrderStatus::from_name(text).ok_or_else(|| {
            Error::validation(
                "status",
                "an order status is placed, paid, shipped, completed, cancelled or expired",
            )
        })
    }
}

/// Who bought, as they were at checkout: kept encrypted under the shop's legal-archive key, so
/// it outlives the customer's erasure. Personal data: `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BuyerSnapshot {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) billing: Option<Address>,
    pub(crate) shipping: Address,
    pub(crate) company: Option<String>,
    pub(crate) vat_id: Option<String>,
    pub(crate) buyer_reference: Option<String>,
    pub(crate) electronic_address: Option<ElectronicAddress>,
}

impl fmt::Debug for BuyerSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BuyerSnapshot(<redacted>)")
    }
}

impl BuyerSnapshot {
    /// The buyer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The buyer's email.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The billing address (the shipping address if the customer had none).
    pub fn billing(&self) -> &Address {
        self.billing.as_ref().unwrap_or(&self.shipping)
    }

    /// The shipping address.
    pub fn shipping(&self) -> &Address {
        &self.shipping
    }

    /// The company, for a business buyer.
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The buyer's VAT id (EN 16931 BT-48), if they gave one.
    pub fn vat_id(&self) -> Option<&str> {
        self.vat_id.as_deref()
    }

    /// The buyer reference (BT-10), if they gave one.
    pub fn buyer_reference(&self) -> Option<&str> {
        self.buyer_reference.as_deref()
    }

    /// The business buyer's electronic address (BT-49), if they gave one.
    pub fn electronic_address(&self) -> Option<&ElectronicAddress> {
        self.electronic_address.as_ref()
    }
}

/// The stored form of a snapshot (JSON inside the ciphertext).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredSnapshot {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) billing: Option<StoredAddress>,
    pub(crate) shipping: StoredAddress,
    pub(crate) company: Option<String>,
    pub(crate) vat_id: Option<String>,
    pub(crate) buyer_reference: Option<String>,
    // Added after the first release; snapshots written before have none.
    #[serde(default)]
    pub(crate) electronic_address: Option<(String, String)>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAddress {
    recipient: String,
    company: Option<String>,
    line1: String,
    line2: Option<String>,
    postal_code: Option<String>,
    city: String,
    region: Option<String>,
    country: String,
}

impl StoredAddress {
    pub(crate) fn from_address(a: &Address) -> StoredAddress {
        StoredAddress {
            recipient: a.recipient().to_owned(),
            company: a.company().map(str::to_owned),
            line1: a.line1().to_owned(),
            line2: a.line2().map(str::to_owned),
            postal_code: a.postal_code().map(str::to_owned),
            city: a.city().to_owned(),
            region: a.region().map(str::to_owned),
            country: a.country().as_str().to_owned(),
        }
    }

    fn into_address(self) -> Result<Address> {
        let mut a = Address::new(
            &self.recipient,
            &self.line1,
            &self.city,
            Country::parse(&self.country)?,
        )?;
        if let Some(c) = &self.company {
            a = a.with_company(c)?;
        }
        if let Some(l) = &self.line2 {
            a = a.with_line2(l)?;
        }
        if let Some(p) = &self.postal_code {
            a = a.with_postal_code(p)?;
        }
        if let Some(r) = &self.region {
            a = a.with_region(r)?;
        }
        Ok(a)
    }
}

impl StoredSnapshot {
    pub(crate) fn from_snapshot(s: &BuyerSnapshot) -> StoredSnapshot {
        StoredSnapshot {
            name: s.name.clone(),
            email: s.email.clone(),
            billing: s.billing.as_ref().map(StoredAddress::from_address),
            shipping: StoredAddress::from_address(&s.shipping),
            company: s.company.clone(),
            vat_id: s.vat_id.clone(),
            buyer_reference: s.buyer_reference.clone(),
            electronic_address: s
                .electronic_address
                .as_ref()
                .map(|e| (e.scheme().to_owned(), e.value().to_owned())),
        }
    }

    pub(crate) fn into_snapshot(self) -> Result<BuyerSnapshot> {
        Ok(BuyerSnapshot {
            name: self.name,
            email: self.email,
            billing: self.billing.map(StoredAddress::into_address).transpose()?,
            shipping: self.shipping.into_address()?,
            company: self.company,
            vat_id: self.vat_id,
            buyer_reference: self.buyer_reference,
            electronic_address: self
                .electronic_address
                .map(|(scheme, value)| ElectronicAddress::new(&scheme, &value))
                .transpose()?,
        })
    }
}

/// One line of a placed order: the price and VAT treatment as they were at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OrderLine {
    pub(crate) position: u32,
    pub(crate) variant: VariantId,
    pub(crate) sku: Sku,
    pub(crate) name: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price: Money,
    pub(crate) amount: Money,
    pub(crate) net: Money,
    pub(crate) discount: Money,
    pub(crate) vat: VatTreatment,
}

impl OrderLine {
    /// Its position on the order, from 0.
    pub fn position(&self) -> u32 {
        self.position
    }
    /// The variant sold.
    pub fn variant(&self) -> VariantId {
        self.variant
    }
    /// The variant's SKU at checkout.
    pub fn sku(&self) -> &Sku {
        &self.sku
    }
    /// The product's name at checkout.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The quantity.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }
    /// The unit price at checkout (net or gross, per the order's price mode).
    pub fn unit_price(&self) -> Money {
        self.unit_price
    }
    /// Quantity × unit price, as shown to the buyer.
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// The line's net amount (EN 16931 BT-131).
    pub fn net(&self) -> Money {
        self.net
    }
    /// The line's share of the order discount, in the price mode's terms.
    pub fn discount(&self) -> Money {
        self.discount
    }
    /// The VAT treatment decided at checkout.
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }
}

/// A document-level charge of a placed order (EN 16931 BG-21), such as shipping: its amount
/// and VAT treatment as they were at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OrderCharge {
    pub(crate) position: u32,
    pub(crate) reason: String,
    pub(crate) amount: Money,
    pub(crate) net: Money,
    pub(crate) vat: VatTreatment,
}

impl OrderCharge {
    /// Its position among the order's charges, from 0.
    pub fn position(&self) -> u32 {
        self.position
    }
    /// What it is for, as the buyer saw it (BT-104), e.g. `Shipping`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// The amount as shown to the buyer (net or gross, per the order's price mode).
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// The net amount (BT-99).
    pub fn net(&self) -> Money {
        self.net
    }
    /// The VAT treatment decided at checkout (BT-102, BT-103).
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }
}

/// One row of an order's VAT breakdown (EN 16931 BG-23).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OrderVat {
    pub(crate) vat: VatTreatment,
    pub(crate) lines_net: Money,
    pub(crate) allowance_net: Money,
    pub(crate) charges_net: Money,
    pub(crate) taxable: Money,
    pub(crate) tax: Money,
}

impl OrderVat {
    /// Category, rate and exemption reason.
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }
    /// The sum of the group's line nets.
    pub fn lines_net(&self) -> Money {
        self.lines_net
    }
    /// The group's share of the discount, net.
    pub fn allowance_net(&self) -> Money {
        self.allowance_net
    }
    /// The group's charges, net.
    pub fn charges_net(&self) -> Money {
        self.charges_net
    }
    /// The taxable amount (BT-116).
    pub fn taxable(&self) -> Money {
        self.taxable
    }
    /// The VAT (BT-117).
    pub fn tax(&self) -> Money {
        self.tax
    }
}

/// A placed order, as stored. Its buyer snapshot is personal data (redacted in `Debug`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Order {
    pub(crate) id: OrderId,
    pub(crate) number: OrderNumber,
    pub(crate) customer: CustomerId,
    pub(crate) status: OrderStatus,
    pub(crate) currency: Currency,
    pub(crate) price_mode: PriceMode,
    pub(crate) line_net_total: Money,
    pub(crate) allowance_total: Money,
    pub(crate) charge_total: Money,
    pub(crate) net_total: Money,
    pub(crate) vat_total: Money,
    pub(crate) gross_total: Money,
    pub(crate) coupon: Option<String>,
    pub(crate) destination: Country,
    pub(crate) buyer: BuyerSnapshot,
    pub(crate) attribution: Option<crate::marketing::Attribution>,
    pub(crate) lines: Vec<OrderLine>,
    pub(crate) charges: Vec<OrderCharge>,
    pub(crate) vat: Vec<OrderVat>,
    pub(crate) placed_at: Timestamp,
    pub(crate) version: u64,
}

impl Order {
    /// The order's id.
    pub fn id(&self) -> OrderId {
        self.id
    }
    /// Its sequential number.
    pub fn number(&self) -> OrderNumber {
        self.number
    }
    /// The customer who placed it.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
    /// Its status.
    pub fn status(&self) -> OrderStatus {
        self.status
    }
    /// Its currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// Whether its prices were net or gross.
    pub fn price_mode(&self) -> PriceMode {
        self.price_mode
    }
    /// Sum of line net amounts (BT-106).
    pub fn line_net_total(&self) -> Money {
        self.line_net_total
    }
    /// Sum of allowances, the coupon discount net (BT-107).
    pub fn allowance_total(&self) -> Money {
        self.allowance_total
    }
    /// Sum of charges, net (BT-108).
    pub fn charge_total(&self) -> Money {
        self.charge_total
    }
    /// Total without VAT (BT-109).
    pub fn net_total(&self) -> Money {
        self.net_total
    }
    /// Total VAT (BT-110).
    pub fn vat_total(&self) -> Money {
        self.vat_total
    }
    /// Total with VAT, the amount due (BT-112, BT-115).
    pub fn total(&self) -> Money {
        self.gross_total
    }
    /// The coupon code applied, upper-cased.
    pub fn coupon(&self) -> Option<&str> {
        self.coupon.as_deref()
    }
    /// Where the order came from, as the host passed it at checkout.
    pub fn attribution(&self) -> Option<&crate::marketing::Attribution> {
        self.attribution.as_ref()
    }
    /// The destination country the VAT was decided for.
    pub fn destination(&self) -> Country {
        self.destination
    }
    /// The buyer as they were at checkout.
    pub fn buyer(&self) -> &BuyerSnapshot {
        &self.buyer
    }
    /// The lines.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }
    /// The document-level charges (shipping), in the order they were added.
    pub fn charges(&self) -> &[OrderCharge] {
        &self.charges
    }
    /// The VAT breakdown, one row per category and rate.
    pub fn vat_breakdown(&self) -> &[OrderVat] {
        &self.vat
    }
    /// When it was placed.
    pub fn placed_at(&self) -> Timestamp {
        self.placed_at
    }
    /// Its version (grows with every change).
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// One page of orders, newest first, with the cursor to the next page.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub(crate) orders: Vec<Order>,
    pub(crate) next: Option<OrderId>,
}

impl OrderPage {
    /// The orders of this page.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }
    /// The cursor to pass for the next page; `None` on the last page.
    pub fn next(&self) -> Option<OrderId> {
        self.next
    }
}

/// What to list: an optional status filter, a page size and a keyset cursor.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct OrderQuery {
    pub(crate) status: Option<OrderStatus>,
    pub(crate) after: Option<OrderId>,
    pub(crate) limit: Option<usize>,
}

impl OrderQuery {
    /// Every order, 50 per page.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only orders in `status`.
    pub fn status(mut self, status: OrderStatus) -> Self {
        self.status = Some(status);
        self
    }
    /// Orders after this cursor (from [`OrderPage::next`]).
    pub fn after(mut self, cursor: OrderId) -> Self {
        self.after = Some(cursor);
        self
    }
    /// The page size (1 to 500; default 50).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_what_they_display() {
        let all = [
            OrderStatus::Placed,
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Completed,
            OrderStatus::Cancelled,
            OrderStatus::Expired,
        ];
        for status in all {
            assert_eq!(status.to_string().parse::<OrderStatus>().unwrap(), status);
            assert_eq!(status.as_ref(), status.as_str());
        }
        // Input is bad input, not a damaged database.
        let err = "refunded".parse::<OrderStatus>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Validation { field: "status" });
        assert_eq!(
            OrderStatus::parse("refunded").unwrap_err().kind(),
            ErrorKind::Storage
        );
    }

    #[test]
    fn order_numbers_parse_as_printed_on_a_confirmation() {
        assert_eq!(
            "000123".parse::<OrderNumber>().unwrap(),
            OrderNumber::new(123)
        );
        assert_eq!("123".parse::<OrderNumber>().unwrap(), OrderNumber::new(123));
        for bad in [
            "", "0", "000000", "-1", "+1", "12a", " 12", "#123", "1.0", "١٢٣",
        ] {
            let err = bad.parse::<OrderNumber>().unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Validation {
                    field: "order_number"
                },
                "{bad:?}"
            );
        }
        let too_big = "99999999999999999999".parse::<OrderNumber>().unwrap_err();
        assert_eq!(
            too_big.kind(),
            ErrorKind::Validation {
                field: "order_number"
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn every_number_parses_back_from_its_display(n in 1..=u64::MAX) {
            let number = OrderNumber::new(n);
            proptest::prop_assert_eq!(number.to_string().parse::<OrderNumber>().unwrap(), number);
            proptest::prop_assert_eq!(number.as_ref(), format!("{n:06}"));
            proptest::prop_assert_eq!(number.as_ref().parse::<u64>().unwrap(), n);
        }
    }
}
