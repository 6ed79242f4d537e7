//! Credit notes: the only correction of an issued invoice, numbered in the shop's credit note
//! series, referencing the original, and never crediting more than it billed.
//!
//! Refunds and cancellations call these functions inside their own transaction, so that the
//! money returned and the credit note that documents it commit together.

use super::invoice::{Invoice, InvoiceId};
use super::invoice_repo::{self, Credited};
use super::repo::{Written, issue_date, issue_in, settings, write};
use super::spec::{Spec, SpecLine, Stated, Terms};
use crate::access::Principal;
use crate::catalog::ShopSettings;
use crate::error::{Error, ErrorKind, Result};
use crate::money::Money;
use crate::orders::{Invoiced, LineCredit, LineTotal, Order, PricedLine, Totals, credit_totals};
use crate::store::{Store, Tx};

/// What to credit: quantities of order lines (by position) and, optionally, the charges.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreditRequest<'a> {
    pub(crate) lines: &'a [(u32, u32)],
    pub(crate) charges: bool,
    pub(crate) reason: &'a str,
}

/// Issues a credit note for part or all of `order`'s invoice. An order that was never
/// invoiced is invoiced first, at exchange rate `rate` if its VAT must also be stated in
/// another currency, since a credit note corrects an invoice.
///
/// The note's figures come from `orders::netting`: each is what all notes of the invoice
/// credited after this one, less what they credited before it, so that the notes of an
/// invoice add up exactly to it once everything is credited, in every total and every VAT
/// group. Each credited line carries its share of the line's discount by the refunds' rule
/// (shares telescope to the line's discount). A refund takes its amounts from its note.
///
/// # Errors
///
/// `Validation` (field `lines`) for an unknown line, a zero quantity, a line named twice, or
/// nothing to credit, (field `quantity`) for more units than were invoiced and not yet
/// credited, (field `charges`) for charges already credited, (field `lines`) for a total beyond
/// what the invoice billed; the errors of issuing.
pub(crate) fn credit_note(
    tx: &Tx<'_>,
    store: &Store,
    principal: &Principal,
    order: &Order,
    request: &CreditRequest<'_>,
    rate: Option<&str>,
) -> Result<Invoice> {
    let settings = settings(tx)?;
    let original_id = match invoice_repo::invoice_of(tx, order.id())? {
        Some(id) => id,
        None => issue_in(tx, store, principal, order, &settings, rate)?.id(),
    };
    let original = Original::load(tx, store, original_id)?;
    credit_against(tx, store, principal, order, &settings, &original, request)
}

/// The invoice a credit note corrects: as issued, the parts it was built from, and what its
/// credit notes have credited so far.
struct Original {
    id: InvoiceId,
    invoice: Invoice,
    spec: Spec,
    credited: Credited,
}

impl Original {
    fn load(tx: &Tx<'_>, store: &Store, id: InvoiceId) -> Result<Original> {
        let (invoice, spec) = invoice_repo::load_with_spec(tx, store, id)?;
        let credited = invoice_repo::credited(tx, id)?;
        Ok(Original {
            id,
            invoice,
            spec,
            credited,
        })
    }
}

/// Issues a credit note against `original`, loaded once by the caller.
fn credit_against(
    tx: &Tx<'_>,
    store: &Store,
    principal: &Principal,
    order: &Order,
    settings: &ShopSettings,
    original: &Original,
    request: &CreditRequest<'_>,
) -> Result<Invoice> {
    let Original {
        id: original_id,
        invoice: original,
        spec,
        credited,
    } = original;
    let original_id = *original_id;
    let wanted = credit_lines(order, spec, credited, request.lines)?;
    if request.charges && credited.charges {
        return Err(Error::validation(
            "charges",
            format!(
                "the charges of invoice {} were already credited",
                original.number()
            ),
        ));
    }
    let credits_charges = request.charges && !spec.terms.charges.is_empty();
    if wanted.is_empty() && !credits_charges {
        return Err(Error::validation(
            "lines",
            "a credit note needs at least one line or the charges",
        ));
    }
    // The note's figures are the difference between what all notes credited after it and
    // before it, so that the notes of an invoice add up exactly to it (orders::netting).
    let invoice_lines: Vec<PricedLine> = original
        .document()
        .lines()
        .iter()
        .map(|l| l.priced.clone())
        .collect();
    let invoice_charges = spec.charges()?;
    let credits: Vec<LineCredit> = spec
        .lines
        .iter()
        .map(|l| LineCredit {
            before: credited.quantity(l.order_position),
            before_net: credited.net(l.order_position),
            now: wanted
                .iter()
                .find(|(p, _)| *p == l.order_position)
                .map_or(0, |(_, q)| *q),
        })
        .collect();
    let totals = credit_totals(
        &Invoiced {
            mode: spec.mode,
            currency: spec.currency,
            lines: &invoice_lines,
            charges: &invoice_charges,
            totals: original.document().totals(),
        },
        &credits,
        credited.charges,
        credits_charges,
    )?;
    let mut lines: Vec<SpecLine> = spec
        .lines
        .iter()
        .zip(&credits)
        .filter(|(_, c)| c.now > 0)
        .map(|(l, c)| SpecLine {
            quantity: c.now,
            ..l.clone()
        })
        .collect();
    let (totals, charges_line) = charges_line(spec, totals)?;
    lines.extend(charges_line);
    let discount = Money::sum(spec.currency, totals.lines().iter().map(|l| l.discount()))?.minor();
    let charges = if credits_charges {
        spec.terms.charges.clone()
    } else {
        Vec::new()
    };
    let today = issue_date(tx, settings)?;
    let number = invoice_repo::take_number(tx, settings.credit_note_series(), today.year())?;
    let terms = Terms {
        original: Some((
            original.number().to_owned(),
            original.document().issue_date().to_string(),
        )),
        supply_date: spec.terms.supply_date.clone(),
        due_date: None,
        payment_terms: None,
        delivery_country: spec.terms.delivery_country.clone(),
        deliver_to_shipping_address: spec.terms.deliver_to_shipping_address,
        notes: vec![request.reason.to_owned()],
        discount: (discount != 0).then(|| {
            let reason = spec
                .terms
                .discount
                .as_ref()
                .map_or_else(|| "Discount".to_owned(), |(_, r)| r.clone());
            (discount, reason)
        }),
        charges,
        accounting: spec.terms.accounting.clone(),
        prepaid: None,
        stated: Some(Stated::of(&totals)),
    };
    let credit = Spec {
        number: number.text.clone(),
        issue_date: today,
        currency: spec.currency,
        mode: spec.mode,
        seller: spec.seller.clone(),
        buyer: spec.buyer.clone(),
        lines,
        terms,
    };
    let document = credit.build()?;
    let billed = original.document().totals().gross_total().minor();
    let total = credited
        .gross
        .checked_add(document.totals().gross_total().minor())
        .ok_or_else(|| Error::new(ErrorKind::Overflow, "amount out of range"))?;
    if total > billed {
        return Err(Error::validation(
            "lines",
            format!(
                "credit notes would credit more than invoice {} billed",
                original.number()
            ),
        ));
    }
    write(
        tx,
        store,
        principal,
        Written {
            id: InvoiceId::generate(tx.now())?,
            number: &number,
            order,
            original: Some(original_id),
            spec: &credit,
            document,
            retention_years: settings.invoice_retention_years(),
        },
    )
}

/// The order position of the line a credit note of charges alone states: no order line has
/// it, so it never counts as credited units of one.
const CHARGES_LINE: u32 = u32::MAX;

/// A note that credits only charges still needs a line (EN 16931 BG-25): it gets one named
/// after the first charge, priced zero, in that charge's VAT group, while the charges stay
/// document-level charges (BG-21) as invoiced, so that every total still nets. A note with
/// lines is returned as it is.
fn charges_line(spec: &Spec, totals: Totals) -> Result<(Totals, Option<SpecLine>)> {
    if !totals.lines().is_empty() {
        return Ok((totals, None));
    }
    let (Some(stored), Some(charge)) =
        (spec.terms.charges.first(), spec.charges()?.first().cloned())
    else {
        return Err(Error::validation(
            "lines",
            "a credit note needs at least one line or the charges",
        ));
    };
    let zero = Money::zero(spec.currency);
    let line = SpecLine {
        order_position: CHARGES_LINE,
        sku: String::new(),
        name: stored.reason.clone(),
        quantity: 1,
        unit_price: zero,
        vat: charge.vat().clone(),
    };
    let totals = Totals::stated(
        spec.mode,
        spec.currency,
        vec![LineTotal::stated(zero, zero, zero)],
        totals.charges_net().to_vec(),
        totals.vat_groups().to_vec(),
    )?;
    Ok((totals, Some(line)))
}

/// Credits whatever of `order`'s invoice is not credited yet (a cancellation). `None` if the
/// order has no invoice, or everything was credited already.
///
/// # Errors
///
/// As [`credit_note`].
pub(crate) fn credit_remaining(
    tx: &Tx<'_>,
    store: &Store,
    principal: &Principal,
    order: &Order,
    reason: &str,
) -> Result<Option<Invoice>> {
    let Some(id) = invoice_repo::invoice_of(tx, order.id())? else {
        return Ok(None);
    };
    let original = Original::load(tx, store, id)?;
    let (spec, credited) = (&original.spec, &original.credited);
    let lines: Vec<(u32, u32)> = spec
        .lines
        .iter()
        .map(|l| {
            let left = l
                .quantity
                .saturating_sub(credited.quantity(l.order_position));
            (l.order_position, left)
        })
        .filter(|(_, left)| *left > 0)
        .collect();
    let charges = !credited.charges && !spec.terms.charges.is_empty();
    if lines.is_empty() && !charges {
        return Ok(None);
    }
    let request = CreditRequest {
        lines: &lines,
        charges,
        reason,
    };
    credit_against(
        tx,
        store,
        principal,
        order,
        &settings(tx)?,
        &original,
        &request,
    )
    .map(Some)
}

/// The `(position, quantity)` pairs of `wanted`, checked against the invoice and what its
/// credit notes credited so far.
fn credit_lines(
    order: &Order,
    spec: &Spec,
    credited: &Credited,
    wanted: &[(u32, u32)],
) -> Result<Vec<(u32, u32)>> {
    for (i, &(position, quantity)) in wanted.iter().enumerate() {
        let unknown = || Error::validation("lines", format!("the order has no line {position}"));
        let line = spec
            .lines
            .iter()
            .find(|l| l.order_position == position)
            .ok_or_else(unknown)?;
        if !order.lines().iter().any(|l| l.position() == position) {
            return Err(unknown());
        }
        if quantity == 0 {
            return Err(Error::validation(
                "lines",
                "a credited quantity is at least 1",
            ));
        }
        if wanted.iter().take(i).any(|(p, _)| *p == position) {
            return Err(Error::validation(
                "lines",
                format!("line {position} is named twice"),
            ));
        }
        let done = credited.quantity(position);
        if done
            .checked_add(quantity)
            .is_none_or(|after| after > line.quantity)
        {
            return Err(Error::validation(
                "quantity",
                format!(
                    "line {position} was invoiced {} times and {done} are credited already",
                    line.quantity
                ),
            ));
        }
    }
    Ok(wanted.to_vec())
}

#[cfg(test)]
mod tests;
