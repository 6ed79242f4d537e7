//! Order and invoice totals, computed the EN 16931 way.
//!
//! One function computes every total a cart preview, an order and an invoice show, so the
//! three always agree. VAT is computed per VAT group (category and rate) on the sum of the
//! group's amounts, never per line, which is what EN 16931 checks (BR-CO-17).
//!
//! **Tax-exclusive prices** (B2B shops): line nets are exact; per group,
//! `VAT = round(taxable × rate)`.
//!
//! **Tax-inclusive prices** (B2C shops): the displayed gross is what the customer pays; per
//! group, `net = round(gross / (1 + rate))` and `VAT = gross − net`. The VAT may then differ
//! from `round(net × rate)` by one minor unit, which EN 16931 tolerates (BR-CO-17 accepts a
//! difference below one unit); the gross total always equals the sum of the displayed prices.
//! The group's net is then spread over its lines and charges by the largest-remainder method,
//! so line nets add up exactly.
//!
//! An order-level discount (a coupon) is spread over the lines in proportion to their amounts,
//! by largest remainder, and lands in each VAT group as a document-level allowance: the VAT of
//! each rate is computed on what was really charged at that rate. Shipping and other charges
//! carry their own VAT treatment.

use std::collections::BTreeMap;

use super::vat::{VatCategory, VatTreatment};
use crate::error::{Error, Result};
use crate::money::{Currency, Money, Rounding, TaxRate};

/// Whether the shop's prices include VAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum PriceMode {
    /// Prices are net; VAT is added on top (usual for B2B shops).
    #[default]
    TaxExclusive,
    /// Prices are gross, as displayed to consumers; VAT is contained in them.
    TaxInclusive,
}

/// A line to total: unit price (net or gross, per the price mode), quantity and VAT treatment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PricedLine {
    unit_price: Money,
    quantity: u32,
    vat: VatTreatment,
}

impl PricedLine {
    /// A line.
    ///
    /// # Errors
    ///
    /// A `Validation` error: field `unit_price` for a negative price, `quantity` for zero.
    pub fn new(unit_price: Money, quantity: u32, vat: VatTreatment) -> Result<Self> {
        if unit_price.is_negative() {
            return Err(Error::validation(
                "unit_price",
                "a price cannot be negative",
            ));
        }
        if quantity == 0 {
            return Err(Error::validation(
                "quantity",
                "a line needs a quantity of at least 1",
            ));
        }
        Ok(PricedLine {
            unit_price,
            quantity,
            vat,
        })
    }

    /// The unit price as given (net or gross, per the price mode).
    pub fn unit_price(&self) -> Money {
        self.unit_price
    }

    /// The quantity.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }

    /// The VAT treatment.
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }

    fn amount(&self) -> Result<Money> {
        self.unit_price.checked_mul(i64::from(self.quantity))
    }
}

/// A document-level charge (shipping, a handling fee) with its own VAT treatment; its amount
/// is net or gross per the price mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Charge {
    amount: Money,
    vat: VatTreatment,
}

impl Charge {
    /// A charge.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `charge`) for a negative amount.
    pub fn new(amount: Money, vat: VatTreatment) -> Result<Self> {
        if amount.is_negative() {
            return Err(Error::validation("charge", "a charge cannot be negative"));
        }
        Ok(Charge { amount, vat })
    }

    /// The amount as given.
    pub fn amount(&self) -> Money {
        self.amount
    }

    /// The VAT treatment.
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }
}

/// A line's share of the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LineTotal {
    net: Money,
    gross: Money,
    discount: Money,
}

impl LineTotal {
    /// The line's net amount (EN 16931 BT-131), before the order discount.
    pub fn net(&self) -> Money {
        self.net
    }

    /// Quantity × unit price as shown to the buyer: the net amount in tax-exclusive mode, the
    /// gross in tax-inclusive mode.
    pub fn shown(&self) -> Money {
        self.gross
    }

    /// The line's share of the order discount, in the price mode's terms.
    pub fn discount(&self) -> Money {
        self.discount
    }

    /// A line's totals stated by the caller (a credit note's, see `netting`).
    pub(crate) fn stated(net: Money, shown: Money, discount: Money) -> LineTotal {
        LineTotal {
            net,
            gross: shown,
            discount,
        }
    }
}

/// The totals of one VAT group (category and rate): one EN 16931 VAT breakdown (BG-23).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct VatGroup {
    vat: VatTreatment,
    lines_net: Money,
    allowance_net: Money,
    charges_net: Money,
    taxable: Money,
    tax: Money,
}

impl VatGroup {
    /// The group's category, rate and exemption reason.
    pub fn vat(&self) -> &VatTreatment {
        &self.vat
    }

    /// The sum of its lines' net amounts.
    pub fn lines_net(&self) -> Money {
        self.lines_net
    }

    /// Its share of the order discount, net (a document-level allowance, BT-92).
    pub fn allowance_net(&self) -> Money {
        self.allowance_net
    }

    /// Its charges, net (document-level charges, BT-99).
    pub fn charges_net(&self) -> Money {
        self.charges_net
    }

    /// The taxable amount (BT-116) = lines − allowance + charges.
    pub fn taxable(&self) -> Money {
        self.taxable
    }

    /// The VAT amount (BT-117).
    pub fn tax(&self) -> Money {
        self.tax
    }

    /// Taxable amount plus VAT.
    pub fn gross(&self) -> Result<Money> {
        self.taxable.checked_add(self.tax)
    }

    /// A group's totals stated by the caller (a credit note's, see `netting`); the taxable
    /// amount is derived, so that it is always lines − allowance + charges.
    ///
    /// # Errors
    ///
    /// `CurrencyMismatch` or `Overflow` from the arithmetic.
    pub(crate) fn stated(
        vat: VatTreatment,
        lines_net: Money,
        allowance_net: Money,
        charges_net: Money,
        tax: Money,
    ) -> Result<VatGroup> {
        let taxable = lines_net
            .checked_sub(allowance_net)?
            .checked_add(charges_net)?;
        Ok(VatGroup {
            vat,
            lines_net,
            allowance_net,
            charges_net,
            taxable,
            tax,
        })
    }
}

/// Every total of an order or invoice. From [`Totals::compute`].
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::money::TaxRate;
/// use shopkeep::orders::{PriceMode, PricedLine, Totals, VatCategory, VatTreatment};
///
/// let full = VatTreatment::new(VatCategory::Standard, TaxRate::parse("19")?, None)?;
/// let reduced = VatTreatment::new(VatCategory::Standard, TaxRate::parse("7")?, None)?;
/// let lines = [
///     PricedLine::new(Money::parse("12.90", Currency::EUR)?, 3, full)?,
///     PricedLine::new(Money::parse("9.99", Currency::EUR)?, 1, reduced)?,
/// ];
/// let coupon = Money::parse("5.00", Currency::EUR)?;
/// let totals = Totals::compute(PriceMode::TaxInclusive, Currency::EUR, &lines, coupon, &[])?;
/// assert_eq!(totals.gross_total().to_string(), "43.69 EUR"); // 38.70 + 9.99 − 5.00
/// assert_eq!(totals.vat_groups().len(), 2);
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Totals {
    mode: PriceMode,
    lines: Vec<LineTotal>,
    charges_net: Vec<Money>,
    groups: Vec<VatGroup>,
    line_net_total: Money,
    allowance_total: Money,
    charge_total: Money,
    net_total: Money,
    vat_total: Money,
    gross_total: Money,
}

/// What goes into one VAT group before its VAT is computed, in the price mode's terms.
struct GroupInput {
    vat: VatTreatment,
    lines: Vec<(usize, Money)>,
    charges: Vec<(usize, Money)>,
    discount: Money,
}

impl Totals {
    /// Computes the totals of `lines`, less an order-level `discount`, plus `charges`, all in
    /// `currency` and in the terms of `mode` (net or gross amounts).
    ///
    /// # Errors
    ///
    /// - `CurrencyMismatch` if an amount is not in `currency`;
    /// - `Validation` (field `discount`) for a negative discount or one above the lines' total;
    /// - `Validation` (field `exemption_reason`) if two lines of one VAT category and rate give
    ///   different exemption reasons (EN 16931 has one reason per VAT breakdown);
    /// - `Overflow` if an amount leaves the representable range.
    pub fn compute(
        mode: PriceMode,
        currency: Currency,
        lines: &[PricedLine],
        discount: Money,
        charges: &[Charge],
    ) -> Result<Totals> {
        let amounts = lines
            .iter()
            .map(PricedLine::amount)
            .collect::<Result<Vec<_>>>()?;
        let subtotal = Money::sum(currency, amounts.iter().copied())?;
        let discount = Money::zero(currency).checked_add(discount)?;
        if discount.is_negative() || discount.minor() > subtotal.minor() {
            return Err(Error::validation(
                "discount",
                "a discount is between zero and the lines' total",
            ));
        }
        for charge in charges {
            Money::zero(currency).checked_add(charge.amount)?;
        }
        let shares = if subtotal.is_zero() {
            vec![Money::zero(currency); amounts.len()]
        } else {
            discount.split(&weights(&amounts))?
        };

        // Group lines and charges by VAT category and rate, in a stable order.
        let mut groups: Groups = BTreeMap::new();
        for (i, (line, (amount, share))) in
            lines.iter().zip(amounts.iter().zip(&shares)).enumerate()
        {
            let g = group(&mut groups, &line.vat, currency)?;
            g.lines.push((i, *amount));
            g.discount = g.discount.checked_add(*share)?;
        }
        for (i, charge) in charges.iter().enumerate() {
            group(&mut groups, &charge.vat, currency)?
                .charges
                .push((i, charge.amount));
        }

        let mut line_nets = amounts.clone();
        let mut charge_nets: Vec<Money> = charges.iter().map(|c| c.amount).collect();
        let mut vat_groups = Vec::with_capacity(groups.len());
        for input in groups.into_values() {
            vat_groups.push(match mode {
                PriceMode::TaxExclusive => exclusive_group(input, currency)?,
                PriceMode::TaxInclusive => {
                    inclusive_group(input, currency, &mut line_nets, &mut charge_nets)?
                }
            });
        }

        let sum = |values: &mut dyn Iterator<Item = Money>| Money::sum(currency, values);
        let line_net_total = sum(&mut line_nets.iter().copied())?;
        let allowance_total = sum(&mut vat_groups.iter().map(|g| g.allowance_net))?;
        let charge_total = sum(&mut vat_groups.iter().map(|g| g.charges_net))?;
        let net_total = line_net_total
            .checked_sub(allowance_total)?
            .checked_add(charge_total)?;
        let vat_total = sum(&mut vat_groups.iter().map(|g| g.tax))?;
        let gross_total = net_total.checked_add(vat_total)?;
        let lines = line_nets
            .iter()
            .zip(amounts.iter().zip(&shares))
            .map(|(net, (shown, share))| LineTotal {
                net: *net,
                gross: *shown,
                discount: *share,
            })
            .collect();
        Ok(Totals {
            mode,
            lines,
            charges_net: charge_nets,
            groups: vat_groups,
            line_net_total,
            allowance_total,
            charge_total,
            net_total,
            vat_total,
            gross_total,
        })
    }

    /// Totals from stated lines, charges and VAT groups (a credit note's, see `netting`): every
    /// document total is the sum of its parts, as in [`Totals::compute`].
    ///
    /// # Errors
    ///
    /// `CurrencyMismatch` if an amount is not in `currency`; `Overflow` from the sums.
    pub(crate) fn stated(
        mode: PriceMode,
        currency: Currency,
        lines: Vec<LineTotal>,
        charges_net: Vec<Money>,
        groups: Vec<VatGroup>,
    ) -> Result<Totals> {
        let line_net_total = Money::sum(currency, lines.iter().map(|l| l.net))?;
        let allowance_total = Money::sum(currency, groups.iter().map(|g| g.allowance_net))?;
        let charge_total = Money::sum(currency, groups.iter().map(|g| g.charges_net))?;
        let net_total = line_net_total
            .checked_sub(allowance_total)?
            .checked_add(charge_total)?;
        let vat_total = Money::sum(currency, groups.iter().map(|g| g.tax))?;
        let gross_total = net_total.checked_add(vat_total)?;
        Ok(Totals {
            mode,
            lines,
            charges_net,
            groups,
            line_net_total,
            allowance_total,
            charge_total,
            net_total,
            vat_total,
            gross_total,
        })
    }

    /// The price mode the totals were computed in.
    pub fn mode(&self) -> PriceMode {
        self.mode
    }

    /// Each line's totals, in the order given.
    pub fn lines(&self) -> &[LineTotal] {
        &self.lines
    }

    /// Each charge's net amount, in the order given.
    pub fn charges_net(&self) -> &[Money] {
        &self.charges_net
    }

    /// The VAT breakdown: one group per VAT category and rate, ordered by category and rate.
    pub fn vat_groups(&self) -> &[VatGroup] {
        &self.groups
    }

    /// Sum of line net amounts (BT-106).
    pub fn line_net_total(&self) -> Money {
        self.line_net_total
    }

    /// Sum of allowances, net: the order discount (BT-107).
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

    /// Total with VAT (BT-112): what the buyer pays.
    pub fn gross_total(&self) -> Money {
        self.gross_total
    }
}

type Groups = BTreeMap<(VatCategory, TaxRate), GroupInput>;

/// The group of `vat`, created on first use.
fn group<'g>(
    groups: &'g mut Groups,
    vat: &VatTreatment,
    currency: Currency,
) -> Result<&'g mut GroupInput> {
    let entry = groups
        .entry((vat.category(), vat.rate()))
        .or_insert_with(|| GroupInput {
            vat: vat.clone(),
            lines: Vec::new(),
            charges: Vec::new(),
            discount: Money::zero(currency),
        });
    if entry.vat.exemption_reason() != vat.exemption_reason() {
        return Err(Error::validation(
            "exemption_reason",
            format!(
                "lines of VAT category {} give different exemption reasons",
                vat.category()
            ),
        ));
    }
    Ok(entry)
}

/// Split weights from non-negative amounts.
fn weights(amounts: &[Money]) -> Vec<u64> {
    amounts
        .iter()
        .map(|a| u64::try_from(a.minor()).unwrap_or(0))
        .collect()
}

fn exclusive_group(input: GroupInput, currency: Currency) -> Result<VatGroup> {
    let lines_net = Money::sum(currency, input.lines.iter().map(|(_, a)| *a))?;
    let charges_net = Money::sum(currency, input.charges.iter().map(|(_, a)| *a))?;
    let taxable = lines_net
        .checked_sub(input.discount)?
        .checked_add(charges_net)?;
    let tax = input.vat.rate().tax_on(taxable, Rounding::HalfUp)?;
    Ok(VatGroup {
        vat: input.vat,
        lines_net,
        allowance_net: input.discount,
        charges_net,
        taxable,
        tax,
    })
}

/// Tax-inclusive: the group's gross is fixed; its net is derived once, then spread over the
/// group's lines and charges so that everything adds up to the minor unit.
fn inclusive_group(
    input: GroupInput,
    currency: Currency,
    line_nets: &mut [Money],
    charge_nets: &mut [Money],
) -> Result<VatGroup> {
    let rate = input.vat.rate();
    let lines_gross = Money::sum(currency, input.lines.iter().map(|(_, a)| *a))?;
    let charges_gross = Money::sum(currency, input.charges.iter().map(|(_, a)| *a))?;
    let gross = lines_gross
        .checked_sub(input.discount)?
        .checked_add(charges_gross)?;
    let (taxable, tax) = rate.split_gross(gross, Rounding::HalfUp)?;
    let (allowance_net, _) = rate.split_gross(input.discount, Rounding::HalfUp)?;

    // Lines and charges together carry taxable + allowance, spread by their gross amounts.
    let positive_net = taxable.checked_add(allowance_net)?;
    let parts: Vec<Money> = input
        .lines
        .iter()
        .chain(&input.charges)
        .map(|(_, a)| *a)
        .collect();
    let nets = if parts.iter().all(|m| m.is_zero()) {
        vec![Money::zero(currency); parts.len()]
    } else {
        positive_net.split(&weights(&parts))?
    };
    let (line_parts, charge_parts) = nets.split_at(input.lines.len());
    for ((i, _), net) in input.lines.iter().zip(line_parts) {
        if let Some(slot) = line_nets.get_mut(*i) {
            *slot = *net;
        }
    }
    for ((i, _), net) in input.charges.iter().zip(charge_parts) {
        if let Some(slot) = charge_nets.get_mut(*i) {
            *slot = *net;
        }
    }
    Ok(VatGroup {
        vat: input.vat,
        lines_net: Money::sum(currency, line_parts.iter().copied())?,
        allowance_net,
        charges_net: Money::sum(currency, charge_parts.iter().copied())?,
        taxable,
        tax,
    })
}
