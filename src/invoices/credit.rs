//! Credit notes: the only correction of an issued invoice, numbered in the shop's credit note
//! series, referencing the original, and never crediting more than it billed.
//!
//! Refunds and cancellations call these functions inside their own transaction, so that the
//! money returned and the credit note that documents it commit together.

use super::invoice::{Invoice, InvoiceId};
use super::invoice_repo::{self, Credited};
use super::repo::{Written, issue_date, issue_in, settings, write};
use super::spec::{Spec, SpecLine, Terms};
use crate::access::Principal;
use crate::catalog::ShopSettings;
use crate::error::{Error, ErrorKind, Result};
use crate::orders::{Order, discount_share};
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
/// Each credited line carries its share of the order discount by the refunds' rule, so that
/// crediting a line's units in any number of steps credits exactly the discount it was
/// invoiced with, and a refund's credit note credits exactly what the refund returns.
///
/// # Errors
///
/// `Validation` (field `lines`) for an unknown line, a zero quantity, a line named twice, or
/// nothing to credit; `Conflict` for more units than were invoiced and not yet credited,
/// charges already credited, or a total beyond what the invoice billed; the errors of issuing.
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
    let (lines, discount) = credit_lines(order, spec, credited, request.lines)?;
    let charges = if request.charges {
        if credited.charges {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "the charges of invoice {} were already credited",
                    original.number()
                ),
            ));
        }
        spec.terms.charges.clone()
    } else {
        Vec::new()
    };
    if lines.is_empty() {
        return Err(Error::validation(
            "lines",
            "a credit note needs at least one line (EN 16931 BG-25); credit charges with a line",
        ));
    }
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
        return Err(Error::new(
            ErrorKind::Conflict,
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
    if lines.is_empty() {
        return Ok(None);
    }
    let charges = !credited.charges && !spec.terms.charges.is_empty();
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

/// The credited lines, and their discount shares' sum (in the price mode's terms), shared out
/// by the refunds' own rule ([`discount_share`]).
fn credit_lines(
    order: &Order,
    spec: &Spec,
    credited: &Credited,
    wanted: &[(u32, u32)],
) -> Result<(Vec<SpecLine>, i64)> {
    let mut lines = Vec::new();
    let mut discount: i64 = 0;
    for (i, &(position, quantity)) in wanted.iter().enumerate() {
        let unknown = || Error::validation("lines", format!("the order has no line {position}"));
        let line = spec
            .lines
            .iter()
            .find(|l| l.order_position == position)
            .ok_or_else(unknown)?;
        let ordered = order
            .lines()
            .iter()
            .find(|l| l.position() == position)
            .ok_or_else(unknown)?;
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
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "line {position} was invoiced {} times and {done} are credited already",
                    line.quantity
                ),
            ));
        }
        let share = discount_share(ordered.discount().minor(), line.quantity, done, quantity)?;
        discount = discount
            .checked_add(share)
            .ok_or_else(|| Error::new(ErrorKind::Overflow, "amount out of range"))?;
        lines.push(SpecLine {
            quantity,
            ..line.clone()
        });
    }
    Ok((lines, discount))
}

#[cfg(test)]
mod tests;
