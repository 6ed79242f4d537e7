//! Orders: the SQL that writes a placed order and reads orders back.

use super::order::{
    BuyerSnapshot, Order, OrderCharge, OrderId, OrderLine, OrderNumber, OrderStatus, OrderVat,
    StoredSnapshot,
};
use super::pricing::Priced;
use super::totals::PriceMode;
use super::vat::{VatCategory, VatTreatment};
use crate::access::CustomerId;
use crate::clock::Timestamp;
use crate::crypto::auth_mac;
use crate::crypto::data_keys::Subject;
use crate::crypto::field::{self, Place};
use crate::crypto::keys::Mac256;
use crate::customers::Country;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money, TaxRate};
use crate::sql::{Param, args};
use crate::store::{Store, Tx};

pub(crate) const ORDERS: &str = "shopkeep_orders";

fn storage(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::Storage, "a stored order is malformed").with_source(e)
}

fn mode_name(mode: PriceMode) -> &'static str {
    match mode {
        PriceMode::TaxInclusive => "inclusive",
        _ => "exclusive",
    }
}

/// The id of the order with this number, if there is one.
pub(crate) fn id_by_number(tx: &Tx<'_>, number: OrderNumber) -> Result<Option<OrderId>> {
    // Numbers beyond i64 were never allocated.
    let Ok(stored) = i64::try_from(number.get()) else {
        return Ok(None);
    };
    tx.query_opt(
        "SELECT id FROM shopkeep_orders WHERE number = ?1",
        args![stored],
        |r| r.get(0),
    )
}

/// Allocates the next order number, inside the checkout transaction.
pub(crate) fn next_number(tx: &Tx<'_>) -> Result<OrderNumber> {
    let n: i64 = tx.query_row(
        "UPDATE shopkeep_order_counter SET next = next + 1 WHERE id = 1 RETURNING next - 1",
        args![],
        |r| r.get(0),
    )?;
    Ok(OrderNumber::from_stored(n))
}

/// Encrypts a buyer snapshot under the legal-archive key, bound to the order's row.
pub(crate) fn seal_snapshot(
    tx: &Tx<'_>,
    store: &Store,
    id: OrderId,
    snapshot: &BuyerSnapshot,
) -> Result<Vec<u8>> {
    seal_snapshot_at(tx, store, snapshot_place(ORDERS, id.as_bytes()), snapshot)
}

fn snapshot_place<'a>(table: &'a str, row: &'a [u8]) -> Place<'a> {
    Place {
        table,
        column: "buyer",
        row,
    }
}

/// Encrypts a buyer snapshot under the legal-archive key, bound to `place` (orders and
/// issued invoices each keep their own copy).
pub(crate) fn seal_snapshot_at(
    tx: &Tx<'_>,
    store: &Store,
    place: Place<'_>,
    snapshot: &BuyerSnapshot,
) -> Result<Vec<u8>> {
    let key = store.data_key_or_create(tx, &Subject::legal_archive())?;
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(&StoredSnapshot::from_snapshot(snapshot)).map_err(storage)?,
    );
    field::encrypt(&key, place, &json)
}

fn open_snapshot(tx: &Tx<'_>, store: &Store, id: OrderId, sealed: &[u8]) -> Result<BuyerSnapshot> {
    open_snapshot_at(tx, store, snapshot_place(ORDERS, id.as_bytes()), sealed)
}

/// Decrypts a buyer snapshot sealed by [`seal_snapshot_at`] at `place`.
pub(crate) fn open_snapshot_at(
    tx: &Tx<'_>,
    store: &Store,
    place: Place<'_>,
    sealed: &[u8],
) -> Result<BuyerSnapshot> {
    let key = store
        .data_key(tx, &Subject::legal_archive())?
        .ok_or_else(|| Error::new(ErrorKind::Crypto, "the legal-archive key is missing"))?;
    let plain = field::decrypt(&key, place, sealed)?;
    let stored: StoredSnapshot = serde_json::from_slice(&plain).map_err(|e| {
        Error::new(
            ErrorKind::Crypto,
            "a decrypted snapshot is not the expected document",
        )
        .with_source(e)
    })?;
    stored.into_snapshot()
}

/// What an order row is written from.
pub(crate) struct NewOrder<'a> {
    pub(crate) id: OrderId,
    pub(crate) number: OrderNumber,
    pub(crate) customer: CustomerId,
    pub(crate) currency: Currency,
    pub(crate) mode: PriceMode,
    pub(crate) coupon: Option<&'a str>,
    pub(crate) destination: Country,
    pub(crate) buyer: &'a [u8],
    pub(crate) priced: &'a Priced,
}

/// Writes the order, its lines and its VAT breakdown.
pub(crate) fn insert(tx: &Tx<'_>, o: &NewOrder<'_>) -> Result<()> {
    let t = &o.priced.totals;
    tx.execute(
        "INSERT INTO shopkeep_orders (id, number, customer_id, status, currency, price_mode,
         line_net_total, allowance_total, charge_total, net_total, vat_total, gross_total,
         coupon_code, destination, buyer, placed_at, updated_at, auth_mac)
         VALUES (?1, ?2, ?3, 'placed', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)",
    args![o.id, i64::try_from(o.number.get()).unwrap_or(i64::MAX), o.customer, o.currency.code(), mode_name(o.mode), t.line_net_total().minor(), t.allowance_total().minor(), t.charge_total().minor(), t.net_total().minor(), t.vat_total().minor(), t.gross_total().minor(), o.coupon, o.destination.as_str(), o.buyer, tx.now(), owner_mac(tx, o.id, o.customer).as_slice()])?;
    for (position, ((item, line), total)) in o
        .priced
        .items
        .iter()
        .zip(&o.priced.lines)
        .zip(t.lines())
        .enumerate()
    {
        let (sellable, quantity) = item;
        tx.execute(
            "INSERT INTO shopkeep_order_lines (order_id, position, variant_id, sku, name, quantity,
         unit_price, amount, line_net, discount, vat_category, vat_rate_bp, exemption_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            args![
                o.id,
                i64::try_from(position).unwrap_or(i64::MAX),
                sellable.variant,
                sellable.sku,
                sellable.name,
                quantity,
                sellable.unit_price.minor(),
                total.shown().minor(),
                total.net().minor(),
                total.discount().minor(),
                line.vat().category().code(),
                line.vat().rate().basis_points(),
                line.vat().exemption_reason()
            ],
        )?;
    }
    if !o.priced.charges.is_empty() {
        for (position, ((reason, charge), net)) in
            o.priced.charges.iter().zip(t.charges_net()).enumerate()
        {
            tx.execute(
                "INSERT INTO shopkeep_order_charges (order_id, position, reason, amount, net,
             vat_category, vat_rate_bp, exemption_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args![
                    o.id,
                    i64::try_from(position).unwrap_or(i64::MAX),
                    reason,
                    charge.amount().minor(),
                    net.minor(),
                    charge.vat().category().code(),
                    charge.vat().rate().basis_points(),
                    charge.vat().exemption_reason()
                ],
            )?;
        }
    }
    for g in t.vat_groups() {
        tx.execute(
            "INSERT INTO shopkeep_order_vat (order_id, vat_category, vat_rate_bp, exemption_reason,
         lines_net, allowance_net, charges_net, taxable, tax)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            args![
                o.id,
                g.vat().category().code(),
                g.vat().rate().basis_points(),
                g.vat().exemption_reason(),
                g.lines_net().minor(),
                g.allowance_net().minor(),
                g.charges_net().minor(),
                g.taxable().minor(),
                g.tax().minor()
            ],
        )?;
    }
    Ok(())
}

/// The customer who placed order `id`, if it exists.
///
/// # Errors
///
/// `Crypto` if the order was moved to another customer outside shopkeep.
pub(crate) fn owner(tx: &Tx<'_>, id: OrderId) -> Result<Option<CustomerId>> {
    let row: Option<(CustomerId, Option<Vec<u8>>)> = tx.query_opt(
        "SELECT customer_id, auth_mac FROM shopkeep_orders WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    row.map(|(customer, mac)| {
        verify_owner(tx, id, customer, mac.as_deref())?;
        Ok(customer)
    })
    .transpose()
}

/// The auth MAC that binds order `id` to the customer who placed it.
fn owner_mac(tx: &Tx<'_>, id: OrderId, customer: CustomerId) -> Mac256 {
    tx.keys().auth_mac(
        &auth_mac::ORDERS,
        &[
            Some(id.as_bytes().as_slice()),
            Some(customer.as_bytes().as_slice()),
        ],
    )
}

/// Checks that order `id` still belongs to the customer its MAC was made for.
///
/// # Errors
///
/// `Crypto` if the order's customer or MAC was altered outside shopkeep.
pub(crate) fn verify_owner(
    tx: &Tx<'_>,
    id: OrderId,
    customer: CustomerId,
    mac: Option<&[u8]>,
) -> Result<()> {
    tx.keys().verify_auth_mac(
        &auth_mac::ORDERS,
        &[
            Some(id.as_bytes().as_slice()),
            Some(customer.as_bytes().as_slice()),
        ],
        mac,
    )
}

pub(crate) fn treatment(category: &str, bp: u32, reason: Option<String>) -> Result<VatTreatment> {
    VatTreatment::new(
        VatCategory::from_code(category)?,
        TaxRate::from_basis_points(bp)?,
        reason.as_deref(),
    )
}

/// Reads order `id` with its lines, VAT breakdown and decrypted buyer snapshot.
///
/// # Errors
///
/// `NotFound` if there is no such order.
pub(crate) fn load(tx: &Tx<'_>, store: &Store, id: OrderId) -> Result<Order> {
    type Head = (
        i64,
        CustomerId,
        String,
        String,
        String,
        [i64; 6],
        Option<String>,
        String,
        Vec<u8>,
        Timestamp,
        i64,
        Option<Vec<u8>>,
    );
    let head: Option<Head> = tx.query_opt(
        "SELECT number, customer_id, status, currency, price_mode, line_net_total,
             allowance_total, charge_total, net_total, vat_total, gross_total, coupon_code,
             destination, buyer, placed_at, version, auth_mac FROM shopkeep_orders WHERE id = ?1",
        args![id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                [
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ],
                r.get(11)?,
                r.get(12)?,
                r.get(13)?,
                r.get(14)?,
                r.get(15)?,
                r.get(16)?,
            ))
        },
    )?;
    let Some((
        number,
        customer,
        status,
        currency,
        mode,
        amounts,
        coupon,
        dest,
        buyer,
        at,
        ver,
        mac,
    )) = head
    else {
        return Err(Error::new(ErrorKind::NotFound, "no such order"));
    };
    verify_owner(tx, id, customer, mac.as_deref())?;
    let currency = Currency::from_code(&currency)?;
    let m = |minor: i64| Money::new(minor, currency);
    let [line_net, allowance, charge, net, vat, gross] = amounts;
    let lines = tx.query_map(
        "SELECT position, variant_id, sku, name, quantity, unit_price, amount, line_net, discount,
         vat_category, vat_rate_bp, exemption_reason FROM shopkeep_order_lines
         WHERE order_id = ?1 ORDER BY position",
        args![id], |r| {
            let (position, variant, sku, name, quantity, [unit, amount, net, discount], c, bp, why) = (
                r.get::<u32>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<String>(3)?,
                r.get::<u32>(4)?,
                [r.get::<i64>(5)?, r.get(6)?, r.get(7)?, r.get(8)?],
                r.get::<String>(9)?,
                r.get::<u32>(10)?,
                r.get::<Option<String>>(11)?,
            );
            Ok(OrderLine {
                position,
                variant,
                sku,
                name,
                quantity,
                unit_price: m(unit),
                amount: m(amount),
                net: m(net),
                discount: m(discount),
                vat: treatment(&c, bp, why)?,
            })
        })?;
    let charges = load_charges(tx, id, currency)?;
    let vat_rows = tx.query_map(
        "SELECT vat_category, vat_rate_bp, exemption_reason, lines_net, allowance_net,
         charges_net, taxable, tax FROM shopkeep_order_vat WHERE order_id = ?1
         ORDER BY vat_category, vat_rate_bp",
        args![id],
        |r| {
            let (c, bp, why, [lines_net, allowance_net, charges_net, taxable, tax]) = (
                r.get::<String>(0)?,
                r.get::<u32>(1)?,
                r.get::<Option<String>>(2)?,
                [r.get::<i64>(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
            );
            Ok(OrderVat {
                vat: treatment(&c, bp, why)?,
                lines_net: m(lines_net),
                allowance_net: m(allowance_net),
                charges_net: m(charges_net),
                taxable: m(taxable),
                tax: m(tax),
            })
        },
    )?;
    Ok(Order {
        id,
        number: OrderNumber::from_stored(number),
        customer,
        status: OrderStatus::parse(&status)?,
        currency,
        price_mode: if mode == "inclusive" {
            PriceMode::TaxInclusive
        } else {
            PriceMode::TaxExclusive
        },
        line_net_total: m(line_net),
        allowance_total: m(allowance),
        charge_total: m(charge),
        net_total: m(net),
        vat_total: m(vat),
        gross_total: m(gross),
        coupon,
        destination: Country::parse(&dest)?,
        buyer: open_snapshot(tx, store, id, &buyer)?,
        attribution: crate::marketing::load_attribution(tx, id)?,
        lines,
        charges,
        vat: vat_rows,
        placed_at: at,
        version: u64::try_from(ver).unwrap_or(0),
    })
}

/// The charges of order `id`, in their order.
fn load_charges(tx: &Tx<'_>, id: OrderId, currency: Currency) -> Result<Vec<OrderCharge>> {
    tx.query_map(
        "SELECT position, reason, amount, net, vat_category, vat_rate_bp, exemption_reason
         FROM shopkeep_order_charges WHERE order_id = ?1 ORDER BY position",
        args![id],
        |r| {
            let (position, reason, [amount, net], c, bp, why) = (
                r.get::<u32>(0)?,
                r.get::<String>(1)?,
                [r.get::<i64>(2)?, r.get(3)?],
                r.get::<String>(4)?,
                r.get::<u32>(5)?,
                r.get::<Option<String>>(6)?,
            );
            Ok(OrderCharge {
                position,
                reason,
                amount: Money::new(amount, currency),
                net: Money::new(net, currency),
                vat: treatment(&c, bp, why)?,
            })
        },
    )
}

/// Every order of `customer`, oldest first, with its buyer snapshot: what the customer's GDPR
/// export shows of their orders. It does not authorise: the export authorises its own action.
///
/// # Errors
///
/// `Crypto` if a snapshot cannot be decrypted; `Storage` for a malformed stored order.
pub(crate) fn for_customer(tx: &Tx<'_>, store: &Store, customer: CustomerId) -> Result<Vec<Order>> {
    let ids = tx.query_map(
        "SELECT id FROM shopkeep_orders WHERE customer_id = ?1 ORDER BY id",
        args![customer],
        |r| r.get::<OrderId>(0),
    )?;
    ids.into_iter().map(|id| load(tx, store, id)).collect()
}

/// One page of order ids, newest first: a customer's, or all (optionally of one status).
///
/// The statement is chosen per filter combination so that each one walks an index in id
/// order from its first row: one statement with `(?1 IS NULL OR customer_id = ?1)` cannot
/// use an index on `customer_id`, and SQLite walked every order to find a customer's.
pub(crate) fn page(
    tx: &Tx<'_>,
    customer: Option<CustomerId>,
    status: Option<OrderStatus>,
    after: Option<OrderId>,
    limit: usize,
) -> Result<(Vec<OrderId>, Option<OrderId>)> {
    let status = status.map(OrderStatus::as_str);
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    // Only fixed fragments are joined; every value is a parameter. A customer's orders are
    // found through `shopkeep_orders_by_customer` (customer_id, id), a status's through
    // `shopkeep_orders_by_status` (status, id), and all orders through the primary key.
    let mut conditions: Vec<&str> = Vec::new();
    let mut params: Vec<&dyn Param> = Vec::new();
    if let Some(customer) = &customer {
        conditions.push("customer_id = ?");
        params.push(customer);
    }
    if let Some(status) = &status {
        conditions.push("status = ?");
        params.push(status);
    }
    if let Some(after) = &after {
        conditions.push("id < ?");
        params.push(after);
    }
    params.push(&fetch);
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!("SELECT id FROM shopkeep_orders{filter} ORDER BY id DESC LIMIT ?");
    let mut ids = tx.query_map(&sql, &params, |r| r.get::<OrderId>(0))?;
    let next = if ids.len() > limit {
        ids.truncate(limit);
        ids.last().copied()
    } else {
        None
    };
    Ok((ids, next))
}
