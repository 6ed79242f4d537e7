//! Carts: the model (no SQL).

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use super::totals::{LineTotal, PricedLine, Totals};
use super::vat::VatTreatment;
use crate::access::CustomerId;
use crate::catalog::{ProductId, Sku, VariantId};
use crate::crypto::secret::random_array;
use crate::error::{Error, Result};
use crate::ids::define_id;
use crate::money::Money;

/// The most units of one variant a cart line may hold.
pub const MAX_QUANTITY: u32 = 10_000;
/// The most lines a cart may hold.
pub const MAX_CART_LINES: usize = 200;

define_id!(
    /// A cart's id.
    CartId,
    "cart_id"
);

/// The opaque token of an anonymous visitor's cart: 256 random bits for the host to keep in a
/// cookie. The store keeps only its keyed hash. Holding it is what gives access to the cart.
/// A secret: wiped on drop, redacted in `Debug`.
pub struct CartToken(Zeroizing<String>);

const PREFIX: &str = "skc_";

impl CartToken {
    /// The token as the host received it back (from a cookie).
    pub fn new(text: impl Into<String>) -> Self {
        CartToken(Zeroizing::new(text.into()))
    }

    pub(crate) fn generate() -> Result<Self> {
        let bytes = Zeroizing::new(random_array::<32>()?);
        Ok(CartToken(Zeroizing::new(format!(
            "{PREFIX}{}",
            Base64UrlUnpadded::encode_string(bytes.as_slice())
        ))))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CartToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CartToken([REDACTED])")
    }
}

/// Which cart an operation is on: a customer's own cart, or an anonymous visitor's by token.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum CartRef<'a> {
    /// The customer's cart (created on first use). Needs `PlaceOrder` on the customer.
    Customer(CustomerId),
    /// An anonymous visitor's cart: the token is the authority.
    Guest(&'a CartToken),
}

/// One line of a cart: a variant and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CartLine {
    pub(crate) variant: VariantId,
    pub(crate) quantity: u32,
}

impl CartLine {
    /// The variant.
    pub fn variant(&self) -> VariantId {
        self.variant
    }
    /// How many.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }
}

/// A cart and its lines, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Cart {
    pub(crate) id: CartId,
    pub(crate) customer: Option<CustomerId>,
    pub(crate) lines: Vec<CartLine>,
}

impl Cart {
    /// The cart's id.
    pub fn id(&self) -> CartId {
        self.id
    }
    /// Its customer, `None` for an anonymous cart.
    pub fn customer(&self) -> Option<CustomerId> {
        self.customer
    }
    /// Its lines.
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }
    /// Whether it has no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
    /// The digest of its lines, for [`Checkout::cart_digest`](super::Checkout::cart_digest):
    /// the host shows the customer this cart and sends its digest back with the checkout.
    pub fn digest(&self) -> CartDigest {
        CartDigest::of(&self.lines)
    }
}

/// What a customer saw in their cart: a SHA-256 digest of its lines (variant and quantity,
/// whatever their order), 64 hexadecimal digits as text. Not a secret: it says nothing that the
/// cart does not.
///
/// A checkout that carries it ([`Checkout::cart_digest`](super::Checkout::cart_digest)) buys
/// exactly those lines or fails, and its idempotency key stays bound to them: a replay of the
/// key with another digest is an `IdempotencyMismatch`, not the first order.
///
/// ```
/// use shopkeep::orders::CartDigest;
///
/// let text = "0".repeat(64);
/// assert_eq!(CartDigest::parse(&text)?.to_string(), text);
/// assert!(CartDigest::parse("not a digest").is_err());
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CartDigest([u8; 32]);

impl CartDigest {
    /// The digest of `lines`.
    pub(crate) fn of(lines: &[CartLine]) -> CartDigest {
        use sha2::{Digest, Sha256};
        let mut sorted: Vec<(String, u32)> = lines
            .iter()
            .map(|l| (l.variant.to_string(), l.quantity))
            .collect();
        sorted.sort();
        let mut hash = Sha256::new();
        hash.update(b"shopkeep cart v1\n");
        for (variant, quantity) in sorted {
            hash.update(format!("{variant} {quantity}\n").as_bytes());
        }
        CartDigest(hash.finalize().into())
    }

    /// Reads a digest from its text (as [`Display`](fmt::Display) writes it; either case).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `cart_digest`) for anything but 64 hexadecimal digits.
    pub fn parse(text: &str) -> Result<CartDigest> {
        let invalid = || Error::validation("cart_digest", "a cart digest is 64 hexadecimal digits");
        if text.len() != 64 {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(CartDigest(bytes))
    }
}

crate::serde_text::text_serde!(CartDigest, CartDigest::parse);

impl fmt::Display for CartDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CartDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CartDigest({self})")
    }
}

/// A new anonymous cart and its token (shown once: the store keeps only its hash).
#[derive(Debug)]
pub struct GuestCart {
    pub(crate) token: CartToken,
    pub(crate) cart: Cart,
}

impl GuestCart {
    /// The token to hand to the visitor.
    pub fn token(&self) -> &CartToken {
        &self.token
    }
    /// The (empty) cart.
    pub fn cart(&self) -> &Cart {
        &self.cart
    }
    /// Both, by value.
    pub fn into_parts(self) -> (CartToken, Cart) {
        (self.token, self.cart)
    }
}

/// The totals a cart would have if checked out now, computed by the same code as checkout
/// ([`Totals::compute`], with VAT decided for the customer's default shipping address, or for
/// the shop's own country for an anonymous cart).
///
/// An empty cart previews as zero totals in the requested currency, with no lines.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CartPreview {
    pub(crate) lines: Vec<PreviewLine>,
    pub(crate) discount: Money,
    pub(crate) totals: Totals,
}

impl CartPreview {
    /// The lines as priced now, in cart order, each with what a host shows of it.
    pub fn lines(&self) -> &[PreviewLine] {
        &self.lines
    }
    /// The coupon discount applied (zero without a coupon).
    pub fn discount(&self) -> Money {
        self.discount
    }
    /// The totals.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
}

/// One line of a [`CartPreview`]: what it is (variant, SKU, product name, as the order line
/// will name it), how many, and its price and share of the totals, so that a host renders the
/// line from itself instead of matching it with the cart's lines by position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PreviewLine {
    pub(crate) variant: VariantId,
    pub(crate) product: ProductId,
    pub(crate) sku: Sku,
    pub(crate) name: String,
    pub(crate) priced: PricedLine,
    pub(crate) total: LineTotal,
}

impl PreviewLine {
    /// The variant.
    pub fn variant(&self) -> VariantId {
        self.variant
    }
    /// The variant's product.
    pub fn product(&self) -> ProductId {
        self.product
    }
    /// The variant's SKU.
    pub fn sku(&self) -> &Sku {
        &self.sku
    }
    /// The product's name, as the order line will carry it.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// How many.
    pub fn quantity(&self) -> u32 {
        self.priced.quantity()
    }
    /// The unit price now (net or gross, per the shop's price mode).
    pub fn unit_price(&self) -> Money {
        self.priced.unit_price()
    }
    /// The VAT the line would be charged.
    pub fn vat(&self) -> &VatTreatment {
        self.priced.vat()
    }
    /// The line's share of the totals (its net, shown amount and discount share).
    pub fn total(&self) -> &LineTotal {
        &self.total
    }
}

/// Checks a cart quantity.
pub(crate) fn check_quantity(quantity: u32) -> Result<()> {
    if (1..=MAX_QUANTITY).contains(&quantity) {
        Ok(())
    } else {
        Err(Error::validation(
            "quantity",
            format!("a cart line holds 1 to {MAX_QUANTITY} units"),
        ))
    }
}
