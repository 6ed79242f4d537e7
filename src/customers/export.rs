//! The GDPR export document (Art. 15 and 20): everything held about one customer.

use std::fmt;

use serde::{Serialize, Serializer};

use super::address::{Address, CustomerAddress};
use super::consent::{ConsentRecord, ConsentState};
use super::fields;
use super::model::Customer;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::invoices::{DocumentKind, Invoice};
use crate::money::Money;
use crate::orders::Order;

/// The format name and version written into every export.
const FORMAT: &str = "shopkeep.customer-export.v1";

/// Everything the store holds about one customer, decrypted: profile, addresses, the consent
/// ledger and the consent state derived from it, and their orders (number, date, status,
/// totals, lines, charges and the buyer snapshot kept with each). Serialises to one JSON
/// document (see [`to_json`](Self::to_json)) for the customer to download, with references to
/// their invoices and credit notes (number, kind, dates, totals; the documents themselves
/// are read with [`InvoiceRepo`](crate::InvoiceRepo)). Personal data: `Debug` shows the
/// customer's id only.
#[derive(Clone, Serialize)]
pub struct CustomerExport {
    pub(super) format: &'static str,
    #[serde(serialize_with = "fields::timestamp")]
    pub(super) exported_at: Timestamp,
    pub(super) profile: Customer,
    pub(super) addresses: Vec<CustomerAddress>,
    pub(super) consent: Vec<ConsentState>,
    pub(super) consent_history: Vec<ConsentRecord>,
    #[serde(serialize_with = "orders")]
    pub(super) orders: Vec<Order>,
    #[serde(serialize_with = "invoices")]
    pub(super) invoices: Vec<Invoice>,
}

impl CustomerExport {
    pub(super) fn new(
        exported_at: Timestamp,
        profile: Customer,
        addresses: Vec<CustomerAddress>,
        consent: Vec<ConsentState>,
        consent_history: Vec<ConsentRecord>,
        orders: Vec<Order>,
        invoices: Vec<Invoice>,
    ) -> CustomerExport {
        CustomerExport {
            format: FORMAT,
            exported_at,
            profile,
            addresses,
            consent,
            consent_history,
            orders,
            invoices,
        }
    }

    /// When the export was made.
    pub fn exported_at(&self) -> Timestamp {
        self.exported_at
    }

    /// The profile.
    pub fn profile(&self) -> &Customer {
        &self.profile
    }

    /// The address book.
    pub fn addresses(&self) -> &[CustomerAddress] {
        &self.addresses
    }

    /// The current consent of every channel.
    pub fn consent(&self) -> &[ConsentState] {
        &self.consent
    }

    /// Every row of the consent ledger, oldest first.
    pub fn consent_history(&self) -> &[ConsentRecord] {
        &self.consent_history
    }

    /// The customer's orders, oldest first, each with the buyer snapshot taken at checkout.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// The customer's invoices and credit notes, oldest first.
    pub fn invoices(&self) -> &[Invoice] {
        &self.invoices
    }

    /// The document as pretty-printed JSON, with `"format": "shopkeep.customer-export.v1"`.
    ///
    /// # Errors
    ///
    /// `Storage` if the document cannot be encoded (it always can; the error exists so that a
    /// failure is never a panic).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| {
            Error::new(ErrorKind::Storage, "the export could not be encoded").with_source(e)
        })
    }
}

impl fmt::Debug for CustomerExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerExport")
            .field("customer", &self.profile.id)
            .field("exported_at", &self.exported_at)
            .finish_non_exhaustive()
    }
}

/// An order as the export document shows it.
#[derive(Serialize)]
struct OrderView<'a> {
    number: String,
    #[serde(serialize_with = "fields::timestamp")]
    placed_at: Timestamp,
    status: &'static str,
    currency: &'static str,
    prices_include_vat: bool,
    net_total: Money,
    vat_total: Money,
    gross_total: Money,
    coupon: Option<&'a str>,
    lines: Vec<LineView<'a>>,
    charges: Vec<ChargeView<'a>>,
    buyer: BuyerView<'a>,
}

#[derive(Serialize)]
struct LineView<'a> {
    sku: &'a str,
    name: &'a str,
    quantity: u32,
    unit_price: Money,
    amount: Money,
    net: Money,
}

#[derive(Serialize)]
struct ChargeView<'a> {
    reason: &'a str,
    amount: Money,
    net: Money,
}

#[derive(Serialize)]
struct BuyerView<'a> {
    name: &'a str,
    email: &'a str,
    billing: &'a Address,
    shipping: &'a Address,
    company: Option<&'a str>,
    vat_id: Option<&'a str>,
    buyer_reference: Option<&'a str>,
}

fn orders<S: Serializer>(orders: &[Order], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(orders.iter().map(|o| {
        let buyer = o.buyer();
        OrderView {
            number: o.number().to_string(),
            placed_at: o.placed_at(),
            status: o.status().as_str(),
            currency: o.currency().code(),
            prices_include_vat: o.price_mode() == crate::orders::PriceMode::TaxInclusive,
            net_total: o.net_total(),
            vat_total: o.vat_total(),
            gross_total: o.total(),
            coupon: o.coupon(),
            lines: o
                .lines()
                .iter()
                .map(|l| LineView {
                    sku: l.sku().as_str(),
                    name: l.name(),
                    quantity: l.quantity(),
                    unit_price: l.unit_price(),
                    amount: l.amount(),
                    net: l.net(),
                })
                .collect(),
            charges: o
                .charges()
                .iter()
                .map(|c| ChargeView {
                    reason: c.reason(),
                    amount: c.amount(),
                    net: c.net(),
                })
                .collect(),
            buyer: BuyerView {
                name: buyer.name(),
                email: buyer.email(),
                billing: buyer.billing(),
                shipping: buyer.shipping(),
                company: buyer.company(),
                vat_id: buyer.vat_id(),
                buyer_reference: buyer.buyer_reference(),
            },
        }
    }))
}

/// An invoice or credit note as the export document references it.
#[derive(Serialize)]
struct InvoiceView<'a> {
    number: &'a str,
    kind: &'static str,
    corrects: Option<&'a str>,
    issue_date: String,
    order_id: String,
    currency: &'static str,
    net_total: Money,
    vat_total: Money,
    gross_total: Money,
}

fn invoices<S: Serializer>(invoices: &[Invoice], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(invoices.iter().map(|i| {
        let doc = i.document();
        let totals = doc.totals();
        let corrects = match doc.kind() {
            DocumentKind::CreditNote {
                original_number, ..
            } => Some(original_number.as_str()),
            _ => None,
        };
        InvoiceView {
            number: i.number(),
            kind: if corrects.is_some() {
                "credit_note"
            } else {
                "invoice"
            },
            corrects,
            issue_date: doc.issue_date().to_string(),
            order_id: i.order().to_string(),
            currency: doc.currency().code(),
            net_total: totals.net_total(),
            vat_total: totals.vat_total(),
            gross_total: totals.gross_total(),
        }
    }))
}
