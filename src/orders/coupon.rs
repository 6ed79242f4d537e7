//! Coupons: the model (no SQL).

use std::fmt;

use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::money::{Currency, Money};

/// A coupon code: 3 to 32 letters, digits, `-` or `_`, matched case-insensitively (kept
/// upper-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CouponCode(String);

impl CouponCode {
    /// Parses and upper-cases a code.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `coupon`) for a code that is too short, too long or holds
    /// other characters.
    pub fn parse(text: &str) -> Result<CouponCode> {
        let code = text.trim().to_ascii_uppercase();
        let ok = (3..=32).contains(&code.len())
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(CouponCode(code))
        } else {
            Err(Error::validation(
                "coupon",
                "a coupon code is 3 to 32 letters, digits, '-' or '_'",
            ))
        }
    }

    /// The code, upper-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_stored(text: String) -> CouponCode {
        CouponCode(text)
    }
}

impl fmt::Display for CouponCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a coupon takes off the order's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CouponValue {
    /// A percentage, in basis points (10 % is `1000`), rounded half up to the minor unit.
    Percent(u32),
    /// A fixed amount in one currency (at most the lines' total); orders in other currencies
    /// cannot use it.
    Fixed(Money),
}

/// A coupon: its value, conditions and use count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub(crate) code: CouponCode,
    pub(crate) value: CouponValue,
    pub(crate) min_subtotal: Option<Money>,
    pub(crate) valid_from: Option<Timestamp>,
    pub(crate) valid_until: Option<Timestamp>,
    pub(crate) max_uses: Option<u32>,
    pub(crate) max_per_customer: Option<u32>,
    pub(crate) uses: u32,
}

impl Coupon {
    /// A percentage coupon (basis points, 1 to 10,000).
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `coupon`) for a percentage outside 0.01 % to 100 %.
    pub fn percent(code: CouponCode, basis_points: u32) -> Result<Coupon> {
        if !(1..=10_000).contains(&basis_points) {
            return Err(Error::validation(
                "coupon",
                "a percentage coupon takes 0.01 % to 100 %",
            ));
        }
        Ok(Coupon::new(code, CouponValue::Percent(basis_points)))
    }

    /// A fixed-amount coupon.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `coupon`) for an amount that is not positive.
    pub fn fixed(code: CouponCode, amount: Money) -> Result<Coupon> {
        if amount.minor() <= 0 {
            return Err(Error::validation(
                "coupon",
                "a fixed coupon takes a positive amount",
            ));
        }
        Ok(Coupon::new(code, CouponValue::Fixed(amount)))
    }

    fn new(code: CouponCode, value: CouponValue) -> Coupon {
        Coupon {
            code,
            value,
            min_subtotal: None,
            valid_from: None,
            valid_until: None,
            max_uses: None,
            max_per_customer: None,
            uses: 0,
        }
    }

    /// The smallest lines' total (in the price mode's terms) it applies to; orders in another
    /// currency cannot use the coupon.
    #[must_use]
    pub fn min_subtotal(mut self, amount: Money) -> Self {
        self.min_subtotal = Some(amount);
        self
    }

    /// Valid from this instant (store clock).
    #[must_use]
    pub fn valid_from(mut self, at: Timestamp) -> Self {
        self.valid_from = Some(at);
        self
    }

    /// Valid until (excluding) this instant (store clock).
    #[must_use]
    pub fn valid_until(mut self, at: Timestamp) -> Self {
        self.valid_until = Some(at);
        self
    }

    /// Usable this many times in all.
    #[must_use]
    pub fn max_uses(mut self, uses: u32) -> Self {
        self.max_uses = Some(uses.max(1));
        self
    }

    /// Usable this many times by one customer.
    #[must_use]
    pub fn max_per_customer(mut self, uses: u32) -> Self {
        self.max_per_customer = Some(uses.max(1));
        self
    }

    /// The code.
    pub fn code(&self) -> &CouponCode {
        &self.code
    }
    /// What it takes off.
    pub fn value(&self) -> CouponValue {
        self.value
    }
    /// The minimum lines' total.
    pub fn minimum(&self) -> Option<Money> {
        self.min_subtotal
    }
    /// The start of its validity window.
    pub fn starts(&self) -> Option<Timestamp> {
        self.valid_from
    }
    /// The end of its validity window.
    pub fn ends(&self) -> Option<Timestamp> {
        self.valid_until
    }
    /// Its total usage limit.
    pub fn usage_limit(&self) -> Option<u32> {
        self.max_uses
    }
    /// Its per-customer usage limit.
    pub fn per_customer_limit(&self) -> Option<u32> {
        self.max_per_customer
    }
    /// How many orders used it.
    pub fn uses(&self) -> u32 {
        self.uses
    }

    /// The discount on a lines' total `subtotal` at `now`, or the reason it does not apply.
    pub(crate) fn discount(&self, subtotal: Money, now: Timestamp) -> Result<Money> {
        let invalid = |msg: &str| Error::validation("coupon", msg.to_owned());
        if self.valid_from.is_some_and(|from| now < from) {
            return Err(invalid("the coupon is not valid yet"));
        }
        if self.valid_until.is_some_and(|until| now >= until) {
            return Err(invalid("the coupon has expired"));
        }
        if self.max_uses.is_some_and(|max| self.uses >= max) {
            return Err(invalid("the coupon has been used up"));
        }
        let currency = subtotal.currency();
        if let Some(min) = self.min_subtotal
            && (min.currency() != currency || subtotal.minor() < min.minor())
        {
            return Err(Error::validation(
                "coupon",
                format!(
                    "the coupon needs a subtotal of at least {} {}",
                    min.to_decimal_string(),
                    min.currency()
                ),
            ));
        }
        match self.value {
            CouponValue::Percent(bp) => {
                let raw = i128::from(subtotal.minor()) * i128::from(bp);
                let minor = (raw + 5_000) / 10_000;
                let minor = i64::try_from(minor)
                    .map_err(|_| Error::new(ErrorKind::Overflow, "discount overflow"))?;
                Ok(Money::new(minor.min(subtotal.minor()), currency))
            }
            CouponValue::Fixed(amount) => {
                if amount.currency() != currency {
                    return Err(Error::new(
                        ErrorKind::CurrencyMismatch,
                        format!("the coupon is for orders in {}", amount.currency()),
                    ));
                }
                Ok(Money::new(amount.minor().min(subtotal.minor()), currency))
            }
        }
    }
}

pub(crate) fn currency_of(value: CouponValue) -> Option<Currency> {
    match value {
        CouponValue::Percent(_) => None,
        CouponValue::Fixed(m) => Some(m.currency()),
    }
}
