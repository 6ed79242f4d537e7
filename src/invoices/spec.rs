//! What an issued document is made of, frozen: the inputs from which its [`InvoiceDocument`]
//! is built, once when it is issued and again, identically, whenever it is read back.
//!
//! Building both times through [`InvoiceDocument::builder`] means the totals are computed by
//! one engine; the repository compares them with the stored header, so a stored document that
//! no longer adds up is reported instead of rendered.

use serde::{Deserialize, Serialize};

use super::model::{Date, DocumentKind, DocumentLine, InvoiceBuyer, InvoiceDocument};
use crate::catalog::{Seller, ShopSettings};
use crate::customers::{BusinessDetails, Country, VatId};
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::orders::{
    BuyerSnapshot, Charge, Order, PriceMode, PricedLine, VatTreatment, stored_treatment,
};

/// One line as the document states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpecLine {
    /// The order line it bills or credits.
    pub(crate) order_position: u32,
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price: Money,
    pub(crate) vat: VatTreatment,
}

/// The document fields that are neither header, parties nor lines (stored as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Terms {
    pub(crate) original: Option<(String, String)>,
    pub(crate) supply_date: Option<String>,
    pub(crate) due_date: Option<String>,
    pub(crate) payment_terms: Option<String>,
    pub(crate) delivery_country: Option<String>,
    /// Whether the goods went to the buyer's shipping address (kept, encrypted, with the
    /// buyer): the document then states it as the deliver-to address (BG-15).
    #[serde(default)]
    pub(crate) deliver_to_shipping_address: bool,
    pub(crate) notes: Vec<String>,
    pub(crate) discount: Option<(i64, String)>,
    pub(crate) charges: Vec<StoredCharge>,
    pub(crate) accounting: Option<(Currency, String)>,
    /// The amount already paid (BT-113), in minor units.
    #[serde(default)]
    pub(crate) prepaid: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredCharge {
    pub(crate) reason: String,
    pub(crate) amount: i64,
    pub(crate) category: String,
    pub(crate) rate_bp: u32,
    pub(crate) exemption_reason: Option<String>,
}

/// Everything a document is built from.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) number: String,
    pub(crate) issue_date: Date,
    pub(crate) currency: Currency,
    pub(crate) mode: PriceMode,
    pub(crate) seller: Seller,
    pub(crate) buyer: BuyerSnapshot,
    pub(crate) lines: Vec<SpecLine>,
    pub(crate) terms: Terms,
}

impl Spec {
    /// Builds and validates the document.
    pub(crate) fn build(&self) -> Result<InvoiceDocument> {
        self.build_as(false)
    }

    /// Builds an issued document again, as it was issued (see
    /// [`InvoiceDocumentBuilder::already_issued`](super::model::InvoiceDocumentBuilder::already_issued)).
    pub(crate) fn rebuild(&self) -> Result<InvoiceDocument> {
        self.build_as(true)
    }

    fn build_as(&self, issued: bool) -> Result<InvoiceDocument> {
        let kind = match &self.terms.original {
            None => DocumentKind::Invoice,
            Some((number, date)) => DocumentKind::credit_note(number, parse_date(date)?)?,
        };
        let mut b = InvoiceDocument::builder(
            kind,
            &self.number,
            self.issue_date,
            self.currency,
            self.mode,
            self.seller.clone(),
            invoice_buyer(&self.buyer)?,
        );
        if let Some(endpoint) = self.seller.endpoint() {
            b = b.seller_electronic_address(endpoint.clone());
        }
        for (i, line) in self.lines.iter().enumerate() {
            let priced = PricedLine::new(line.unit_price, line.quantity, line.vat.clone())?;
            b = b
                .line(DocumentLine::new(&(i + 1).to_string(), &line.name, priced)?.sku(&line.sku)?);
        }
        let t = &self.terms;
        if let Some((amount, reason)) = &t.discount {
            b = b.discount(Money::new(*amount, self.currency), reason);
        }
        for c in &t.charges {
            let vat = stored_treatment(&c.category, c.rate_bp, c.exemption_reason.clone())?;
            b = b.charge(
                &c.reason,
                Charge::new(Money::new(c.amount, self.currency), vat)?,
            );
        }
        if let Some(date) = &t.supply_date {
            b = b.supply_date(parse_date(date)?);
        }
        if let Some(country) = &t.delivery_country {
            b = b.delivery_country(Country::parse(country)?);
        }
        if t.deliver_to_shipping_address {
            b = b.delivery_address(self.buyer.shipping().clone());
        }
        if let (Some(terms), Some(due)) = (&t.payment_terms, &t.due_date) {
            b = b.payment_terms(terms, parse_date(due)?);
        }
        for note in &t.notes {
            b = b.note(note);
        }
        if let Some((currency, rate)) = &t.accounting {
            b = b.vat_accounting(*currency, rate);
        }
        if let Some(paid) = t.prepaid {
            b = b.prepaid(Money::new(paid, self.currency));
        }
        if issued {
            b = b.already_issued();
        }
        b.build()
    }
}

/// The buyer as a document states them: a business (company, VAT id, buyer reference) or a
/// consumer, at the billing address.
fn invoice_buyer(s: &BuyerSnapshot) -> Result<InvoiceBuyer> {
    let address = s.billing().clone();
    match s.company() {
        None => Ok(InvoiceBuyer::consumer(address)),
        Some(company) => {
            let mut details = BusinessDetails::new(company)?;
            if let Some(vat_id) = s.vat_id() {
                details = details.with_vat_id(VatId::parse(vat_id)?);
            }
            if let Some(reference) = s.buyer_reference() {
                details = details.with_buyer_reference(reference)?;
            }
            if let Some(address) = s.electronic_address() {
                details = details.with_electronic_address(address.clone());
            }
            Ok(InvoiceBuyer::business(address, details))
        }
    }
}

pub(crate) fn parse_date(text: &str) -> Result<Date> {
    let bad = || Error::new(ErrorKind::Storage, "a stored document date is malformed");
    let mut parts = text.splitn(3, '-');
    let mut next = || {
        parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .ok_or_else(bad)
    };
    let (y, m, d) = (next()?, next()?, next()?);
    Date::new(i32::try_from(y).map_err(|_| bad())?, m, d).map_err(|_| bad())
}

/// A payment the invoice acknowledges: when, and the gateway's reference.
pub(crate) struct Paid<'a> {
    pub(crate) on: Date,
    pub(crate) reference: &'a str,
}

/// What the shop wants on an invoice for `order`, numbered `number` and issued on `issue_date`.
/// An order already paid is invoiced as paid: the whole total prepaid (BT-113), nothing due.
///
/// `accounting` is the VAT accounting currency and the host's rate into it (see
/// [`vat_accounting`](super::currencies::vat_accounting)), checked by the caller.
pub(crate) fn for_order(
    order: &Order,
    settings: &ShopSettings,
    number: &str,
    issue_date: Date,
    accounting: Option<(Currency, String)>,
    paid: Option<Paid<'_>>,
) -> Result<Spec> {
    let currency = order.currency();
    let lines = order
        .lines()
        .iter()
        .map(|l| SpecLine {
            order_position: l.position(),
            sku: l.sku().as_str().to_owned(),
            name: l.name().to_owned(),
            quantity: l.quantity(),
            unit_price: l.unit_price(),
            vat: l.vat().clone(),
        })
        .collect();
    let discount = order
        .lines()
        .iter()
        .try_fold(Money::zero(currency), |sum, l| {
            sum.checked_add(l.discount())
        })?;
    let days = u64::from(settings.payment_terms_days());
    let (due, payment_terms) = match &paid {
        Some(p) => (
            issue_date,
            format!("Paid on {} (payment {}). Thank you.", p.on, p.reference),
        ),
        None if days == 0 => (issue_date, "Payable on receipt.".to_owned()),
        None => {
            let due = add_days(issue_date, days)?;
            (due, format!("Payable within {days} days, by {due}."))
        }
    };
    let terms = Terms {
        original: None,
        supply_date: Some(issue_date.to_string()),
        due_date: Some(due.to_string()),
        payment_terms: Some(payment_terms),
        delivery_country: Some(order.destination().as_str().to_owned()),
        deliver_to_shipping_address: true,
        notes: vec![format!("Order {}", order.number())],
        discount: (!discount.is_zero()).then(|| {
            let reason = order
                .coupon()
                .map_or_else(|| "Discount".to_owned(), |c| format!("Coupon {c}"));
            (discount.minor(), reason)
        }),
        charges: order
            .charges()
            .iter()
            .map(|c| StoredCharge {
                reason: c.reason().to_owned(),
                amount: c.amount().minor(),
                category: c.vat().category().code().to_owned(),
                rate_bp: c.vat().rate().basis_points(),
                exemption_reason: c.vat().exemption_reason().map(str::to_owned),
            })
            .collect(),
        accounting,
        prepaid: paid.map(|_| order.total().minor()),
    };
    Ok(Spec {
        number: number.to_owned(),
        issue_date,
        currency,
        mode: order.price_mode(),
        seller: settings.seller().clone(),
        buyer: order.buyer().clone(),
        lines,
        terms,
    })
}

pub(crate) fn add_days(date: Date, days: u64) -> Result<Date> {
    let later = date
        .naive()
        .checked_add_days(chrono::Days::new(days))
        .ok_or_else(|| Error::new(ErrorKind::Overflow, "date out of range"))?;
    Date::from_naive(later)
}
