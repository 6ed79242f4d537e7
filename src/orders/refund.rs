//! Refunds: what to refund (the request) and what was refunded (the record). No SQL.

use super::order::OrderId;
use super::totals::Charge;
use super::vat::VatTreatment;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::define_id;
use crate::money::Money;

define_id!(
    /// A refund's id (a time-ordered UUID).
    RefundId,
    "refund_id"
);

/// Which lines a refund covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Everything not yet refunded.
    Full,
    /// `(position, quantity)` pairs.
    Lines(Vec<(u32, u32)>),
}

/// A refund to make: the whole order, or some quantities of some lines; optionally the order's
/// charges (shipping, fees) and optionally returning the goods to stock.
///
/// ```
/// use shopkeep::orders::Refund;
///
/// let everything = Refund::full().restock(true);
/// let one_mug = Refund::lines([(0, 1)]); // one unit of the order's first line
/// # let _ = (everything, one_mug);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Refund {
    pub(crate) scope: Scope,
    pub(crate) charges: bool,
    pub(crate) restock: bool,
    pub(crate) exchange_rate: Option<String>,
}

impl Refund {
    /// Everything not refunded yet: every line's remaining quantity and the charges, if no
    /// earlier refund gave them back.
    pub fn full() -> Refund {
        Refund {
            scope: Scope::Full,
            charges: true,
            restock: false,
            exchange_rate: None,
        }
    }

    /// Some quantities of some lines, as `(position, quantity)` pairs (positions as in
    /// [`OrderLine::position`](crate::OrderLine::position)); without the charges unless
    /// [`charges`](Refund::charges) says so. Checked when the refund is made.
    pub fn lines(lines: impl IntoIterator<Item = (u32, u32)>) -> Refund {
        Refund {
            scope: Scope::Lines(lines.into_iter().collect()),
            charges: false,
            restock: false,
            exchange_rate: None,
        }
    }

    /// Whether the order's charges are refunded too (they can be refunded once).
    pub fn charges(mut self, include: bool) -> Self {
        self.charges = include;
        self
    }

    /// Whether the refunded goods go back into sellable stock (a `return` in the stock ledger).
    pub fn restock(mut self, restock: bool) -> Self {
        self.restock = restock;
        self
    }

    /// The exchange rate for the invoice this refund issues first, when the order has none
    /// yet (a credit note needs an invoice to correct) and its VAT must also be stated in
    /// another currency: as [`InvoiceRepo::issue_at_rate`](crate::InvoiceRepo::issue_at_rate)
    /// takes it. An order already invoiced ignores it: its credit notes restate the VAT at
    /// the invoice's rate.
    pub fn exchange_rate(mut self, rate: &str) -> Self {
        self.exchange_rate = Some(rate.to_owned());
        self
    }
}

/// One refunded quantity of an order line, with the order line's price and VAT treatment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundedLine {
    pub(crate) position: u32,
    pub(crate) quantity: u32,
    pub(crate) discount: Money,
    pub(crate) unit_price: Money,
    pub(crate) vat: VatTreatment,
}

impl RefundedLine {
    /// The order line's position.
    pub fn position(&self) -> u32 {
        self.position
    }
    /// The quantity refunded.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }
    /// This quantity's share of the line's discount, in the price mode's terms. The shares of
    /// all refunds of a line add up to the line's discount once it is fully refunded.
    pub fn discount(&self) -> Money {
        self.discount
    }
    /// The order line's unit price (net or gross, per the order's price mode).
    pub fn unit_price(&self) -> Money {
        self.unit_price
    }
    /// The order line's VAT treatment.
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }
}

/// A refund as stored: immutable (the database refuses to change or delete it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub(crate) id: RefundId,
    pub(crate) order: OrderId,
    pub(crate) number: u32,
    pub(crate) lines: Vec<RefundedLine>,
    pub(crate) charges: Vec<Charge>,
    pub(crate) restock: bool,
    pub(crate) net_total: Money,
    pub(crate) vat_total: Money,
    pub(crate) gross_total: Money,
    pub(crate) created_at: Timestamp,
}

impl RefundRecord {
    /// The refund's id.
    pub fn id(&self) -> RefundId {
        self.id
    }
    /// The order refunded.
    pub fn order(&self) -> OrderId {
        self.order
    }
    /// Its number within the order: 1 for the first refund, 2 for the next, ...
    pub fn number(&self) -> u32 {
        self.number
    }
    /// The refunded lines and quantities.
    pub fn lines(&self) -> &[RefundedLine] {
        &self.lines
    }
    /// The order's charges given back (empty if none).
    pub fn charges(&self) -> &[Charge] {
        &self.charges
    }
    /// Whether the goods went back into stock.
    pub fn restock(&self) -> bool {
        self.restock
    }
    /// Total without VAT.
    pub fn net_total(&self) -> Money {
        self.net_total
    }
    /// VAT.
    pub fn vat_total(&self) -> Money {
        self.vat_total
    }
    /// Total with VAT: what the host pays back through its gateway.
    pub fn gross_total(&self) -> Money {
        self.gross_total
    }
    /// When it was made.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
}

/// A line's discount share for refunding `quantity` units after `before` units were refunded,
/// of a line of `ordered` units with discount `discount` (minor units). The shares telescope:
/// `floor(D·(r+q)/Q) − floor(D·r/Q)`, so that refunding every unit, in any sequence, gives
/// back exactly `D`.
pub(crate) fn discount_share(
    discount: i64,
    ordered: u32,
    before: u32,
    quantity: u32,
) -> Result<i64> {
    let overflow = || Error::new(ErrorKind::Overflow, "a discount share is out of range");
    if ordered == 0 {
        return Err(overflow());
    }
    let d = i128::from(discount);
    let q = i128::from(ordered);
    let upto = i128::from(before)
        .checked_add(i128::from(quantity))
        .ok_or_else(overflow)?;
    let share = (d * upto).div_euclid(q) - (d * i128::from(before)).div_euclid(q);
    i64::try_from(share).map_err(|_| overflow())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn shares_telescope_to_the_discount(
            discount in 0i64..10_000_000,
            steps in proptest::collection::vec(1u32..20, 1..20),
        ) {
            let ordered: u32 = steps.iter().sum();
            let mut before = 0;
            let mut sum = 0;
            for q in steps {
                let share = discount_share(discount, ordered, before, q).unwrap();
                prop_assert!(share >= 0);
                sum += share;
                before += q;
            }
            prop_assert_eq!(sum, discount);
        }
    }
}
