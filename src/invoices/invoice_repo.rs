//! Invoices: the SQL that numbers, writes, reads and purges issued documents.

use super::invoice::{Invoice, InvoiceId};
use super::model::{Date, InvoiceDocument};
use super::spec::{Spec, SpecLine, Terms, parse_date};
use crate::access::CustomerId;
use crate::catalog::{InvoiceSeries, seller_from_json, seller_to_json};
use crate::clock::Timestamp;
use crate::crypto::auth_mac;
use crate::crypto::field::Place;
use crate::crypto::keys::Mac256;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::orders::{OrderId, PriceMode, open_snapshot_at, seal_snapshot_at, stored_treatment};
use crate::sql::args;
use crate::store::{Store, Tx};

const INVOICES: &str = "shopkeep_invoices";

fn storage(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::Storage, "a stored invoice is malformed").with_source(e)
}

fn buyer_place(id: &InvoiceId) -> Place<'_> {
    Place {
        table: INVOICES,
        column: "buyer",
        row: id.as_bytes(),
    }
}

/// A number taken from a series: the text and where it sits in the count.
pub(crate) struct Number {
    pub(crate) text: String,
    pub(crate) series: String,
    pub(crate) year: i32,
    pub(crate) seq: u64,
}

/// Takes the next number of `series` for `year`, inside the issuing transaction: if the issue
/// fails later, the rollback returns the number and none is burned.
pub(crate) fn take_number(tx: &Tx<'_>, series: &InvoiceSeries, year: i32) -> Result<Number> {
    let counted_year = if series.resets_yearly() { year } else { 0 };
    let seq: i64 = tx.query_row(
        "INSERT INTO shopkeep_invoice_counters (series, year, next) VALUES (?1, ?2, 2)
             ON CONFLICT (series, year) DO UPDATE SET next = shopkeep_invoice_counters.next + 1
             RETURNING next - 1",
        args![series.pattern(), counted_year],
        |r| r.get(0),
    )?;
    let seq = u64::try_from(seq).map_err(storage)?;
    Ok(Number {
        text: series.render(year, seq)?,
        series: series.pattern().to_owned(),
        year: counted_year,
        seq,
    })
}

/// What an issued document's row is written from.
pub(crate) struct NewInvoice<'a> {
    pub(crate) id: InvoiceId,
    pub(crate) number: &'a Number,
    pub(crate) order: OrderId,
    pub(crate) customer: CustomerId,
    pub(crate) original: Option<InvoiceId>,
    pub(crate) spec: &'a Spec,
    pub(crate) document: &'a InvoiceDocument,
    pub(crate) deletable_from: Date,
}

fn mode_name(mode: PriceMode) -> &'static str {
    match mode {
        PriceMode::TaxInclusive => "inclusive",
        _ => "exclusive",
    }
}

/// Writes the document and its lines.
pub(crate) fn insert(tx: &Tx<'_>, store: &Store, n: &NewInvoice<'_>) -> Result<()> {
    let spec = n.spec;
    let t = n.document.totals();
    let terms = serde_json::to_string(&spec.terms).map_err(storage)?;
    let buyer = seal_snapshot_at(tx, store, buyer_place(&n.id), &spec.buyer)?;
    tx.execute(
        "INSERT INTO shopkeep_invoices (id, kind, number, series, year, seq, order_id,
         customer_id, original_id, issue_date, currency, price_mode, line_net_total,
         allowance_total, charge_total, net_total, vat_total, gross_total, seller, buyer, terms,
         issued_at, deletable_from, auth_mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
         ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
        args![
            n.id,
            if n.original.is_some() {
                "credit_note"
            } else {
                "invoice"
            },
            n.number.text,
            n.number.series,
            n.number.year,
            i64::try_from(n.number.seq).map_err(storage)?,
            n.order,
            n.customer,
            n.original,
            spec.issue_date.to_string(),
            spec.currency.code(),
            mode_name(spec.mode),
            t.line_net_total().minor(),
            t.allowance_total().minor(),
            t.charge_total().minor(),
            t.net_total().minor(),
            t.vat_total().minor(),
            t.gross_total().minor(),
            seller_to_json(&spec.seller)?,
            buyer,
            terms,
            tx.now(),
            n.deletable_from.to_string(),
            owner_mac(tx, n.id, n.order, n.customer).as_slice()
        ],
    )?;
    for (position, (line, total)) in spec.lines.iter().zip(t.lines()).enumerate() {
        tx.execute(
            "INSERT INTO shopkeep_invoice_lines (invoice_id, position, order_position, sku, name,
         quantity, unit_price, line_net, discount, vat_category, vat_rate_bp, exemption_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            args![
                n.id,
                i64::try_from(position).map_err(storage)?,
                line.order_position,
                line.sku,
                line.name,
                line.quantity,
                line.unit_price.minor(),
                total.net().minor(),
                total.discount().minor(),
                line.vat.category().code(),
                line.vat.rate().basis_points(),
                line.vat.exemption_reason()
            ],
        )?;
    }
    Ok(())
}

/// The invoice (not credit note) of `order`, if one was issued.
pub(crate) fn invoice_of(tx: &Tx<'_>, order: OrderId) -> Result<Option<InvoiceId>> {
    tx.query_opt(
        "SELECT id FROM shopkeep_invoices WHERE order_id = ?1 AND kind = 'invoice'",
        args![order],
        |r| r.get(0),
    )
}

/// Whether `order` has an invoice.
pub(crate) fn is_invoiced(tx: &Tx<'_>, order: OrderId) -> Result<bool> {
    Ok(invoice_of(tx, order)?.is_some())
}

/// Every document of `order`: its invoice, then its credit notes, in issue order.
pub(crate) fn of_order(tx: &Tx<'_>, order: OrderId) -> Result<Vec<InvoiceId>> {
    let ids = tx.query_map(
        "SELECT id FROM shopkeep_invoices WHERE order_id = ?1 ORDER BY kind DESC, id",
        args![order],
        |r| r.get(0),
    )?;
    Ok(ids)
}

/// Every document issued to `customer`, oldest first.
pub(crate) fn of_customer(tx: &Tx<'_>, customer: CustomerId) -> Result<Vec<InvoiceId>> {
    let ids = tx.query_map(
        "SELECT id FROM shopkeep_invoices WHERE customer_id = ?1 ORDER BY id",
        args![customer],
        |r| r.get(0),
    )?;
    Ok(ids)
}

/// The customer a document was issued to, if it exists.
///
/// # Errors
///
/// `Crypto` if the document was moved to another order or customer outside shopkeep.
pub(crate) fn owner(tx: &Tx<'_>, id: InvoiceId) -> Result<Option<CustomerId>> {
    let row: Option<(OrderId, CustomerId, Option<Vec<u8>>)> = tx.query_opt(
        "SELECT order_id, customer_id, auth_mac FROM shopkeep_invoices WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    row.map(|(order, customer, mac)| {
        verify_owner(tx, id, order, customer, mac.as_deref())?;
        Ok(customer)
    })
    .transpose()
}

/// The auth MAC that binds document `id` to the order and customer it was issued for.
fn owner_mac(tx: &Tx<'_>, id: InvoiceId, order: OrderId, customer: CustomerId) -> Mac256 {
    tx.keys().auth_mac(
        &auth_mac::INVOICES,
        &[
            Some(id.as_bytes().as_slice()),
            Some(order.as_bytes().as_slice()),
            Some(customer.as_bytes().as_slice()),
        ],
    )
}

/// Checks that document `id` still names the order and customer its MAC was made for.
fn verify_owner(
    tx: &Tx<'_>,
    id: InvoiceId,
    order: OrderId,
    customer: CustomerId,
    mac: Option<&[u8]>,
) -> Result<()> {
    tx.keys().verify_auth_mac(
        &auth_mac::INVOICES,
        &[
            Some(id.as_bytes().as_slice()),
            Some(order.as_bytes().as_slice()),
            Some(customer.as_bytes().as_slice()),
        ],
        mac,
    )
}

/// The id of the document numbered `number`, if any.
pub(crate) fn by_number(tx: &Tx<'_>, number: &str) -> Result<Option<InvoiceId>> {
    tx.query_opt(
        "SELECT id FROM shopkeep_invoices WHERE number = ?1",
        args![number],
        |r| r.get(0),
    )
}

/// Reads document `id`, rebuilds it from its stored parts and checks that it adds up to the
/// totals stored when it was issued.
///
/// # Errors
///
/// `NotFound` if there is no such document; `Storage` if it no longer adds up.
pub(crate) fn load(tx: &Tx<'_>, store: &Store, id: InvoiceId) -> Result<Invoice> {
    load_with_spec(tx, store, id).map(|(invoice, _)| invoice)
}

/// [`load`], with the parts the document was built from (a credit note copies them).
pub(crate) fn load_with_spec(tx: &Tx<'_>, store: &Store, id: InvoiceId) -> Result<(Invoice, Spec)> {
    struct Head {
        number: String,
        order: OrderId,
        customer: CustomerId,
        original: Option<InvoiceId>,
        issue_date: String,
        currency: String,
        mode: String,
        totals: [i64; 6],
        seller: String,
        buyer: Vec<u8>,
        terms: String,
        issued_at: Timestamp,
        deletable_from: String,
        mac: Option<Vec<u8>>,
    }
    let head = tx
        .query_opt(
            "SELECT number, order_id, customer_id, original_id, issue_date, currency, price_mode,
             line_net_total, allowance_total, charge_total, net_total, vat_total, gross_total,
             seller, buyer, terms, issued_at, deletable_from, auth_mac
             FROM shopkeep_invoices WHERE id = ?1",
            args![id],
            |r| {
                Ok(Head {
                    number: r.get(0)?,
                    order: r.get(1)?,
                    customer: r.get(2)?,
                    original: r.get(3)?,
                    issue_date: r.get(4)?,
                    currency: r.get(5)?,
                    mode: r.get(6)?,
                    totals: [
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                        r.get(12)?,
                    ],
                    seller: r.get(13)?,
                    buyer: r.get(14)?,
                    terms: r.get(15)?,
                    issued_at: r.get(16)?,
                    deletable_from: r.get(17)?,
                    mac: r.get(18)?,
                })
            },
        )?
        .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such invoice"))?;
    verify_owner(tx, id, head.order, head.customer, head.mac.as_deref())?;
    let currency = Currency::from_code(&head.currency)?;
    let lines = tx.query_map(
        "SELECT order_position, sku, name, quantity, unit_price, vat_category, vat_rate_bp,
         exemption_reason FROM shopkeep_invoice_lines WHERE invoice_id = ?1 ORDER BY position",
        args![id],
        |r| {
            let (order_position, sku, name, quantity, unit, category, bp, reason) = (
                r.get::<u32>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<u32>(3)?,
                r.get::<i64>(4)?,
                r.get::<String>(5)?,
                r.get::<u32>(6)?,
                r.get::<Option<String>>(7)?,
            );
            Ok(SpecLine {
                order_position,
                sku,
                name,
                quantity,
                unit_price: Money::new(unit, currency),
                vat: stored_treatment(&category, bp, reason)?,
            })
        },
    )?;
    let terms: Terms = serde_json::from_str(&head.terms).map_err(storage)?;
    let spec = Spec {
        number: head.number,
        issue_date: parse_date(&head.issue_date)?,
        currency,
        mode: if head.mode == "inclusive" {
            PriceMode::TaxInclusive
        } else {
            PriceMode::TaxExclusive
        },
        seller: seller_from_json(&head.seller)?,
        buyer: open_snapshot_at(tx, store, buyer_place(&id), &head.buyer)?,
        lines,
        terms,
    };
    let document = spec.rebuild()?;
    let t = document.totals();
    let rebuilt = [
        t.line_net_total(),
        t.allowance_total(),
        t.charge_total(),
        t.net_total(),
        t.vat_total(),
        t.gross_total(),
    ]
    .map(Money::minor);
    if rebuilt != head.totals {
        return Err(Error::new(
            ErrorKind::Storage,
            "a stored invoice no longer adds up to the totals it was issued with",
        ));
    }
    let invoice = Invoice {
        id,
        order: head.order,
        customer: head.customer,
        original: head.original,
        issued_at: head.issued_at,
        deletable_from: parse_date(&head.deletable_from)?,
        document,
    };
    Ok((invoice, spec))
}

/// What the credit notes of invoice `original` have credited so far: the quantity per order
/// line, the gross total, and whether one credited the charges.
pub(crate) fn credited(tx: &Tx<'_>, original: InvoiceId) -> Result<Credited> {
    let mut quantities = Vec::new();
    let mut nets = Vec::new();
    tx.query_each(
        "SELECT l.order_position, sum(l.quantity), sum(l.line_net) FROM shopkeep_invoice_lines l
         JOIN shopkeep_invoices i ON i.id = l.invoice_id
         WHERE i.original_id = ?1 GROUP BY l.order_position",
        args![original],
        |r| {
            let (position, quantity, net) = (r.get::<u32>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?);
            quantities.push((position, quantity));
            nets.push((position, net));
            Ok(())
        },
    )?;
    let (gross, charges): (i64, bool) = tx.query_row(
        "SELECT coalesce(sum(gross_total), 0), coalesce(max(CASE WHEN charge_total <> 0 THEN 1 ELSE 0 END), 0)
             FROM shopkeep_invoices WHERE original_id = ?1",
        args![original],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Credited {
        quantities,
        nets,
        gross,
        charges,
    })
}

/// See [`credited`].
pub(crate) struct Credited {
    pub(crate) quantities: Vec<(u32, i64)>,
    /// Line net (BT-131) credited per order line position, in minor units.
    pub(crate) nets: Vec<(u32, i64)>,
    pub(crate) gross: i64,
    pub(crate) charges: bool,
}

impl Credited {
    /// The quantity of order line `position` credited so far.
    pub(crate) fn quantity(&self, position: u32) -> u32 {
        self.quantities
            .iter()
            .find(|(p, _)| *p == position)
            .map_or(0, |(_, q)| u32::try_from(*q).unwrap_or(u32::MAX))
    }

    /// The line net of order line `position` credited so far, in minor units.
    pub(crate) fn net(&self, position: u32) -> i64 {
        self.nets
            .iter()
            .find(|(p, _)| *p == position)
            .map_or(0, |(_, net)| *net)
    }
}

/// Deletes every document whose retention has passed, credit notes first, and keeps an
/// invoice while a credit note that references it is still kept. A document's retention has
/// passed once its `deletable_from` date has begun everywhere on earth, i.e. in UTC-12: the rule
/// the database's DELETE triggers apply (migration 0012), read here from the same clock.
pub(crate) fn purge(tx: &Tx<'_>) -> Result<Vec<(InvoiceId, String)>> {
    // The date in UTC-12 by the operation's clock, as the triggers compute it from theirs.
    let twelve_hours = std::time::Duration::from_secs(12 * 3600);
    let cutoff = tx
        .now()
        .checked_sub(twelve_hours)?
        .to_rfc3339()
        .get(..10)
        .map(str::to_owned)
        .ok_or_else(|| Error::new(ErrorKind::Internal, "a time without a date"))?;
    let doomed = tx.query_map(
        "SELECT id, number FROM shopkeep_invoices i
         WHERE deletable_from <= ?1
           AND NOT EXISTS (SELECT 1 FROM shopkeep_invoices c
                           WHERE c.original_id = i.id AND c.deletable_from > ?1)
         ORDER BY kind, id",
        args![cutoff],
        |r| Ok((r.get::<InvoiceId>(0)?, r.get(1)?)),
    )?;
    for (id, _) in &doomed {
        tx.execute(
            "DELETE FROM shopkeep_invoice_lines WHERE invoice_id = ?1",
            args![id],
        )?;
        tx.execute("DELETE FROM shopkeep_invoices WHERE id = ?1", args![id])?;
    }
    Ok(doomed)
}
