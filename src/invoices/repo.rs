//! Issuing and reading invoices, and the retention purge.
//!
//! Issuing runs in one `BEGIN IMMEDIATE` transaction: authorise, read the settings and the
//! order, take the next number of the series, build and validate the document, write it,
//! emit `invoice.issued`, audit. A document that fails validation (a seller field the law
//! requires is missing, say) rolls everything back, the number included: none is burned.

use serde::Serialize;

use super::currencies::{check_invoiceable, vat_accounting, vat_accounting_currency};
use super::invoice::{Invoice, InvoiceId};
use super::invoice_repo::{self, NewInvoice, Number};
use super::model::{Date, InvoiceDocument};
use super::spec::{self, Spec};
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::catalog::{InvoiceIssue, ShopSettings, current_settings};
use crate::error::{Error, ErrorKind, Result};
use crate::events::OutboxEvent;
use crate::money::Currency;
use crate::orders::{Order, OrderId, OrderStatus, load_order, order_owner, order_payment};
use crate::store::{Store, Tx, not_found};

/// The body of `invoice.issued` and `credit_note.issued`: ids and figures only.
#[derive(Serialize)]
struct Issued<'a> {
    invoice_id: InvoiceId,
    number: &'a str,
    order_id: OrderId,
    customer_id: CustomerId,
    original_id: Option<InvoiceId>,
    currency: &'static str,
    net_total: i64,
    vat_total: i64,
    gross_total: i64,
}

#[derive(Serialize)]
#[serde(transparent)]
struct InvoiceIssued<'a>(Issued<'a>);

impl OutboxEvent for InvoiceIssued<'_> {
    const KIND: &'static str = "invoice.issued";
    const VERSION: u32 = 1;
}

#[derive(Serialize)]
#[serde(transparent)]
struct CreditNoteIssued<'a>(Issued<'a>);

impl OutboxEvent for CreditNoteIssued<'_> {
    const KIND: &'static str = "credit_note.issued";
    const VERSION: u32 = 1;
}

/// Invoices and credit notes, for one acting principal. From [`Store::invoices`].
#[derive(Debug)]
pub struct InvoiceRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The invoices, as seen by `principal`.
    pub fn invoices<'s>(&'s self, principal: &'s Principal) -> InvoiceRepo<'s> {
        InvoiceRepo {
            store: self,
            principal,
        }
    }
}

impl InvoiceRepo<'_> {
    /// Issues the invoice of an order whose VAT is stated in the order's currency alone. Needs
    /// [`Action::IssueInvoice`] (staff with billing duties, the system).
    ///
    /// The number is the next of the shop's invoice series for the current year in the shop's
    /// time zone; the issue date is today there. The seller's details are the shop's settings
    /// now; the buyer is the order's snapshot; the lines, VAT and totals are the order's.
    ///
    /// Issuing is idempotent: for an order that already has its invoice, the same request
    /// (here: without an exchange rate) returns that invoice and writes nothing, so a host may
    /// retry after a lost response.
    ///
    /// When the order's currency is not the national currency of the state whose VAT it
    /// charges (see [`vat_accounting_currency`](Self::vat_accounting_currency)), the invoice
    /// must also state its VAT in that currency: use [`issue_at_rate`](Self::issue_at_rate).
    ///
    /// ```
    /// # use shopkeep::Store;
    /// # use shopkeep::invoices::Profile;
    /// # use shopkeep::orders::Order;
    /// # fn demo(store: &Store, order: &Order) -> Result<(), Box<dyn std::error::Error>> {
    /// let invoice = store.invoices(&store.system()).issue(order.id())?;
    /// assert_eq!(invoice.document().totals().gross_total(), order.total());
    /// let xml = invoice.to_ubl(Profile::En16931)?;
    /// # let _ = xml; Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Nothing is written, and no number is taken, on any error:
    /// - `NotFound` for an unknown order, or one the principal may not see;
    /// - `Forbidden` for a principal who may see the order but not issue its invoice;
    /// - `NotConfigured` if the shop has no settings;
    /// - `InvalidTransition` if the order is cancelled or expired, or it is unpaid and the
    ///   shop issues on payment ([`InvoiceIssue::OnPayment`]);
    /// - `AlreadyExists` if the order already has an invoice issued at an exchange rate (by
    ///   [`issue_at_rate`](Self::issue_at_rate)): a repeated request returns the existing
    ///   invoice only when it is the same request;
    /// - `Validation` naming the field the law requires and the document lacks (e.g.
    ///   `seller.vat_id`); `exchange_rate` for an order whose VAT must also be stated in
    ///   another currency (use [`issue_at_rate`](Self::issue_at_rate)); `currency` for an
    ///   order in a currency with more than two decimals, which EN 16931 cannot state.
    pub fn issue(&self, order: OrderId) -> Result<Invoice> {
        self.issue_inner(order, None)
    }

    /// Issues the invoice of an order whose VAT must also be stated in the national currency
    /// of the state that charges it (Art. 230 VAT Directive; EN 16931 BT-6, BT-111), converted
    /// at `rate`: units of that currency (see
    /// [`vat_accounting_currency`](Self::vat_accounting_currency)) per unit of the order's, a
    /// decimal such as `"0.9412"` with at most 9 decimals, from the host's source of exchange
    /// rates. Its credit notes restate the VAT at the same rate. A repeated request with the
    /// same rate, as text, returns the invoice the first issued.
    ///
    /// # Errors
    ///
    /// As [`issue`](Self::issue) (`AlreadyExists` if the invoice was issued at another rate);
    /// `Validation` (field `exchange_rate`) if the invoice states
    /// its VAT in the order's currency alone, or (field `vat_accounting`) for a malformed rate.
    pub fn issue_at_rate(&self, order: OrderId, rate: &str) -> Result<Invoice> {
        self.issue_inner(order, Some(rate))
    }

    /// The currency the invoice of `order` must also state its VAT total in (BT-6), which the
    /// rate of [`issue_at_rate`](Self::issue_at_rate) converts into; `None` if
    /// [`issue`](Self::issue) needs no rate. Needs [`Action::IssueInvoice`].
    ///
    /// It is the national currency of the state whose VAT the order charges, when that is
    /// not the order's currency: the destination's for taxed lines (`S`, `Z`: at home, or
    /// under the one-stop shop), otherwise the seller's (exempt, intra-community, export and
    /// reverse-charge supplies); none for a sale outside the scope of VAT. So a Polish shop
    /// invoicing in EUR states its VAT in PLN, and a German shop selling in EUR to a Swedish
    /// consumer at Swedish VAT states it in SEK.
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown order or one the principal may not see; `Forbidden` without
    /// the right; `NotConfigured` if the shop has no settings.
    pub fn vat_accounting_currency(&self, order: OrderId) -> Result<Option<Currency>> {
        self.store.read(|tx| {
            let order = self.authorized_order(tx, Action::IssueInvoice, order)?;
            let settings = settings(tx)?;
            Ok(vat_accounting_currency(
                &order,
                settings.seller().address().country(),
            ))
        })
    }

    fn issue_inner(&self, id: OrderId, rate: Option<&str>) -> Result<Invoice> {
        let store = self.store;
        store.write(|tx| {
            let order = self.authorized_order(tx, Action::IssueInvoice, id)?;
            if let Some(existing) = invoice_repo::invoice_of(tx, order.id())? {
                // A retry (its response was lost) gets the invoice the first call issued, as a
                // replayed payment gets its order; nothing is written.
                return replay(tx, store, &order, existing, rate);
            }
            let settings = settings(tx)?;
            check_issuable(&order, &settings)?;
            issue_in(tx, store, self.principal, &order, &settings, rate)
        })
    }

    /// Reads one invoice or credit note. Needs [`Action::ReadInvoice`] (customers their own).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such document or the principal may not read it; `Storage`
    /// if the stored document no longer adds up to the totals it was issued with; `Crypto` if
    /// it was moved to another order or customer outside shopkeep (see the auth MACs of
    /// `docs/security.md`).
    pub fn get(&self, id: InvoiceId) -> Result<Invoice> {
        self.store.read(|tx| {
            let customer = invoice_repo::owner(tx, id)?;
            let resource = Resource::Invoice { id, customer };
            tx.authorize(self.principal, Action::ReadInvoice, &resource)?;
            if customer.is_none() {
                return Err(not_found(&resource));
            }
            invoice_repo::load(tx, self.store, id)
        })
    }

    /// Reads the document numbered `number`. Needs [`Action::ReadInvoice`].
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn by_number(&self, number: &str) -> Result<Invoice> {
        self.store.read(|tx| {
            let found = invoice_repo::by_number(tx, number)?;
            // A number that names nothing is asked about like a document nobody owns, so the
            // answer is the same for "no such number" and "not yours".
            let id = found.unwrap_or(InvoiceId::from_bytes([0; 16]));
            let customer = match found {
                Some(id) => invoice_repo::owner(tx, id)?,
                None => None,
            };
            let resource = Resource::Invoice { id, customer };
            tx.authorize(self.principal, Action::ReadInvoice, &resource)?;
            if found.is_none() {
                return Err(not_found(&resource));
            }
            invoice_repo::load(tx, self.store, id)
        })
    }

    /// The invoice of an order and its credit notes, in issue order (empty if none was
    /// issued). Needs [`Action::ReadInvoice`] on the order's documents (customers their own).
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown order or one the principal may not see.
    pub fn for_order(&self, order: OrderId) -> Result<Vec<Invoice>> {
        self.store.read(|tx| {
            let customer = order_owner(tx, order)?;
            let resource = Resource::Order {
                id: order,
                customer,
            };
            tx.authorize(self.principal, Action::ReadInvoice, &resource)?;
            if customer.is_none() {
                return Err(not_found(&resource));
            }
            invoice_repo::of_order(tx, order)?
                .into_iter()
                .map(|id| invoice_repo::load(tx, self.store, id))
                .collect()
        })
    }

    /// Deletes every invoice and credit note whose retention period has passed (see
    /// [`ShopSettings::invoice_retention_years`]) and returns how many. Needs
    /// [`Action::PurgeInvoices`] (the owner only); each deletion is audited with the
    /// document's id. An invoice is kept while a credit note referencing it is kept.
    ///
    /// This is the only way to delete an issued document: the database's triggers refuse
    /// every other DELETE, and every UPDATE.
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right.
    pub fn purge_expired(&self) -> Result<usize> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::PurgeInvoices, &Resource::Invoices)?;
            let purged = invoice_repo::purge(tx)?;
            for (id, _) in &purged {
                tx.audit(
                    self.principal,
                    Action::PurgeInvoices,
                    &Resource::Invoice {
                        id: *id,
                        customer: None,
                    },
                )?;
            }
            Ok(purged.len())
        })
    }

    /// Loads order `id` after asking the policy for `action` on it.
    fn authorized_order(&self, tx: &Tx<'_>, action: Action, id: OrderId) -> Result<Order> {
        let customer = order_owner(tx, id)?;
        let resource = Resource::Order { id, customer };
        tx.authorize(self.principal, action, &resource)?;
        if customer.is_none() {
            return Err(not_found(&resource));
        }
        load_order(tx, self.store, id)
    }
}

/// The invoice `existing` that `order` already has, for a repeated issue request with
/// exchange rate `rate`.
///
/// # Errors
///
/// `AlreadyExists` if the invoice was issued at another rate, or without one: an issued
/// invoice never changes, so the repeated request cannot be honoured (a credit note corrects).
fn replay(
    tx: &Tx<'_>,
    store: &Store,
    order: &Order,
    existing: InvoiceId,
    rate: Option<&str>,
) -> Result<Invoice> {
    let (invoice, spec) = invoice_repo::load_with_spec(tx, store, existing)?;
    let issued_at = spec.terms.accounting.as_ref().map(|(_, r)| r.as_str());
    if issued_at != rate {
        let how = |rate: Option<&str>| match rate {
            Some(r) => format!("at exchange rate {r}"),
            None => "without an exchange rate".to_owned(),
        };
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "order {} already has invoice {}, issued {}, not {}: an issued invoice never \
                 changes (correct it with a credit note)",
                order.number(),
                invoice.number(),
                how(issued_at),
                how(rate)
            ),
        ));
    }
    Ok(invoice)
}

/// Issues the invoice of `order` inside the caller's transaction (the caller has authorised
/// the operation and checked the order's state).
///
/// # Errors
///
/// `AlreadyExists` if the order already has an invoice; the document's validation errors.
pub(crate) fn issue_in(
    tx: &Tx<'_>,
    store: &Store,
    principal: &Principal,
    order: &Order,
    settings: &ShopSettings,
    rate: Option<&str>,
) -> Result<Invoice> {
    if let Some(existing) = invoice_repo::invoice_of(tx, order.id())? {
        let existing = invoice_repo::load(tx, store, existing)?;
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "order {} already has invoice {}",
                order.number(),
                existing.number()
            ),
        ));
    }
    // The currency rules are checked before the number is taken: the rollback would return
    // it, but a document that cannot be produced should never get as far as numbering.
    check_invoiceable(order.currency(), "currency")?;
    let accounting = vat_accounting(order, settings.seller().address().country(), rate)?;
    let id = InvoiceId::generate(tx.now())?;
    let today = issue_date(tx, settings)?;
    let number = invoice_repo::take_number(tx, settings.invoice_series(), today.year())?;
    let payment = order_payment(tx, order.id())?;
    let paid = match &payment {
        Some(p) => Some(spec::Paid {
            on: Date::from_naive(settings.time_zone().local_date(p.paid_at()))?,
            reference: p.reference(),
        }),
        None => None,
    };
    let spec = spec::for_order(order, settings, &number.text, today, accounting, paid)?;
    let document = spec.build()?;
    check_matches_order(&document, order)?;
    write(
        tx,
        store,
        principal,
        Written {
            id,
            number: &number,
            order,
            original: None,
            spec: &spec,
            document,
            retention_years: settings.invoice_retention_years(),
        },
    )
}

pub(crate) fn settings(tx: &Tx<'_>) -> Result<ShopSettings> {
    current_settings(tx)?.ok_or_else(|| {
        Error::new(
            ErrorKind::NotConfigured,
            "the shop has no settings yet (seller details are needed to issue invoices)",
        )
    })
}

/// Today in the shop's time zone: the issue date, and the year that numbers count in.
pub(crate) fn issue_date(tx: &Tx<'_>, settings: &ShopSettings) -> Result<Date> {
    Date::from_naive(settings.time_zone().local_date(tx.now()))
}

fn check_issuable(order: &Order, settings: &ShopSettings) -> Result<()> {
    let status = order.status();
    let refused = match status {
        OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Completed => None,
        OrderStatus::Placed if settings.invoice_issue() == InvoiceIssue::AtCheckout => None,
        OrderStatus::Placed => Some("the shop issues invoices on payment and it is unpaid"),
        _ => Some("it was not sold"),
    };
    match refused {
        None => Ok(()),
        Some(why) => Err(Error::new(
            ErrorKind::InvalidTransition,
            format!(
                "order {} is {status}: no invoice can be issued, {why}",
                order.number()
            ),
        )),
    }
}

/// The document must bill exactly what the order charged; both come from the same totals
/// engine, so a difference means the stored order was altered.
fn check_matches_order(document: &InvoiceDocument, order: &Order) -> Result<()> {
    let t = document.totals();
    let same = t.line_net_total() == order.line_net_total()
        && t.allowance_total() == order.allowance_total()
        && t.charge_total() == order.charge_total()
        && t.vat_total() == order.vat_total()
        && t.gross_total() == order.total();
    if same {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Storage,
            format!(
                "order {} does not add up to its stored totals; it cannot be invoiced",
                order.number()
            ),
        ))
    }
}

/// What [`write`] stores.
pub(crate) struct Written<'a> {
    pub(crate) id: InvoiceId,
    pub(crate) number: &'a Number,
    pub(crate) order: &'a Order,
    pub(crate) original: Option<InvoiceId>,
    pub(crate) spec: &'a Spec,
    pub(crate) document: InvoiceDocument,
    pub(crate) retention_years: u16,
}

/// Stores an issued document, emits its event and audits it.
pub(crate) fn write(
    tx: &Tx<'_>,
    store: &Store,
    principal: &Principal,
    w: Written<'_>,
) -> Result<Invoice> {
    let issue_year = w.spec.issue_date.year();
    let deletable_from = Date::new(
        issue_year.saturating_add(i32::from(w.retention_years) + 1),
        1,
        1,
    )?;
    invoice_repo::insert(
        tx,
        store,
        &NewInvoice {
            id: w.id,
            number: w.number,
            order: w.order.id(),
            customer: w.order.customer(),
            original: w.original,
            spec: w.spec,
            document: &w.document,
            deletable_from,
        },
    )?;
    let t = w.document.totals();
    let body = Issued {
        invoice_id: w.id,
        number: &w.number.text,
        order_id: w.order.id(),
        customer_id: w.order.customer(),
        original_id: w.original,
        currency: w.document.currency().code(),
        net_total: t.net_total().minor(),
        vat_total: t.vat_total().minor(),
        gross_total: t.gross_total().minor(),
    };
    if w.original.is_some() {
        tx.emit(&CreditNoteIssued(body))?;
    } else {
        tx.emit(&InvoiceIssued(body))?;
    }
    tx.audit(
        principal,
        Action::IssueInvoice,
        &Resource::Invoice {
            id: w.id,
            customer: Some(w.order.customer()),
        },
    )?;
    Ok(Invoice {
        id: w.id,
        order: w.order.id(),
        customer: w.order.customer(),
        original: w.original,
        issued_at: tx.now(),
        deletable_from,
        document: w.document,
    })
}
