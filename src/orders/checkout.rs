//! Checkout: a customer's cart becomes an order, in one write transaction.
//!
//! Inside one `BEGIN IMMEDIATE` transaction checkout authorises (`PlaceOrder` on the customer),
//! answers a replayed idempotency key with the first order, reads the shop's settings and the
//! customer (their default shipping address gives the destination country), prices the cart
//! from the catalogue now, decides each line's VAT, applies the coupon, takes the stock
//! conditionally, writes the order, its lines, its VAT breakdown and the encrypted buyer
//! snapshot, counts the coupon use, records the idempotency key, emits `order.placed`, audits,
//! and empties the cart. Any error rolls all of it back.

use serde::Serialize;

use super::cart::{Cart, CartDigest};
use super::cart_repo::{self, customer_cart, no_settings};
use super::coupon::CouponCode;
use super::coupon_repo;
use super::order::{
    BuyerSnapshot, Order, OrderCharge, OrderId, OrderLine, OrderNumber, OrderPage, OrderQuery,
    OrderStatus, OrderVat,
};
use super::order_repo::{self, NewOrder};
use super::pricing;
use super::vat_rules::{self, Buyer};
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::catalog::{TaxCategory, VariantId, current_settings, take_stock};
use crate::clock::Timestamp;
use crate::crypto::keys::Mac256;
use crate::customers::{ensure_active, load_buyer};
use crate::error::{Error, ErrorKind, Result};
use crate::events::OutboxEvent;
use crate::marketing::Attribution;
use crate::money::{Currency, Money};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

/// How long an idempotency key is remembered: 24 hours. A retry after that is a new checkout.
pub const IDEMPOTENCY_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The client's idempotency key of a checkout: 1 to 255 visible ASCII characters (a UUID is
/// usual). Scoped to the principal that uses it; only its keyed hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks a key.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `idempotency_key`) for an empty or over-long key or one with
    /// other characters.
    pub fn new(key: &str) -> Result<IdempotencyKey> {
        if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(key.to_owned()))
        } else {
            Err(Error::validation(
                "idempotency_key",
                "an idempotency key is 1 to 255 visible ASCII characters",
            ))
        }
    }
}

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

/// The longest shipping label accepted, in characters.
const MAX_SHIPPING_LABEL: usize = 100;

/// A shipping charge: a label the buyer sees (`Standard shipping`), its price in the shop's
/// price mode (net for a tax-exclusive shop, gross for a tax-inclusive one) and the tax
/// category it is taxed under. Its VAT is decided exactly like a product line's of that
/// category, for the same buyer and destination.
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::catalog::TaxCategory;
/// use shopkeep::orders::Shipping;
///
/// let dhl = Shipping::new("DHL Paket", Money::parse("4.90", Currency::EUR)?, TaxCategory::Standard)?;
/// assert_eq!(dhl.label(), "DHL Paket");
/// assert!(Shipping::new("", Money::parse("4.90", Currency::EUR)?, TaxCategory::Standard).is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipping {
    label: String,
    price: Money,
    tax_category: TaxCategory,
}

impl Shipping {
    /// A shipping charge.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `shipping`) for an empty label, one over 100 characters or
    /// with control characters, or a negative price.
    pub fn new(label: &str, price: Money, tax_category: TaxCategory) -> Result<Shipping> {
        let label = crate::text::required("shipping", label, MAX_SHIPPING_LABEL)?;
        if price.is_negative() {
            return Err(Error::validation(
                "shipping",
                "a shipping price cannot be negative",
            ));
        }
        Ok(Shipping {
            label,
            price,
            tax_category,
        })
    }

    /// The label the buyer sees.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The price, net or gross per the shop's price mode.
    pub fn price(&self) -> Money {
        self.price
    }

    /// The tax category it is taxed under.
    pub fn tax_category(&self) -> TaxCategory {
        self.tax_category
    }
}

/// What [`OrderRepo::checkout`] did: placed a new order, or answered a replay of its
/// idempotency key with the order the first request placed. An HTTP host answers `201
/// Created` for the one and `200 OK` for the other.
///
/// ```
/// # use shopkeep::{Principal, Store, orders::Checkout};
/// # fn demo(store: &Store, ana: &Principal, request: Checkout) -> Result<(), Box<dyn std::error::Error>> {
/// let outcome = store.orders(ana).checkout(request)?;
/// let status = if outcome.is_replay() { 200 } else { 201 };
/// let order = outcome.into_order();
/// # let _ = (status, order); Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CheckoutOutcome {
    /// A new order, placed by this request.
    Placed(Order),
    /// The order an earlier request with the same idempotency key placed; nothing was written.
    Replayed(Order),
}

impl CheckoutOutcome {
    /// The order, new or replayed.
    pub fn order(&self) -> &Order {
        match self {
            CheckoutOutcome::Placed(order) | CheckoutOutcome::Replayed(order) => order,
        }
    }

    /// The order, new or replayed.
    pub fn into_order(self) -> Order {
        match self {
            CheckoutOutcome::Placed(order) | CheckoutOutcome::Replayed(order) => order,
        }
    }

    /// Whether this was a replay: the order was placed by an earlier request.
    pub fn is_replay(&self) -> bool {
        matches!(self, CheckoutOutcome::Replayed(_))
    }
}

/// A checkout request: whose cart, with which idempotency key, coupon, currency and shipping,
/// and (best) the digest of the cart the customer saw.
#[derive(Debug, Clone)]
#[must_use]
pub struct Checkout {
    customer: CustomerId,
    key: IdempotencyKey,
    coupon: Option<CouponCode>,
    currency: Option<Currency>,
    shipping: Option<Shipping>,
    digest: Option<CartDigest>,
    attribution: Option<Attribution>,
}

impl Checkout {
    /// Checks out the cart of `customer`, under `key`.
    pub fn from_cart(customer: CustomerId, key: IdempotencyKey) -> Checkout {
        Checkout {
            customer,
            key,
            coupon: None,
            currency: None,
            shipping: None,
            digest: None,
            attribution: None,
        }
    }

    /// Buys exactly the cart the customer saw: `digest` is [`Cart::digest`](super::Cart::digest)
    /// of the cart the host showed. A cart that has changed since is a `Conflict` (nothing is
    /// bought), and the digest is part of the request the idempotency key is bound to, so a
    /// replay of the key with another digest is an `IdempotencyMismatch`, while an honest retry (same
    /// key, same digest) returns the first order even though checkout emptied the cart.
    pub fn cart_digest(mut self, digest: CartDigest) -> Self {
        self.digest = Some(digest);
        self
    }

    /// Adds a shipping charge, priced in the order's currency.
    pub fn shipping(mut self, shipping: Shipping) -> Self {
        self.shipping = Some(shipping);
        self
    }

    /// Applies a coupon.
    pub fn coupon(mut self, code: CouponCode) -> Self {
        self.coupon = Some(code);
        self
    }

    /// Records where the order came from (campaign and UTM parameters, the message clicked).
    /// It is part of the request the idempotency key is bound to, and stored with the order;
    /// an attribution that names nothing is refused at checkout (`Validation`, field
    /// `attribution`).
    pub fn attribution(mut self, attribution: Attribution) -> Self {
        self.attribution = Some(attribution);
        self
    }

    /// Charges in `currency` (default: the shop's base currency).
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = Some(currency);
        self
    }

    /// The canonical form of the request that the idempotency record compares (no personal
    /// data; only its keyed hash is stored).
    fn canonical(&self) -> String {
        let mut form = format!(
            "checkout v1\ncustomer={}\ncurrency={}\ncoupon={}",
            self.customer,
            self.currency.map_or("-", Currency::code),
            self.coupon.as_ref().map_or("-", CouponCode::as_str),
        );
        // Only present when given, like shipping below, so that a request without it keeps
        // the form (and the stored hash) it had before.
        if let Some(digest) = &self.digest {
            form.push_str(&format!("\ncart={digest}"));
        }
        // Only present when given, like the digest above.
        if let Some(attribution) = &self.attribution {
            form.push('\n');
            form.push_str(&attribution.canonical());
        }
        // Only present when there is shipping, so that a request without it keeps the form
        // (and the stored hash) it had before shipping existed. The label is last and holds
        // no line breaks, so no two requests share a form.
        if let Some(s) = &self.shipping {
            form.push_str(&format!(
                "\nshipping={} {} {}\nshipping_label={}",
                s.price.minor(),
                s.price.currency().code(),
                s.tax_category.as_str(),
                s.label,
            ));
        }
        form
    }
}

/// `order.placed`: ids and figures only.
#[derive(Serialize)]
struct Placed {
    order_id: OrderId,
    number: u64,
    customer_id: CustomerId,
    currency: &'static str,
    net_total: i64,
    vat_total: i64,
    gross_total: i64,
    lines: usize,
}

impl OutboxEvent for Placed {
    const KIND: &'static str = "order.placed";
    const VERSION: u32 = 1;
}

/// Orders, for one acting principal. From [`Store::orders`].
#[derive(Debug)]
pub struct OrderRepo<'s> {
    pub(super) store: &'s Store,
    pub(super) principal: &'s Principal,
}

impl Store {
    /// The orders, as seen by `principal`.
    pub fn orders<'s>(&'s self, principal: &'s Principal) -> OrderRepo<'s> {
        OrderRepo {
            store: self,
            principal,
        }
    }
}

const MAX_PAGE: usize = 500;

impl OrderRepo<'_> {
    /// Places an order from the customer's cart. Needs [`Action::PlaceOrder`] on the customer
    /// (customers for themselves). A replay of the same idempotency key by the same principal
    /// with the same request returns the first order, as [`CheckoutOutcome::Replayed`], and
    /// changes nothing.
    ///
    /// The request an idempotency key is bound to includes what the client priced: the
    /// [`Checkout::cart_digest`] it sent. Without a digest, a replay is honoured only while the
    /// cart is empty, as the first checkout left it: a cart that holds lines again is something
    /// the first order did not buy, so the key is refused rather than those lines silently left
    /// unbought.
    ///
    /// # Errors
    ///
    /// - `NotFound` for an unknown customer, or one the principal may not shop for;
    /// - `IdempotencyMismatch` if the idempotency key was used with a different request
    ///   (another cart digest, or no digest and a cart that holds lines again);
    /// - `Conflict` if the cart no longer matches the request's digest;
    /// - `OutOfStock` if a product has less stock than ordered (nothing is written;
    ///   [`Error::out_of_stock`](crate::Error::out_of_stock) names the variant);
    /// - `Validation` for an empty cart (field `cart`), a currency the shop does not sell in or
    ///   a product without a price in it (field `currency`), a coupon that is not valid now,
    ///   used up or for a subtotal under its minimum (field `coupon`), a customer without a
    ///   shipping address (field `shipping_address`), an archived product (field `variant`);
    /// - `Validation` when the order's invoice could not be issued (nothing is written): the
    ///   seller's VAT id for exports and intra-community supplies (field `seller.vat_id`), its
    ///   legal registration id for services outside the scope of VAT (`seller.registration`),
    ///   such services mixed with other lines or shipping (`vat_category`), or a seller outside
    ///   the countries the VAT rules cover (`seller_country`);
    /// - `CurrencyMismatch` if the shipping is priced in another currency than the order, or a
    ///   fixed coupon is;
    /// - `NotConfigured` if the shop has no settings;
    /// - `NotFound` for an unknown coupon or a variant that no longer exists.
    pub fn checkout(&self, request: Checkout) -> Result<CheckoutOutcome> {
        if let Some(attribution) = &request.attribution {
            attribution.check_not_empty()?;
        }
        let store = self.store;
        let scope = self.principal.audit_name();
        let key_hash = store.keys().request_mac(&[
            b"idempotency key",
            scope.as_bytes(),
            request.key.0.as_bytes(),
        ]);
        let request_hash = store
            .keys()
            .request_mac(&[b"checkout request", request.canonical().as_bytes()]);
        let id = OrderId::generate(store.now())?;
        store.write(|tx| {
            let cart = customer_cart(tx, self.principal, request.customer)?;
            purge_keys(tx)?;
            let current = cart_repo::load(tx, cart)?;
            if let Some(first) = replay(tx, &scope, &key_hash, &request_hash)? {
                if request.digest.is_none() && !current.is_empty() {
                    return Err(Error::new(
                        ErrorKind::IdempotencyMismatch,
                        "this idempotency key was used for a checkout that emptied the cart; \
                         the cart holds lines again: check them out under a new key",
                    ));
                }
                return order_repo::load(tx, store, first).map(CheckoutOutcome::Replayed);
            }
            if request.digest.is_some_and(|d| d != current.digest()) {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "the cart has changed since the customer saw it",
                ));
            }
            let order = self.place(tx, &request, current, id)?;
            tx.execute(
                "INSERT INTO shopkeep_idempotency (principal, key_hash, request_hash, order_id,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![
                    scope,
                    key_hash.as_slice(),
                    request_hash.as_slice(),
                    id,
                    tx.now()
                ],
            )?;
            Ok(CheckoutOutcome::Placed(order))
        })
    }

    fn place(&self, tx: &Tx<'_>, request: &Checkout, cart: Cart, id: OrderId) -> Result<Order> {
        let store = self.store;
        let customer = request.customer;
        let settings = current_settings(tx)?.ok_or_else(no_settings)?;
        let currency = request.currency.unwrap_or(settings.base_currency());
        let profile = load_buyer(tx, store, customer)?;
        let shipping = profile.shipping.ok_or_else(|| {
            Error::validation("shipping_address", "the customer has no shipping address")
        })?;
        let destination = shipping.country();
        let business = profile.business.as_ref();
        let buyer = match business {
            Some(b) => Buyer::Business(b.vat_id()),
            None => Buyer::Consumer,
        };
        let lines = cart.lines;
        let coupon = request.coupon.as_ref().map(|c| (c, Some(customer)));
        let priced = pricing::price(
            tx,
            &settings,
            &lines,
            currency,
            destination,
            &buyer,
            coupon,
            request.shipping.as_ref(),
        )?;
        // An order its invoice could never be issued for is refused now, not after payment.
        vat_rules::check_invoiceable(
            settings.seller(),
            priced
                .totals
                .vat_groups()
                .iter()
                .map(|g| g.vat().category()),
        )?;
        let number = order_repo::next_number(tx)?;
        let snapshot = BuyerSnapshot {
            name: profile.name,
            email: profile.email,
            billing: profile.billing,
            shipping,
            company: business.map(|b| b.company().to_owned()),
            vat_id: business
                .and_then(|b| b.vat_id())
                .map(|v| v.as_str().to_owned()),
            buyer_reference: business
                .and_then(|b| b.buyer_reference())
                .map(str::to_owned),
            electronic_address: business.and_then(|b| b.electronic_address()).cloned(),
        };
        let sealed = order_repo::seal_snapshot(tx, store, id, &snapshot)?;
        order_repo::insert(
            tx,
            &NewOrder {
                id,
                number,
                customer,
                currency,
                mode: settings.price_mode(),
                coupon: request.coupon.as_ref().map(CouponCode::as_str),
                destination,
                buyer: &sealed,
                priced: &priced,
            },
        )?;
        let reference = format!("order {number}");
        for (item, quantity) in &priced.items {
            take(tx, self.principal, item.variant, *quantity, &reference)?;
        }
        if let Some(code) = &request.coupon {
            coupon_repo::record_use(tx, code, customer, id)?;
        }
        if let Some(attribution) = &request.attribution {
            crate::marketing::record_attribution(tx, id, attribution)?;
        }
        let totals = &priced.totals;
        tx.emit(&Placed {
            order_id: id,
            number: number.get(),
            customer_id: customer,
            currency: currency.code(),
            net_total: totals.net_total().minor(),
            vat_total: totals.vat_total().minor(),
            gross_total: totals.gross_total().minor(),
            lines: priced.items.len(),
        })?;
        tx.audit(
            self.principal,
            Action::PlaceOrder,
            &Resource::Order {
                id,
                customer: Some(customer),
            },
        )?;
        cart_repo::empty(tx, cart.id)?;
        let lines = priced
            .items
            .iter()
            .zip(&priced.lines)
            .zip(totals.lines())
            .enumerate()
            .map(|(position, (((item, quantity), line), total))| OrderLine {
                position: u32::try_from(position).unwrap_or(u32::MAX),
                variant: item.variant,
                sku: item.sku.clone(),
                name: item.name.clone(),
                quantity: *quantity,
                unit_price: item.unit_price,
                amount: total.shown(),
                net: total.net(),
                discount: total.discount(),
                vat: line.vat().clone(),
            })
            .collect();
        let charges = priced
            .charges
            .iter()
            .zip(totals.charges_net())
            .enumerate()
            .map(|(position, ((reason, charge), net))| OrderCharge {
                position: u32::try_from(position).unwrap_or(u32::MAX),
                reason: reason.clone(),
                amount: charge.amount(),
                net: *net,
                vat: charge.vat().clone(),
            })
            .collect();
        // In the order the store reads them back: by category code, then rate.
        let mut vat: Vec<OrderVat> = totals
            .vat_groups()
            .iter()
            .map(|g| OrderVat {
                vat: g.vat().clone(),
                lines_net: g.lines_net(),
                allowance_net: g.allowance_net(),
                charges_net: g.charges_net(),
                taxable: g.taxable(),
                tax: g.tax(),
            })
            .collect();
        vat.sort_by_key(|v| (v.vat.category().code(), v.vat.rate()));
        Ok(Order {
            id,
            number,
            customer,
            status: OrderStatus::Placed,
            currency,
            price_mode: settings.price_mode(),
            line_net_total: totals.line_net_total(),
            allowance_total: totals.allowance_total(),
            charge_total: totals.charge_total(),
            net_total: totals.net_total(),
            vat_total: totals.vat_total(),
            gross_total: totals.gross_total(),
            coupon: request.coupon.as_ref().map(|c| c.as_str().to_owned()),
            destination,
            buyer: snapshot,
            attribution: request.attribution.clone(),
            lines,
            charges,
            vat,
            placed_at: Timestamp::parse_rfc3339(&tx.now().to_rfc3339())?,
            version: 1,
        })
    }

    /// Reads one order. Needs [`Action::ReadOrder`] (customers their own).
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such order or the principal may not read it; `Crypto` if
    /// the order was moved to another customer outside shopkeep (see the auth MACs of
    /// `docs/security.md`).
    pub fn get(&self, id: OrderId) -> Result<Order> {
        self.store.read(|tx| self.read_one(tx, id))
    }

    /// Reads one order by the number its customer sees on the confirmation (support finds
    /// "order 000123"; parse it with `"000123".parse::<OrderNumber>()`). Authorised exactly
    /// like [`get`](Self::get): a customer finds only their own orders.
    ///
    /// # Errors
    ///
    /// `NotFound` if no order has this number or the principal may not read it (the two
    /// answer alike); `Crypto` as for [`get`](Self::get).
    pub fn by_number(&self, number: OrderNumber) -> Result<Order> {
        self.store.read(|tx| {
            // An unknown number takes the path of an unknown id (the nil id is never
            // generated), so it is authorised, audited and answered exactly like one.
            let id = order_repo::id_by_number(tx, number)?
                .unwrap_or_else(|| OrderId::from_bytes([0; 16]));
            self.read_one(tx, id)
        })
    }

    fn read_one(&self, tx: &Tx<'_>, id: OrderId) -> Result<Order> {
        let customer = order_repo::owner(tx, id)?;
        let resource = Resource::Order { id, customer };
        tx.authorize(self.principal, Action::ReadOrder, &resource)?;
        if customer.is_none() {
            return Err(not_found(&resource));
        }
        order_repo::load(tx, self.store, id)
    }

    /// A customer's orders, newest first, `limit` (1 to 500) per page after the cursor
    /// `after`. Needs [`Action::ReadOrder`] on the customer (customers their own).
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown or erased customer, or one the principal may not read;
    /// `Validation` (field `limit`) for a page size outside 1 to 500.
    pub fn list_for(
        &self,
        customer: CustomerId,
        after: Option<OrderId>,
        limit: usize,
    ) -> Result<OrderPage> {
        check_limit(limit)?;
        self.store.read(|tx| {
            tx.authorize(
                self.principal,
                Action::ReadOrder,
                &Resource::Customer(customer),
            )?;
            ensure_active(tx, customer)?;
            let (ids, next) = order_repo::page(tx, Some(customer), None, after, limit)?;
            self.pack(tx, ids, next)
        })
    }

    /// Every order (optionally of one status), newest first. Needs [`Action::ReadOrder`] on
    /// all orders (staff).
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `Validation` (field `limit`) for a page size outside 1
    /// to 500.
    pub fn list(&self, query: &OrderQuery) -> Result<OrderPage> {
        let limit = query.limit.unwrap_or(50);
        check_limit(limit)?;
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ReadOrder, &Resource::Orders)?;
            let (ids, next) = order_repo::page(tx, None, query.status, query.after, limit)?;
            self.pack(tx, ids, next)
        })
    }

    fn pack(&self, tx: &Tx<'_>, ids: Vec<OrderId>, next: Option<OrderId>) -> Result<OrderPage> {
        let orders = ids
            .into_iter()
            .map(|id| order_repo::load(tx, self.store, id))
            .collect::<Result<Vec<_>>>()?;
        Ok(OrderPage { orders, next })
    }
}

fn check_limit(limit: usize) -> Result<()> {
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(())
    } else {
        Err(Error::validation(
            "limit",
            format!("a page holds 1 to {MAX_PAGE} orders"),
        ))
    }
}

fn take(
    tx: &Tx<'_>,
    principal: &Principal,
    variant: VariantId,
    quantity: u32,
    reference: &str,
) -> Result<()> {
    take_stock(tx, principal, variant, quantity, reference).map(drop)
}

/// Forgets idempotency keys older than the retention time.
fn purge_keys(tx: &Tx<'_>) -> Result<()> {
    let cutoff = tx.now().checked_sub(IDEMPOTENCY_RETENTION)?;
    tx.execute(
        "DELETE FROM shopkeep_idempotency WHERE created_at < ?1",
        args![cutoff],
    )?;
    Ok(())
}

/// The first order of a replayed key, or `None` for a new key.
fn replay(
    tx: &Tx<'_>,
    scope: &str,
    key_hash: &Mac256,
    request_hash: &Mac256,
) -> Result<Option<OrderId>> {
    let found: Option<(Vec<u8>, OrderId)> = tx.query_opt(
        "SELECT request_hash, order_id FROM shopkeep_idempotency
             WHERE principal = ?1 AND key_hash = ?2",
        args![scope, key_hash.as_slice()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    match found {
        None => Ok(None),
        Some((stored, order)) if stored.as_slice() == request_hash.as_slice() => Ok(Some(order)),
        Some(_) => Err(Error::new(
            ErrorKind::IdempotencyMismatch,
            "this idempotency key was used for a different checkout",
        )),
    }
}
