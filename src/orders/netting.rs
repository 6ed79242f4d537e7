//! Credit note totals that net their invoice to zero.
//!
//! A credit note credits some units of an invoice's lines and, once, its charges. Computing
//! each note on its own (VAT rounded per note) lets the notes of one invoice drift from it by
//! a minor unit per note and VAT group. Instead, each note is the difference between two
//! *credited states*: what all notes credited after it, less what they credited before it.
//! A state is a function of the credited units per line and whether the charges are
//! credited, and the fully credited state is, figure by figure, the invoice. So the notes of
//! an invoice always add up exactly to it: every total, every VAT group (lines, allowance,
//! charges, taxable amount, VAT), in both price modes, whatever the sequence. The note that
//! exhausts a VAT group takes exactly its remainder.
//!
//! A state's figures per VAT group, from its credited gross or net line amounts `LG`, its
//! discount shares `D` (the refunds' telescoping shares, [`discount_share`]) and its credited
//! charges (each at the net the invoice stated for it, `C`):
//!
//! - tax-exclusive: lines `LG`, allowance `D`, taxable `T = LG − D + C`, VAT `round(T × rate)`;
//! - tax-inclusive: allowance `round(D / (1 + rate))`, lines `round(LG / (1 + rate))` (capped
//!   at the invoice's, and exactly the invoice's once every line of the group is credited),
//!   taxable `lines − allowance + C`, VAT = credited gross − taxable.
//!
//! Line nets, allowances and charges only grow from one state to the next, so no note states
//! a negative line, allowance or charge. (A tax-inclusive note's VAT can, for items of a
//! minor unit or two, come out a minor unit below zero: its gross is exact, and its net is
//! rounded.)
//!
//! BR-CO-17 (and BR-S-09) accept a group's VAT within one unit of the currency (not one minor
//! unit) of `taxable × rate`: the official rules pass a note whose VAT is 0.04 EUR off and
//! refuse one 1.01 EUR off. Tax-exclusive, a note's VAT is the difference of two roundings of
//! `T × rate`, so it is within one minor unit of its own `taxable × rate`. Tax-inclusive, each
//! state is within `(1 + rate) × 4.5` minor units (two roundings, and the invoice's own line
//! and charge nets, each within two minor units of their exact share), so a note is within
//! about ten minor units, usually one or two: far inside the tolerance for every currency
//! with two decimals. (A currency without decimals, such as JPY, has a tolerance of one minor
//! unit, which a partial tax-inclusive note could in rare cases exceed.)
//!
//! Line nets: tax-exclusive, a credited line's net is exact (units × price). Tax-inclusive,
//! the note's lines share the group's line net by their gross amounts (largest remainder),
//! and a line the note exhausts takes exactly what of its invoiced net is left, whenever the
//! group's figures allow it.

use super::refund::discount_share;
use super::totals::{Charge, LineTotal, PriceMode, PricedLine, Totals, VatGroup};
use super::vat::{VatCategory, VatTreatment};
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money, Rounding, TaxRate};

/// The invoice a credit note corrects: its lines and charges as stated, and its totals.
pub(crate) struct Invoiced<'a> {
    pub(crate) mode: PriceMode,
    pub(crate) currency: Currency,
    pub(crate) lines: &'a [PricedLine],
    pub(crate) charges: &'a [Charge],
    pub(crate) totals: &'a Totals,
}

/// One invoice line as a credit note sees it: the units and net credited by earlier notes,
/// and the units this note credits (0 if it does not credit the line).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineCredit {
    pub(crate) before: u32,
    pub(crate) before_net: i64,
    pub(crate) now: u32,
}

/// The totals of a credit note against `invoice` that credits `credits` (one per invoice
/// line, in the invoice's order) and, if `charges_now`, the charges; `charges_before` says
/// whether an earlier note credited them. The result's lines are the credited ones, in the
/// invoice's order; its charges are the invoice's, if credited.
///
/// # Errors
///
/// `Validation` for more units than invoiced (field `quantity`) or charges credited twice
/// (field `charges`); `Storage` if `credits`
/// does not match the invoice's lines; `Overflow` or `CurrencyMismatch` from the arithmetic.
pub(crate) fn credit_totals(
    invoice: &Invoiced<'_>,
    credits: &[LineCredit],
    charges_before: bool,
    charges_now: bool,
) -> Result<Totals> {
    let t = invoice.totals;
    if credits.len() != invoice.lines.len() || t.lines().len() != invoice.lines.len() {
        return Err(Error::new(
            ErrorKind::Storage,
            "a credit note's lines do not match its invoice",
        ));
    }
    if charges_before && charges_now {
        return Err(Error::validation(
            "charges",
            "the invoice's charges were already credited",
        ));
    }
    let currency = invoice.currency;
    let mut note_lines = Vec::new();
    let mut groups = Vec::new();
    for group in t.vat_groups() {
        let key = (group.vat().category(), group.vat().rate());
        let members: Vec<usize> = invoice
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| in_group(l.vat(), key))
            .map(|(i, _)| i)
            .collect();
        let charges: Vec<usize> = invoice
            .charges
            .iter()
            .enumerate()
            .filter(|(_, c)| in_group(c.vat(), key))
            .map(|(j, _)| j)
            .collect();
        let touched = members
            .iter()
            .any(|&i| credits.get(i).is_some_and(|c| c.now > 0))
            || (charges_now && !charges.is_empty());
        if !touched {
            continue;
        }
        let state = |after: bool| -> Result<Figures> {
            let units = |i: usize| {
                credits.get(i).map_or(0, |c| {
                    if after {
                        c.before.saturating_add(c.now)
                    } else {
                        c.before
                    }
                })
            };
            let credited_charges = charges_before || (after && charges_now);
            figures(invoice, group, &members, &charges, units, credited_charges)
        };
        let (before, after) = (state(false)?, state(true)?);
        let lines_net = after.lines.checked_sub(before.lines)?;
        let vat_group = VatGroup::stated(
            group.vat().clone(),
            lines_net,
            after.allowance.checked_sub(before.allowance)?,
            after.charges.checked_sub(before.charges)?,
            after.tax.checked_sub(before.tax)?,
        )?;
        note_lines.extend(share_lines(invoice, credits, &members, lines_net)?);
        groups.push(vat_group);
    }
    note_lines.sort_by_key(|(i, _)| *i);
    let mut lines = Vec::with_capacity(note_lines.len());
    for (i, net) in note_lines {
        let (Some(priced), Some(invoiced), Some(credit)) =
            (invoice.lines.get(i), t.lines().get(i), credits.get(i))
        else {
            continue;
        };
        let shown = priced.unit_price().checked_mul(i64::from(credit.now))?;
        let share = discount_share(
            invoiced.discount().minor(),
            priced.quantity(),
            credit.before,
            credit.now,
        )?;
        lines.push(LineTotal::stated(net, shown, Money::new(share, currency)));
    }
    let charges_net = if charges_now {
        t.charges_net().to_vec()
    } else {
        Vec::new()
    };
    Totals::stated(invoice.mode, currency, lines, charges_net, groups)
}

/// Whether a line or charge of treatment `vat` belongs to the group `key`.
fn in_group(vat: &VatTreatment, key: (VatCategory, TaxRate)) -> bool {
    (vat.category(), vat.rate()) == key
}

/// One VAT group's figures in a credited state.
struct Figures {
    lines: Money,
    allowance: Money,
    charges: Money,
    tax: Money,
}

/// The figures of `group` in the state where `units(i)` units of each member line `i` and,
/// if `credited_charges`, the group's charges are credited. See the module docs.
fn figures(
    invoice: &Invoiced<'_>,
    group: &VatGroup,
    members: &[usize],
    charges: &[usize],
    units: impl Fn(usize) -> u32,
    credited_charges: bool,
) -> Result<Figures> {
    let currency = invoice.currency;
    let t = invoice.totals;
    let mut lines_amount = Money::zero(currency);
    let mut discount = Money::zero(currency);
    let mut exhausted = true;
    for &i in members {
        let (Some(priced), Some(invoiced)) = (invoice.lines.get(i), t.lines().get(i)) else {
            continue;
        };
        let n = units(i);
        if n > priced.quantity() {
            return Err(Error::validation(
                "quantity",
                "more units would be credited than were invoiced",
            ));
        }
        exhausted &= n == priced.quantity();
        lines_amount = lines_amount.checked_add(priced.unit_price().checked_mul(i64::from(n))?)?;
        let share = discount_share(invoiced.discount().minor(), priced.quantity(), 0, n)?;
        discount = discount.checked_add(Money::new(share, currency))?;
    }
    let (mut charges_amount, mut charges_net) = (Money::zero(currency), Money::zero(currency));
    if credited_charges {
        for &j in charges {
            if let (Some(charge), Some(net)) = (invoice.charges.get(j), t.charges_net().get(j)) {
                charges_amount = charges_amount.checked_add(charge.amount())?;
                charges_net = charges_net.checked_add(*net)?;
            }
        }
    }
    let rate = group.vat().rate();
    match invoice.mode {
        PriceMode::TaxExclusive => {
            let taxable = lines_amount
                .checked_sub(discount)?
                .checked_add(charges_net)?;
            Ok(Figures {
                lines: lines_amount,
                allowance: discount,
                charges: charges_net,
                tax: rate.tax_on(taxable, Rounding::HalfUp)?,
            })
        }
        PriceMode::TaxInclusive => {
            let (allowance, _) = rate.split_gross(discount, Rounding::HalfUp)?;
            let lines = if exhausted {
                group.lines_net()
            } else {
                let (net, _) = rate.split_gross(lines_amount, Rounding::HalfUp)?;
                if net.minor() > group.lines_net().minor() {
                    group.lines_net()
                } else {
                    net
                }
            };
            let taxable = lines.checked_sub(allowance)?.checked_add(charges_net)?;
            let gross = lines_amount
                .checked_sub(discount)?
                .checked_add(charges_amount)?;
            Ok(Figures {
                lines,
                allowance,
                charges: charges_net,
                tax: gross.checked_sub(taxable)?,
            })
        }
    }
}

/// Shares a note's line net `total` for one VAT group over the note's lines of the group
/// (the `members` it credits): a line the note exhausts takes what of its invoiced net is
/// left, the others share the rest by their amounts (largest remainder). When the exhausted
/// lines' remainders do not fit the total, every line shares the total by its amount: the
/// group's figures, which net the invoice, come first.
fn share_lines(
    invoice: &Invoiced<'_>,
    credits: &[LineCredit],
    members: &[usize],
    total: Money,
) -> Result<Vec<(usize, Money)>> {
    let currency = invoice.currency;
    let mut parts: Vec<(usize, u64, Option<Money>)> = Vec::new();
    let mut remainders_fit = true;
    for &i in members {
        let (Some(priced), Some(invoiced), Some(credit)) = (
            invoice.lines.get(i),
            invoice.totals.lines().get(i),
            credits.get(i),
        ) else {
            continue;
        };
        if credit.now == 0 {
            continue;
        }
        let amount = priced.unit_price().checked_mul(i64::from(credit.now))?;
        let weight = u64::try_from(amount.minor()).unwrap_or(0);
        let exhausts = credit.before.saturating_add(credit.now) == priced.quantity();
        let exact = if exhausts {
            match invoiced.net().minor().checked_sub(credit.before_net) {
                Some(rest) if rest >= 0 => Some(Money::new(rest, currency)),
                _ => {
                    remainders_fit = false;
                    None
                }
            }
        } else {
            None
        };
        parts.push((i, weight, exact));
    }
    let fixed = Money::sum(currency, parts.iter().filter_map(|(_, _, e)| *e))?;
    let rest = total.checked_sub(fixed)?;
    let open: Vec<(usize, u64)> = parts
        .iter()
        .filter(|(_, _, e)| e.is_none())
        .map(|(i, w, _)| (*i, *w))
        .collect();
    remainders_fit &= if open.is_empty() {
        rest.is_zero()
    } else {
        !rest.is_negative()
    };
    if !remainders_fit {
        let all: Vec<(usize, u64)> = parts.iter().map(|(i, w, _)| (*i, *w)).collect();
        return split(&all, total);
    }
    let mut shared = split(&open, rest)?;
    shared.extend(parts.iter().filter_map(|(i, _, e)| e.map(|net| (*i, net))));
    Ok(shared)
}

/// Splits `total` over `parts` by their weights (equally if every weight is zero).
fn split(parts: &[(usize, u64)], total: Money) -> Result<Vec<(usize, Money)>> {
    if parts.is_empty() {
        if total.is_zero() {
            return Ok(Vec::new());
        }
        return Err(Error::new(
            ErrorKind::Storage,
            "a credit note's VAT group has a line net but no line",
        ));
    }
    let mut weights: Vec<u64> = parts.iter().map(|(_, w)| *w).collect();
    if weights.iter().all(|w| *w == 0) {
        weights = vec![1; parts.len()];
    }
    let shares = total.split(&weights)?;
    Ok(parts.iter().map(|(i, _)| *i).zip(shares).collect())
}
