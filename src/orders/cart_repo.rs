//! Carts: the SQL.
//!
//! A customer's cart is reached through the customer (needs [`Action::PlaceOrder`] on them:
//! customers their own). An anonymous visitor's cart is reached through its token: holding the
//! token is the authority, as with a password-reset link, and the store keeps only the token's
//! keyed hash. Cart edits are not audited (they are frequent and change nothing of value);
//! refusals are, and checkout is.

use super::cart::{
    Cart, CartId, CartLine, CartPreview, CartRef, CartToken, GuestCart, MAX_CART_LINES,
    MAX_QUANTITY, PreviewLine, check_quantity,
};
use super::checkout::Shipping;
use super::coupon::CouponCode;
use super::pricing;
use super::totals::Totals;
use super::vat_rules::Buyer;
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::catalog::{ShopSettings, VariantId, current_settings};
use crate::crypto::keys::Mac256;
use crate::customers::{ensure_active, load_buyer};
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::sql::args;
use crate::store::{Store, Tx, not_found};

/// Carts, for one acting principal. From [`Store::carts`].
#[derive(Debug)]
pub struct CartRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The carts, as seen by `principal`.
    pub fn carts<'s>(&'s self, principal: &'s Principal) -> CartRepo<'s> {
        CartRepo {
            store: self,
            principal,
        }
    }
}

/// The keyed hash a cart token is stored under.
pub(crate) fn token_hash(store: &Store, token: &CartToken) -> Mac256 {
    let mut input = b"cart:".to_vec();
    input.extend_from_slice(token.as_str().as_bytes());
    store.keys().token_hash(&input)
}

fn no_such_cart() -> Error {
    Error::new(ErrorKind::NotFound, "no such cart")
}

impl CartRepo<'_> {
    /// Opens a new, empty cart for an anonymous visitor and returns its token (once).
    ///
    /// # Errors
    ///
    /// `Crypto` if the random number generator fails; `Storage` if it cannot be written.
    pub fn open_guest(&self) -> Result<GuestCart> {
        let token = CartToken::generate()?;
        let hash = token_hash(self.store, &token);
        let cart = self.store.write(|tx| {
            let id = CartId::generate(tx.now())?;
            tx.execute(
                "INSERT INTO shopkeep_carts (id, token_hash, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3)",
                args![id, hash.as_slice(), tx.now()],
            )?;
            Ok(Cart {
                id,
                customer: None,
                lines: Vec::new(),
            })
        })?;
        Ok(GuestCart { token, cart })
    }

    /// Reads a cart (a customer's is created empty on first use).
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown token, or a customer that does not exist or whom the
    /// principal may not shop for.
    pub fn get(&self, cart: CartRef<'_>) -> Result<Cart> {
        let hash = self.hash(cart);
        // A read on a pooled reader: showing a cart must not queue behind checkouts for the
        // writer. Only a customer's very first look, which creates their cart, writes.
        let found = self
            .store
            .read(|tx| match self.find(tx, cart, hash.as_ref())? {
                Some(id) => load(tx, id).map(Some),
                None => Ok(None),
            })?;
        match found {
            Some(cart) => Ok(cart),
            None => self.store.write(|tx| {
                let id = self.resolve(tx, cart, hash.as_ref())?;
                load(tx, id)
            }),
        }
    }

    /// Adds `quantity` units of `variant` (to any already in the cart).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get); `Validation` (field `quantity`) for 0 or a total over 10,000
    /// units, (field `cart`) for a cart of 200 lines; `NotFound` for an unknown variant;
    /// `Validation` (field `variant`) for an archived product.
    pub fn add(&self, cart: CartRef<'_>, variant: VariantId, quantity: u32) -> Result<Cart> {
        check_quantity(quantity)?;
        let hash = self.hash(cart);
        self.store.write(|tx| {
            let id = self.resolve(tx, cart, hash.as_ref())?;
            check_variant(tx, variant)?;
            let had = current(tx, id, variant)?.unwrap_or(0);
            let total = had.saturating_add(quantity);
            check_quantity(total)?;
            set(tx, id, variant, total, had == 0)?;
            load(tx, id)
        })
    }

    /// Sets the quantity of `variant` (adding the line if it is not there).
    ///
    /// # Errors
    ///
    /// As [`add`](Self::add).
    pub fn set_quantity(
        &self,
        cart: CartRef<'_>,
        variant: VariantId,
        quantity: u32,
    ) -> Result<Cart> {
        check_quantity(quantity)?;
        let hash = self.hash(cart);
        self.store.write(|tx| {
            let id = self.resolve(tx, cart, hash.as_ref())?;
            check_variant(tx, variant)?;
            let had = current(tx, id, variant)?;
            set(tx, id, variant, quantity, had.is_none())?;
            load(tx, id)
        })
    }

    /// Removes the line of `variant`, if there is one.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn remove(&self, cart: CartRef<'_>, variant: VariantId) -> Result<Cart> {
        let hash = self.hash(cart);
        self.store.write(|tx| {
            let id = self.resolve(tx, cart, hash.as_ref())?;
            tx.execute(
                "DELETE FROM shopkeep_cart_lines WHERE cart_id = ?1 AND variant_id = ?2",
                args![id, variant],
            )?;
            touch(tx, id)?;
            load(tx, id)
        })
    }

    /// Merges an anonymous visitor's cart into the customer's cart, and deletes it. The host
    /// calls this right after the visitor logs in. Quantities of the same variant add up (to
    /// at most 10,000).
    ///
    /// # Errors
    ///
    /// `NotFound` for an unknown token or a customer the principal may not shop for;
    /// `Validation` (field `cart`) if the merged cart would hold over 200 lines.
    pub fn merge(&self, guest: &CartToken, customer: CustomerId) -> Result<Cart> {
        let hash = token_hash(self.store, guest);
        self.store.write(|tx| {
            let target = self.resolve(tx, CartRef::Customer(customer), None)?;
            let source = self.resolve(tx, CartRef::Guest(guest), Some(&hash))?;
            for line in load(tx, source)?.lines {
                let had = current(tx, target, line.variant)?;
                let total = had
                    .unwrap_or(0)
                    .saturating_add(line.quantity)
                    .min(MAX_QUANTITY);
                set(tx, target, line.variant, total, had.is_none())?;
            }
            tx.execute("DELETE FROM shopkeep_carts WHERE id = ?1", args![source])?;
            load(tx, target)
        })
    }

    /// The totals the cart would have at checkout now, in `currency` (default: the shop's base
    /// currency), with an optional coupon: computed by the same code as checkout, for the
    /// customer's default shipping address (the shop's own country for an anonymous cart or a
    /// customer without one).
    ///
    /// An empty cart (or a customer's cart not made yet) previews as zero totals, with no
    /// lines; its coupon and shipping are not looked at, as there is nothing to apply them to.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get); `NotConfigured` if the shop has no settings; `Validation` (field
    /// `currency`) for a currency the shop does not sell in; the checkout's pricing errors
    /// (archived product, missing price, coupon not applicable).
    pub fn preview(
        &self,
        cart: CartRef<'_>,
        currency: Option<Currency>,
        coupon: Option<&CouponCode>,
    ) -> Result<CartPreview> {
        self.price(cart, currency, coupon, None)
    }

    /// As [`preview`](Self::preview), with a shipping charge, priced as checkout prices it.
    ///
    /// # Errors
    ///
    /// As [`preview`](Self::preview); `CurrencyMismatch` if the shipping is priced in another
    /// currency than the cart.
    pub fn preview_with_shipping(
        &self,
        cart: CartRef<'_>,
        currency: Option<Currency>,
        coupon: Option<&CouponCode>,
        shipping: &Shipping,
    ) -> Result<CartPreview> {
        self.price(cart, currency, coupon, Some(shipping))
    }

    fn price(
        &self,
        cart: CartRef<'_>,
        currency: Option<Currency>,
        coupon: Option<&CouponCode>,
        shipping: Option<&Shipping>,
    ) -> Result<CartPreview> {
        let hash = self.hash(cart);
        self.store.read(|tx| {
            let found = self.find(tx, cart, hash.as_ref())?;
            let settings = current_settings(tx)?.ok_or_else(no_settings)?;
            let currency = currency.unwrap_or(settings.base_currency());
            let lines = match found {
                Some(id) => load(tx, id)?.lines,
                None => Vec::new(),
            };
            if lines.is_empty() {
                return empty_preview(&settings, currency);
            }
            let mut destination = settings.seller().address().country();
            let customer = match cart {
                CartRef::Customer(c) => Some(c),
                CartRef::Guest(_) => None,
            };
            let priced = match customer {
                Some(c) => {
                    let profile = load_buyer(tx, self.store, c)?;
                    if let Some(a) = &profile.shipping {
                        destination = a.country();
                    }
                    let buyer = match &profile.business {
                        Some(b) => Buyer::Business(b.vat_id()),
                        None => Buyer::Consumer,
                    };
                    let coupon = coupon.map(|c| (c, customer));
                    pricing::price(
                        tx,
                        &settings,
                        &lines,
                        currency,
                        destination,
                        &buyer,
                        coupon,
                        shipping,
                    )?
                }
                None => {
                    let coupon = coupon.map(|c| (c, None));
                    let buyer = Buyer::Consumer;
                    pricing::price(
                        tx,
                        &settings,
                        &lines,
                        currency,
                        destination,
                        &buyer,
                        coupon,
                        shipping,
                    )?
                }
            };
            let lines = priced
                .items
                .into_iter()
                .zip(priced.lines)
                .zip(priced.totals.lines())
                .map(|(((sellable, _), line), total)| PreviewLine {
                    variant: sellable.variant,
                    product: sellable.product,
                    sku: sellable.sku,
                    name: sellable.name,
                    priced: line,
                    total: *total,
                })
                .collect();
            Ok(CartPreview {
                lines,
                discount: priced.discount,
                totals: priced.totals,
            })
        })
    }

    /// The id of the cart if it exists, authorised, without creating a customer's cart: for
    /// reads, which run where nothing can be written.
    fn find(
        &self,
        tx: &Tx<'_>,
        cart: CartRef<'_>,
        hash: Option<&Mac256>,
    ) -> Result<Option<CartId>> {
        match cart {
            CartRef::Customer(customer) => find_customer_cart(tx, self.principal, customer),
            CartRef::Guest(_) => self.resolve(tx, cart, hash).map(Some),
        }
    }

    fn hash(&self, cart: CartRef<'_>) -> Option<Mac256> {
        match cart {
            CartRef::Guest(token) => Some(token_hash(self.store, token)),
            CartRef::Customer(_) => None,
        }
    }

    /// The id of the cart, authorised; a customer's cart is created on first use.
    fn resolve(&self, tx: &Tx<'_>, cart: CartRef<'_>, hash: Option<&Mac256>) -> Result<CartId> {
        match (cart, hash) {
            (CartRef::Customer(customer), _) => customer_cart(tx, self.principal, customer),
            (CartRef::Guest(_), Some(hash)) => tx
                .query_opt(
                    "SELECT id FROM shopkeep_carts WHERE token_hash = ?1",
                    args![hash.as_slice()],
                    |r| r.get(0),
                )?
                .ok_or_else(no_such_cart),
            (CartRef::Guest(_), None) => Err(no_such_cart()),
        }
    }
}

/// The customer's cart, authorised (`PlaceOrder` on the customer), created on first use.
pub(crate) fn customer_cart(
    tx: &Tx<'_>,
    principal: &Principal,
    customer: CustomerId,
) -> Result<CartId> {
    if let Some(id) = find_customer_cart(tx, principal, customer)? {
        return Ok(id);
    }
    let id = CartId::generate(tx.now())?;
    tx.execute(
        "INSERT INTO shopkeep_carts (id, customer_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
    args![id, customer, tx.now()])?;
    Ok(id)
}

/// The customer's cart if they have one, authorised (`PlaceOrder` on the customer).
fn find_customer_cart(
    tx: &Tx<'_>,
    principal: &Principal,
    customer: CustomerId,
) -> Result<Option<CartId>> {
    tx.authorize(principal, Action::PlaceOrder, &Resource::Customer(customer))?;
    ensure_active(tx, customer)?;
    tx.query_opt(
        "SELECT id FROM shopkeep_carts WHERE customer_id = ?1",
        args![customer],
        |r| r.get(0),
    )
}

/// The preview of an empty cart: zero totals in `currency`, if the shop sells in it.
fn empty_preview(settings: &ShopSettings, currency: Currency) -> Result<CartPreview> {
    if !settings.accepts(currency) {
        return Err(Error::validation(
            "currency",
            format!("the shop does not sell in {currency}"),
        ));
    }
    let zero = Money::zero(currency);
    Ok(CartPreview {
        lines: Vec::new(),
        discount: zero,
        totals: Totals::compute(settings.price_mode(), currency, &[], zero, &[])?,
    })
}

pub(crate) fn no_settings() -> Error {
    Error::new(
        ErrorKind::NotConfigured,
        "the shop has no settings yet: save them first",
    )
}

fn check_variant(tx: &Tx<'_>, variant: VariantId) -> Result<()> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM shopkeep_variants WHERE id = ?1)",
        args![variant],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(not_found(&Resource::Stock(variant)))
    }
}

fn current(tx: &Tx<'_>, cart: CartId, variant: VariantId) -> Result<Option<u32>> {
    tx.query_opt(
        "SELECT quantity FROM shopkeep_cart_lines WHERE cart_id = ?1 AND variant_id = ?2",
        args![cart, variant],
        |r| r.get(0),
    )
}

fn set(tx: &Tx<'_>, cart: CartId, variant: VariantId, quantity: u32, new: bool) -> Result<()> {
    if new {
        let count: i64 = tx.query_row(
            "SELECT count(*) FROM shopkeep_cart_lines WHERE cart_id = ?1",
            args![cart],
            |r| r.get(0),
        )?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_CART_LINES {
            return Err(Error::validation(
                "cart",
                format!("a cart holds at most {MAX_CART_LINES} lines"),
            ));
        }
    }
    tx.execute(
        "INSERT INTO shopkeep_cart_lines (cart_id, variant_id, quantity, seq, added_at)
         VALUES (?1, ?2, ?3,
                 (SELECT coalesce(max(seq), 0) + 1 FROM shopkeep_cart_lines WHERE cart_id = ?1),
                 ?4)
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity",
        args![cart, variant, quantity, tx.now()],
    )?;
    touch(tx, cart)
}

fn touch(tx: &Tx<'_>, cart: CartId) -> Result<()> {
    tx.execute(
        "UPDATE shopkeep_carts SET updated_at = ?2 WHERE id = ?1",
        args![cart, tx.now()],
    )?;
    Ok(())
}

/// A cart's lines, in the order they were added.
pub(crate) fn load(tx: &Tx<'_>, id: CartId) -> Result<Cart> {
    let customer: Option<CustomerId> = tx
        .query_opt(
            "SELECT customer_id FROM shopkeep_carts WHERE id = ?1",
            args![id],
            |r| r.get(0),
        )?
        .ok_or_else(no_such_cart)?;
    let lines = tx.query_map(
        "SELECT variant_id, quantity FROM shopkeep_cart_lines WHERE cart_id = ?1
         ORDER BY seq",
        args![id],
        |r| {
            Ok(CartLine {
                variant: r.get(0)?,
                quantity: r.get(1)?,
            })
        },
    )?;
    Ok(Cart {
        id,
        customer,
        lines,
    })
}

/// Empties a cart (after checkout).
pub(crate) fn empty(tx: &Tx<'_>, id: CartId) -> Result<()> {
    tx.execute(
        "DELETE FROM shopkeep_cart_lines WHERE cart_id = ?1",
        args![id],
    )?;
    touch(tx, id)
}
