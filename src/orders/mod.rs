//! Orders: carts, checkout, coupons, placed orders, VAT treatment and totals.
//!
//! - [`CartRepo`] ([`Store::carts`](crate::Store::carts)): customers' and anonymous visitors'
//!   carts, with a totals preview computed by the same code as checkout;
//! - [`OrderRepo`] ([`Store::orders`](crate::Store::orders)): [`Checkout`] (idempotent, one
//!   transaction, oversell-proof), reading orders, and their lifecycle: payment ([`Payment`]),
//!   shipping ([`Shipment`]), completion, cancellation, expiry and refunds ([`Refund`]);
//! - [`CouponRepo`] ([`Store::coupons`](crate::Store::coupons)): coupon codes.
//!
//! The [orders guide](crate::guide::orders) covers checkout and the lifecycle; the
//! [crate-level example](crate#the-whole-flow) goes from a cart to a shipped order.
//!
//! ```
//! use shopkeep::catalog::TaxCategory;
//! use shopkeep::orders::{CartRef, Checkout, IdempotencyKey, Payment, Shipping};
//! use shopkeep::{Currency, Money, Principal, Store};
//!
//! # fn demo(store: &Store, ana: &Principal, mug: shopkeep::catalog::VariantId)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let me = ana.customer_id().ok_or("not a customer")?;
//! store.carts(ana).add(CartRef::Customer(me), mug, 2)?;
//! let postage = Money::parse("4.90", Currency::EUR)?;
//! let dhl = Shipping::new("DHL Paket", postage, TaxCategory::Standard)?;
//! // The key is the client's request id: a retry returns the same order.
//! let request = Checkout::from_cart(me, IdempotencyKey::new("req-7f3a")?).shipping(dhl);
//! let order = store.orders(ana).checkout(request)?.into_order();
//! // Later, when the payment gateway confirms it:
//! store.orders(&store.system()).mark_paid(order.id(), Payment::new("pi_3Nx2", order.total())?)?;
//! # Ok(()) }
//! ```

mod cart;
mod cart_repo;
mod checkout;
mod confirmation;
mod coupon;
mod coupon_repo;
mod lifecycle;
mod lifecycle_repo;
mod netting;
mod order;
mod order_repo;
mod pricing;
mod refund;
pub(crate) mod refund_repo;
mod totals;
mod vat;
pub(crate) mod vat_rules;

pub use cart::{
    Cart, CartDigest, CartId, CartLine, CartPreview, CartRef, CartToken, GuestCart, MAX_CART_LINES,
    MAX_QUANTITY, PreviewLine,
};
pub use cart_repo::CartRepo;
pub use checkout::{
    Checkout, CheckoutOutcome, IDEMPOTENCY_RETENTION, IdempotencyKey, OrderRepo, Shipping,
};
pub use confirmation::{Confirmation, Templates};
pub use coupon::{Coupon, CouponCode, CouponValue};
pub use coupon_repo::CouponRepo;
pub use lifecycle::{EXPIRY_BATCH, Payment, PaymentRecord, Shipment};
pub use order::{
    BuyerSnapshot, Order, OrderCharge, OrderId, OrderLine, OrderNumber, OrderPage, OrderQuery,
    OrderStatus, OrderVat,
};
pub use refund::{Refund, RefundId, RefundRecord, RefundedLine};
/// A customer's orders, oldest first, for their GDPR export: the one way another domain reads
/// orders (the customers' export calls it inside its own authorised transaction).
///
/// # Errors
///
/// `Crypto` if a buyer snapshot cannot be decrypted; `Storage` for a malformed stored order.
pub(crate) fn orders_for_export(
    tx: &crate::store::Tx<'_>,
    store: &crate::store::Store,
    customer: crate::access::CustomerId,
) -> crate::error::Result<Vec<Order>> {
    order_repo::for_customer(tx, store, customer)
}

pub use totals::{Charge, LineTotal, PriceMode, PricedLine, Totals, VatGroup};
pub use vat::{VatCategory, VatTreatment};

pub(crate) use lifecycle::record_payment;
pub(crate) use lifecycle_repo::paid_by as order_paid_by;
pub(crate) use lifecycle_repo::payment as order_payment;
pub(crate) use netting::{Invoiced, LineCredit, credit_totals};
pub(crate) use order_repo::{
    load as load_order, open_snapshot_at, owner as order_owner, seal_snapshot_at,
    treatment as stored_treatment,
};
