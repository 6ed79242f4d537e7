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
    BuyerSnapshot, Charge, LineTotal, Order, PriceMode, PricedLine, Totals, VatGroup, VatTreatment,
    stored_treatment,
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
    /// A credit note's figures, as computed against its invoice so that all its notes net it
    /// to zero (`orders::netting`). Documents without them (invoices, and credit notes issued
    /// before them) are totalled by [`Totals::compute`](crate::Totals::compute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stated: Option<Stated>,
}

/// A credit note's figures, in minor units: each line's net and discount share (in the
/// document's line order), each charge's net, and each VAT group's allowance and VAT. A
/// group's line and charge nets are the sums of its lines' and charges', and its taxable
/// amount follows, so the stored figures cannot disagree with each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Stated {
    pub(crate) lines: Vec<(i64, i64)>,
    pub(crate) charges: Vec<i64>,
    pub(crate) groups: Vec<StatedGroup>,
}

/// One VAT group of [`Stated`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatedGroup {
    pub(crate) category: String,
    pub(crate) rate_bp: u32,
    pub(crate) allowance: i64,
    pub(crate) tax: i64,
}

impl Stated {
    /// The figures of `totals` (a credit note's, from `orders::credit_totals`).
    pub(crate) fn of(totals: &Totals) -> Stated {
        Stated {
            lines: totals
                .lines()
                .iter()
                .map(|l| (l.net().minor(), l.discount().minor()))
                .collect(),
            charges: totals.charges_net().iter().map(|c| c.minor()).collect(),
            groups: totals
                .vat_groups()
                .iter()
                .map(|g| StatedGroup {
                    category: g.vat().category().code().to_owned(),
                    rate_bp: g.vat().rate().basis_points(),
                    allowance: g.allowance_net().minor(),
                    tax: g.tax().minor(),
                })
                .collect(),
        }
    }

    /// The totals these figures state for `lines` and `charges`.
    ///
    /// # Errors
    ///
    /// `Storage` if the figures do not fit the lines and charges (a count differs, or a VAT
    /// group has no line or charge, or a line or charge no group).
    fn totals(
        &self,
        mode: PriceMode,
        currency: Currency,
        lines: &[PricedLine],
        charges: &[Charge],
    ) -> Result<Totals> {
        let bad = || {
            Error::new(
                ErrorKind::Storage,
                "a credit note's stored figures do not fit it",
            )
        };
        if self.lines.len() != lines.len() || self.charges.len() != charges.len() {
            return Err(bad());
        }
        let m = |minor: i64| Money::new(minor, currency);
        let key = |v: &VatTreatment| (v.category().code().to_owned(), v.rate().basis_points());
        let mut line_totals = Vec::with_capacity(lines.len());
        for (line, &(net, discount)) in lines.iter().zip(&self.lines) {
            let shown = line.unit_price().checked_mul(i64::from(line.quantity()))?;
            line_totals.push(LineTotal::stated(m(net), shown, m(discount)));
        }
        let mut groups = Vec::with_capacity(self.groups.len());
        let mut placed = 0;
        for g in &self.groups {
            let wanted = (g.category.clone(), g.rate_bp);
            let line_nets: Vec<Money> = lines
                .iter()
                .zip(&self.lines)
                .filter(|(l, _)| key(l.vat()) == wanted)
                .map(|(_, (net, _))| m(*net))
                .collect();
            let charge_nets: Vec<Money> = charges
                .iter()
                .zip(&self.charges)
                .filter(|(c, _)| key(c.vat()) == wanted)
                .map(|(_, net)| m(*net))
                .collect();
            let vat = lines
                .iter()
                .map(PricedLine::vat)
                .chain(charges.iter().map(Charge::vat))
                .find(|v| key(v) == wanted)
                .ok_or_else(bad)?;
            placed += line_nets.len() + charge_nets.len();
            groups.push(VatGroup::stated(
                vat.clone(),
                Money::sum(currency, line_nets)?,
                m(g.allowance),
                Money::sum(currency, charge_nets)?,
                m(g.tax),
            )?);
        }
        if placed != lines.len() + charges.len() {
            return Err(bad());
        }
        let charge_nets = self.charges.iter().map(|c| m(*c)).collect();
        Totals::stated(mode, currency, line_totals, charge_nets, groups)
    }
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
        let mut priced_lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            let priced = PricedLine::new(line.unit_price, line.quantity, line.vat.clone())?;
            priced_lines.push(priced.clone());
            let mut document_line = DocumentLine::new(&(i + 1).to_string(), &line.name, priced)?;
            // Only the line of a credit note of charges alone has no SKU.
            if !line.sku.is_empty() {
                document_line = document_line.sku(&line.sku)?;
            }
            b = b.line(document_line);
        }
        let t = &self.terms;
        if let Some((amount, reason)) = &t.discount {
            b = b.discount(Money::new(*amount, self.currency), reason);
        }
        let charges = self.charges()?;
        for (c, charge) in t.charges.iter().zip(&charges) {
            b = b.charge(&c.reason, charge.clone());
        }
        if let Some(stated) = &t.stated {
            let totals = stated.totals(self.mode, self.currency, &priced_lines, &charges)?;
            b = b.stated_totals(totals);
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

impl Spec {
    /// The document's charges, as stored.
    pub(crate) fn charges(&self) -> Result<Vec<Charge>> {
        self.terms
            .charges
            .iter()
            .map(|c| {
                let vat = stored_treatment(&c.category, c.rate_bp, c.exemption_reason.clone())?;
                Charge::new(Money::new(c.amount, self.currency), vat)
            })
            .collect()
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
        stated: None,
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
