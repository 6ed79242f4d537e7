//! Orders: carts, checkout, coupons, placed orders, VAT treatment and totals.
//!
//! - [`CartRepo`] ([`Store::carts`](crate::Store::carts)): customers' and anonymous visitors'
//!   carts, with a totals preview computed by the same code as checkout;
//! - [`OrderRepo`] ([`Store::orders`](crate::Store::orders)): [`Checkout`] (idempotent, one
//!   transaction, oversell-proof) and reading orders;
//! - [`CouponRepo`] ([`Store::coupons`](crate::Store::coupons)): coupon codes.
//!
//! See `docs/orders.md`.

mod cart;
mod cart_repo;
mod checkout;
// Checkout builds confirmations from placed orders; until then only the tests do.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod confirmation;
mod coupon;
mod coupon_repo;
mod order;
mod order_repo;
mod pricing;
mod totals;
mod vat;
pub(crate) mod vat_rules;

pub use cart::{
    Cart, CartId, CartLine, CartPreview, CartRef, CartToken, GuestCart, MAX_CART_LINES,
    MAX_QUANTITY,
};
pub use cart_repo::CartRepo;
pub use checkout::{Checkout, IDEMPOTENCY_RETENTION, IdempotencyKey, OrderRepo};
pub use confirmation::{Confirmation, Templates};
pub use coupon::{Coupon, CouponCode, CouponValue};
pub use coupon_repo::CouponRepo;
pub use order::{
    BuyerSnapshot, Order, OrderId, OrderLine, OrderNumber, OrderPage, OrderQuery, OrderStatus,
    OrderVat,
};
pub use totals::{Charge, LineTotal, PriceMode, PricedLine, Totals, VatGroup};
pub use vat::{VatCategory, VatTreatment};
