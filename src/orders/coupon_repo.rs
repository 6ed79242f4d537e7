//! Coupons: the SQL. Staff create and list them; checkout applies and counts them inside its
//! own transaction.

use super::coupon::{Coupon, CouponCode, CouponValue, currency_of};
use super::order::OrderId;
use crate::access::{Action, CustomerId, Principal, Resource};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};
use crate::sql::{Row, args};
use crate::store::{Store, Tx};

/// Coupon codes, for one acting principal. From [`Store::coupons`].
#[derive(Debug)]
pub struct CouponRepo<'s> {
    store: &'s Store,
    principal: &'s Principal,
}

impl Store {
    /// The coupons, as seen by `principal`.
    pub fn coupons<'s>(&'s self, principal: &'s Principal) -> CouponRepo<'s> {
        CouponRepo {
            store: self,
            principal,
        }
    }
}

impl CouponRepo<'_> {
    /// Creates a coupon. Needs [`Action::ManageCoupons`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `AlreadyExists` if the code exists (in any case).
    pub fn create(&self, coupon: &Coupon) -> Result<Coupon> {
        self.store.write(|tx| {
            tx.authorize(self.principal, Action::ManageCoupons, &Resource::Coupons)?;
            let (kind, bp, amount) = match coupon.value {
                CouponValue::Percent(bp) => ("percent", Some(bp), None),
                CouponValue::Fixed(m) => ("fixed", None, Some(m.minor())),
            };
            let currency = currency_of(coupon.value).map(Currency::code);
            let inserted = tx.execute(
                "INSERT INTO shopkeep_coupons (code, kind, percent_bp, amount, currency,
                     min_subtotal, valid_from, valid_until, max_uses, max_per_customer,
                     created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (code) DO NOTHING",
                args![
                    coupon.code.as_str(),
                    kind,
                    bp,
                    amount,
                    currency,
                    coupon.min_subtotal.map_or(0, Money::minor),
                    coupon.valid_from,
                    coupon.valid_until,
                    coupon.max_uses,
                    coupon.max_per_customer,
                    tx.now()
                ],
            )?;
            if inserted == 0 {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    "a coupon with this code exists",
                ));
            }
            tx.audit(self.principal, Action::ManageCoupons, &Resource::Coupons)?;
            find(tx, &coupon.code)?.ok_or_else(no_such_coupon)
        })
    }

    /// Lists every coupon, by code. Needs [`Action::ManageCoupons`].
    ///
    /// # Errors
    ///
    /// `Forbidden` without the right; `Storage` if the database cannot be read.
    pub fn list(&self) -> Result<Vec<Coupon>> {
        self.store.read(|tx| {
            tx.authorize(self.principal, Action::ManageCoupons, &Resource::Coupons)?;
            tx.query_map(&format!("{SELECT} ORDER BY code"), args![], row)
        })
    }
}

const SELECT: &str = "SELECT code, kind, percent_bp, amount, currency, min_subtotal, valid_from,
    valid_until, max_uses, max_per_customer, uses FROM shopkeep_coupons";

type Raw = (
    String,
    String,
    Option<u32>,
    Option<i64>,
    Option<String>,
    i64,
    Option<Timestamp>,
    Option<Timestamp>,
    Option<u32>,
    Option<u32>,
    u32,
);

fn row(r: &Row<'_>) -> Result<Coupon> {
    let raw: Raw = (
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    );
    decode(raw)
}

fn decode(raw: Raw) -> Result<Coupon> {
    let (code, kind, bp, amount, currency, min, from, until, max_uses, per_customer, uses) = raw;
    let value = match (kind.as_str(), bp, amount, currency) {
        ("percent", Some(bp), _, _) => CouponValue::Percent(bp),
        ("fixed", _, Some(amount), Some(currency)) => {
            CouponValue::Fixed(Money::new(amount, Currency::from_code(&currency)?))
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Storage,
                "a stored coupon is malformed",
            ));
        }
    };
    let min_subtotal = match value {
        _ if min == 0 => None,
        CouponValue::Fixed(m) => Some(Money::new(min, m.currency())),
        // A percentage coupon's minimum is in the order's currency; see `apply`.
        CouponValue::Percent(_) => Some(Money::new(min, Currency::EUR)),
    };
    Ok(Coupon {
        code: CouponCode::from_stored(code),
        value,
        min_subtotal,
        valid_from: from,
        valid_until: until,
        max_uses,
        max_per_customer: per_customer,
        uses,
    })
}

fn find(tx: &Tx<'_>, code: &CouponCode) -> Result<Option<Coupon>> {
    tx.query_opt(
        &format!("{SELECT} WHERE code = ?1"),
        args![code.as_str()],
        row,
    )
}

fn no_such_coupon() -> Error {
    Error::new(ErrorKind::NotFound, "no such coupon")
}

/// The discount `code` gives a lines' total of `subtotal` for `customer` now, checking its
/// window, minimum, usage limit and the customer's own uses. Writes nothing.
///
/// # Errors
///
/// `NotFound` for an unknown code; `Validation` (field `coupon`) if it is not valid now, is
/// used up, the customer used it as often as allowed, or the subtotal is under its minimum; `CurrencyMismatch` for a fixed coupon of another currency.
pub(crate) fn apply(
    tx: &Tx<'_>,
    code: &CouponCode,
    customer: Option<CustomerId>,
    subtotal: Money,
) -> Result<Money> {
    let mut coupon = find(tx, code)?.ok_or_else(no_such_coupon)?;
    // Minimums of percentage coupons are in the order's currency.
    if let (CouponValue::Percent(_), Some(min)) = (coupon.value, coupon.min_subtotal) {
        coupon.min_subtotal = Some(Money::new(min.minor(), subtotal.currency()));
    }
    let discount = coupon.discount(subtotal, tx.now())?;
    if let (Some(max), Some(customer)) = (coupon.max_per_customer, customer) {
        let used: u32 = tx.query_row(
            "SELECT count(*) FROM shopkeep_coupon_uses WHERE code = ?1 AND customer_id = ?2",
            args![code.as_str(), customer],
            |r| r.get(0),
        )?;
        if used >= max {
            return Err(Error::validation(
                "coupon",
                "the customer has used this coupon as often as allowed",
            ));
        }
    }
    Ok(discount)
}

/// Counts one use of `code` by `customer` for `order`, atomically: the count only grows while
/// it is under the limit.
///
/// # Errors
///
/// `Validation` (field `coupon`) if the coupon is used up.
pub(crate) fn record_use(
    tx: &Tx<'_>,
    code: &CouponCode,
    customer: CustomerId,
    order: OrderId,
) -> Result<()> {
    let changed = tx.execute(
        "UPDATE shopkeep_coupons SET uses = uses + 1
             WHERE code = ?1 AND (max_uses IS NULL OR uses < max_uses)",
        args![code.as_str()],
    )?;
    if changed != 1 {
        return Err(Error::validation("coupon", "the coupon has been used up"));
    }
    tx.execute(
        "INSERT INTO shopkeep_coupon_uses (code, customer_id, order_id) VALUES (?1, ?2, ?3)",
        args![code.as_str(), customer, order],
    )?;
    Ok(())
}
