//! Exact money: integer minor units, ISO 4217 currencies, explicit rounding.
//!
//! # Why integer minor units
//!
//! A [`Money`] is a count of the currency's *minor unit* (cents for EUR, fils for KWD, whole
//! yen for JPY) in an `i64`, together with its [`Currency`]. `12.90 EUR` is stored as
//! `1290` and `EUR`. Integers add, subtract and multiply exactly, so `0.10 + 0.20` is
//! `0.30`, totals computed in any order agree to the cent, and what is written to the database
//! is what was computed. An `i64` holds about ±92 quadrillion euros, far more than any order.
//!
//! # Why no floats, anywhere
//!
//! Binary floating point cannot represent most decimal fractions: `0.1_f64 + 0.2_f64` is
//! `0.30000000000000004`. The error is small, but it makes totals depend on the order of
//! addition, turns an exact half into "a bit less than half" before rounding, and lets invoice
//! lines fail to add up to the invoice total. So no `f32`/`f64` appears in this module's API or
//! in its serialized form: amounts travel as decimal *strings* (`"12.90"`), parsed exactly by
//! [`Money::parse`], which rejects rather than rounds anything finer than the minor unit.
//!
//! # Rounding
//!
//! Only division (a tax share, a proportion) can produce fractions of a minor unit, and each
//! such operation takes a [`Rounding`] mode so that the choice is explicit:
//!
//! * [`Rounding::HalfUp`] (the default), commercial rounding: a half goes away from zero, so
//!   `0.125 → 0.13` and `-0.125 → -0.13`. This is the usual rule for VAT amounts.
//! * [`Rounding::HalfEven`], banker's rounding: a half goes to the even neighbour, so
//!   `0.125 → 0.12` and `0.135 → 0.14`; over many roundings the halves cancel out on average.
//!
//! Anything other than an exact half rounds to the nearest minor unit in both modes.
//!
//! # Taxes
//!
//! A [`TaxRate`] is held in basis points (hundredths of a percent: 19 % is `1900`, 5.5 % is
//! `550`). [`TaxRate::tax_on`] computes the tax on a net amount; [`TaxRate::split_gross`]
//! splits a tax-inclusive amount into net and tax so that `net + tax == gross` exactly.
//!
//! # Splitting without losing a cent
//!
//! Dividing 100.00 into three equal parts cannot give three equal amounts. [`Money::split`]
//! uses the *largest-remainder method*: every part first gets its exact proportional share
//! rounded down, then the few minor units left over go, one each, to the parts whose
//! rounded-down share lost the most (the largest remainders; on a tie, the earlier part).
//! The parts always add up exactly to the whole, and each part differs from its exact share by
//! less than one minor unit.
//!
//! ```
//! use shopkeep::{Currency, Money};
//! use shopkeep::money::{Rounding, TaxRate};
//!
//! let price = Money::parse("19.99", Currency::EUR)?;
//! let total = price.checked_mul(3)?;
//! assert_eq!(total.to_string(), "59.97 EUR");
//!
//! let vat = TaxRate::parse("19")?.tax_on(total, Rounding::HalfUp)?;
//! assert_eq!(vat.to_decimal_string(), "11.39"); // 11.3943 rounded
//!
//! let shares = Money::parse("100.00", Currency::EUR)?.split(&[1, 1, 1])?;
//! let shares: Vec<String> = shares.iter().map(|m| m.to_decimal_string()).collect();
//! assert_eq!(shares, ["33.34", "33.33", "33.33"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod currency;

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, ErrorKind, Result};

pub use currency::Currency;

/// An exact amount of money: a signed count of the currency's minor unit.
///
/// `Money` never uses floating point, never wraps on overflow and never panics: every operation
/// that could leave the `i64` range or mix currencies returns an error instead.
///
/// `Display` gives `"12.90 EUR"`. With serde, a `Money` is the object
/// `{"amount":"12.90","currency":"EUR"}`: the amount is a decimal string with exactly as many
/// decimals as the currency has, never a JSON number. Deserializing runs [`Money::parse`], so it
/// rejects numbers, too many decimals, unknown currencies and unknown fields.
///
/// ```
/// use shopkeep::{Currency, Money};
///
/// let a = Money::parse("12.90", Currency::EUR)?;
/// assert_eq!(a.minor(), 1290);
/// let b = Money::new(-5, Currency::EUR);
/// assert_eq!(a.checked_add(b)?.to_string(), "12.85 EUR");
/// assert!(a.checked_add(Money::new(1, Currency::USD)).is_err());
///
/// let json = serde_json::to_string(&a)?;
/// assert_eq!(json, r#"{"amount":"12.90","currency":"EUR"}"#);
/// assert_eq!(serde_json::from_str::<Money>(&json)?, a);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `minor` minor units: `Money::new(1290, Currency::EUR)` is 12.90 EUR.
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// Whether the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// `self + other`.
    ///
    /// # Errors
    ///
    /// `CurrencyMismatch` if the currencies differ; `Overflow` if the sum does not fit.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.same_currency(other, "add")?;
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| overflow(format!("{self} + {other}")))
    }

    /// `self - other`.
    ///
    /// # Errors
    ///
    /// `CurrencyMismatch` if the currencies differ; `Overflow` if the difference does not fit.
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.same_currency(other, "subtract")?;
        self.minor
            .checked_sub(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| overflow(format!("{self} - {other}")))
    }

    /// `-self`.
    ///
    /// # Errors
    ///
    /// `Overflow` for the one amount whose negation does not fit, `i64::MIN` minor units.
    pub fn checked_neg(self) -> Result<Money> {
        self.minor
            .checked_neg()
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| overflow(format!("-({self})")))
    }

    /// `self × qty`, for a unit price times a quantity.
    ///
    /// # Errors
    ///
    /// `Overflow` if the product does not fit.
    pub fn checked_mul(self, qty: i64) -> Result<Money> {
        self.minor
            .checked_mul(qty)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| overflow(format!("{self} × {qty}")))
    }

    /// The absolute value.
    ///
    /// # Errors
    ///
    /// `Overflow` for `i64::MIN` minor units, whose absolute value does not fit.
    pub fn abs(self) -> Result<Money> {
        self.minor
            .checked_abs()
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| overflow(format!("|{self}|")))
    }

    /// The sum of `items`, all of which must be in `currency`; zero for no items.
    ///
    /// Only the final total has to fit in an `i64`: the running total is kept in an `i128`, so
    /// the result does not depend on the order of the items.
    ///
    /// ```
    /// use shopkeep::{Currency, Money};
    ///
    /// let lines = [Money::new(1290, Currency::EUR), Money::new(-90, Currency::EUR)];
    /// assert_eq!(Money::sum(Currency::EUR, lines)?, Money::new(1200, Currency::EUR));
    /// assert!(Money::sum(Currency::EUR, [Money::new(1, Currency::USD)]).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `CurrencyMismatch` if an item is in another currency; `Overflow` if the total does not fit.
    pub fn sum<I: IntoIterator<Item = Money>>(currency: Currency, items: I) -> Result<Money> {
        let zero = Money::zero(currency);
        let mut total: i128 = 0;
        for item in items {
            zero.same_currency(item, "add")?;
            total = total
                .checked_add(i128::from(item.minor))
                .ok_or_else(|| overflow(format!("the sum of {currency} amounts")))?;
        }
        Money::from_i128(total, currency)
    }

    /// Parses a decimal amount such as `"12.90"` or `"-0.05"` in `currency`, exactly.
    ///
    /// The accepted form is: an optional leading `-`, one or more ASCII digits, and optionally
    /// a `.` followed by one up to [`exponent`](Currency::exponent) digits. So for EUR `"12.9"`
    /// and `"12.90"` are both 1290 cents, and for JPY no `.` is allowed at all. Leading zeros
    /// are accepted; `"-0"` is zero. Nothing else is: no `+`, no spaces, no thousands
    /// separators, no exponent, no digits other than ASCII `0`–`9`, and no `.` without digits
    /// on both sides. Input with more decimals than the currency has is an error, never rounded:
    /// rounding is a business decision that must be made explicitly.
    ///
    /// ```
    /// use shopkeep::{Currency, Money};
    ///
    /// assert_eq!(Money::parse("12.9", Currency::EUR)?.minor(), 1290);
    /// assert_eq!(Money::parse("-1.234", Currency::KWD)?.minor(), -1234);
    /// assert_eq!(Money::parse("1200", Currency::JPY)?.minor(), 1200);
    /// assert!(Money::parse("12.999", Currency::EUR).is_err());
    /// assert!(Money::parse("1,50", Currency::EUR).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A `Validation { field: "amount" }` error if the text is not of the form above, has more
    /// decimals than the currency, or is out of the range of an `i64` of minor units.
    pub fn parse(s: &str, currency: Currency) -> Result<Money> {
        let exponent = currency.exponent();
        let (negative, magnitude) = parse_decimal(s, exponent).map_err(|problem| {
            let message = match problem {
                DecimalError::Syntax(message) => message.to_owned(),
                DecimalError::NoFractionAllowed => {
                    format!("{currency} has no minor unit: an amount is a whole number")
                }
                DecimalError::TooManyDecimals => {
                    format!("a {currency} amount has at most {exponent} decimal places")
                }
                DecimalError::TooLarge => out_of_range_message(currency),
            };
            Error::validation("amount", message)
        })?;
        let magnitude = i128::from(magnitude);
        let minor = if negative { -magnitude } else { magnitude };
        i64::try_from(minor)
            .map(|minor| Money::new(minor, currency))
            .map_err(|_| Error::validation("amount", out_of_range_message(currency)))
    }

    /// The amount as a decimal string with exactly [`exponent`](Currency::exponent) decimals
    /// and no currency: `"12.90"`, `"-0.05"`, `"1200"` for JPY, `"1.234"` for KWD.
    ///
    /// This is the form [`Money::parse`] reads back and the form serde writes.
    pub fn to_decimal_string(self) -> String {
        let exponent = self.currency.exponent();
        // unsigned_abs, because the magnitude of i64::MIN does not fit in an i64.
        let magnitude = self.minor.unsigned_abs();
        let sign = if self.minor < 0 { "-" } else { "" };
        if exponent == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10_u64.pow(u32::from(exponent));
        let width = usize::from(exponent);
        format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
    }

    /// Splits the amount into parts proportional to `weights`, by the largest-remainder method
    /// (see the [module documentation](self)).
    ///
    /// The parts always add up exactly to `self`; each differs from its exact proportional
    /// share by less than one minor unit; a zero weight gets a zero part. Minor units left over
    /// after rounding down go to the largest remainders, and on equal remainders to the earlier
    /// weight. A negative amount is split like its absolute value, then every part negated, so
    /// splitting is symmetric around zero. Any `i64` amount and any `u64` weights are handled
    /// without overflow.
    ///
    /// ```
    /// use shopkeep::{Currency, Money};
    ///
    /// let parts = Money::new(-1000, Currency::EUR).split(&[1, 0, 2])?;
    /// let minors: Vec<i64> = parts.iter().map(|m| m.minor()).collect();
    /// assert_eq!(minors, [-333, 0, -667]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A `Validation { field: "weights" }` error if `weights` is empty or all zero.
    pub fn split(self, weights: &[u64]) -> Result<Vec<Money>> {
        if weights.is_empty() {
            return Err(Error::validation(
                "weights",
                "splitting needs at least one weight",
            ));
        }
        let total = weights
            .iter()
            .try_fold(0_u128, |acc, &w| acc.checked_add(u128::from(w)))
            .ok_or_else(|| Error::validation("weights", "the sum of the weights is too large"))?;
        if total == 0 {
            return Err(Error::validation(
                "weights",
                "at least one weight must be greater than zero",
            ));
        }

        // |amount| < 2^64 and each weight < 2^64, so every product fits in a u128.
        let whole = u128::from(self.minor.unsigned_abs());
        let mut parts: Vec<u128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
        let mut assigned: u128 = 0;
        for (index, &weight) in weights.iter().enumerate() {
            let product = whole * u128::from(weight);
            let share = product / total;
            parts.push(share);
            remainders.push((product % total, index));
            assigned += share;
        }

        // The remainders add up to `total × leftover`, each is below `total`, so there are more
        // non-zero remainders than leftover units: zero weights never receive one.
        let leftover = usize::try_from(whole - assigned)
            .map_err(|_| overflow("splitting left more units over than there are parts"))?;
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, index) in remainders.iter().take(leftover) {
            if let Some(part) = parts.get_mut(index) {
                *part += 1;
            }
        }

        parts
            .into_iter()
            .map(|part| {
                // part <= |amount| <= 2^63, so it fits in an i128 and, with the sign, in an i64.
                let part = i128::try_from(part).map_err(|_| overflow("a split part"))?;
                let part = if self.minor < 0 { -part } else { part };
                Money::from_i128(part, self.currency)
            })
            .collect()
    }

    fn from_i128(minor: i128, currency: Currency) -> Result<Money> {
        i64::try_from(minor)
            .map(|minor| Money::new(minor, currency))
            .map_err(|_| overflow(format!("an amount of {minor} {currency} minor units")))
    }

    fn same_currency(self, other: Money, operation: &str) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::CurrencyMismatch,
                format!(
                    "cannot {operation} {} and {} amounts",
                    self.currency, other.currency
                ),
            ))
        }
    }
}

fn overflow(what: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Overflow,
        format!("{what} is out of range (amounts are 64-bit counts of minor units)"),
    )
}

fn out_of_range_message(currency: Currency) -> String {
    format!(
        "the amount is out of range: {currency} amounts must lie between {} and {}",
        Money::new(i64::MIN, currency).to_decimal_string(),
        Money::new(i64::MAX, currency).to_decimal_string(),
    )
}

/// `"12.90 EUR"`: the [decimal string](Money::to_decimal_string), a space, the currency code.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[derive(Serialize)]
#[serde(rename = "Money")]
struct MoneyOut {
    amount: String,
    currency: Currency,
}

#[derive(Deserialize)]
#[serde(rename = "Money", deny_unknown_fields)]
struct MoneyIn {
    amount: String,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        MoneyOut {
            amount: self.to_decimal_string(),
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Money, D::Error> {
        let raw = MoneyIn::deserialize(deserializer)?;
        Money::parse(&raw.amount, raw.currency).map_err(|e| de::Error::custom(e.message()))
    }
}

/// How to round a result that falls between two minor units.
///
/// Only an exact half is affected by the choice: anything else rounds to the nearest minor
/// unit. Both modes are symmetric around zero, so `round(-x) == -round(x)`.
///
/// | exact value | `HalfUp` | `HalfEven` |
/// |-------------|----------|------------|
/// | 0.125       | 0.13     | 0.12       |
/// | 0.135       | 0.14     | 0.14       |
/// | -0.125      | -0.13    | -0.12      |
/// | 0.1251      | 0.13     | 0.13       |
///
/// The enum is `#[non_exhaustive]`: more modes may be added.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum Rounding {
    /// Commercial rounding: a half goes away from zero (0.5 → 1, -0.5 → -1). The default.
    #[default]
    HalfUp,
    /// Banker's rounding: a half goes to the even neighbour (0.5 → 0, 1.5 → 2, 2.5 → 2).
    HalfEven,
}

/// `numerator / denominator`, rounded to the nearest integer with `rounding`.
///
/// The exact quotient is never formed as a fraction: the remainder is compared with the rest
/// of the denominator, which cannot overflow for any `i128` inputs.
///
/// # Errors
///
/// A `Validation { field: "denominator" }` error if `denominator` is not positive; callers
/// within the crate pass constants or sums of non-negative values, so this signals a bug.
pub(crate) fn div_round(numerator: i128, denominator: i128, rounding: Rounding) -> Result<i128> {
    if denominator <= 0 {
        return Err(Error::validation(
            "denominator",
            "a rounded division needs a positive denominator",
        ));
    }
    let (Some(quotient), Some(remainder)) = (
        numerator.checked_div(denominator),
        numerator.checked_rem(denominator),
    ) else {
        return Err(overflow("a rounded division"));
    };
    let remainder = remainder.unsigned_abs();
    let rest = denominator.unsigned_abs() - remainder;
    let away_from_zero = match remainder.cmp(&rest) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => match rounding {
            Rounding::HalfUp => true,
            Rounding::HalfEven => quotient % 2 != 0,
        },
    };
    // The quotient is truncated towards zero, so "away from zero" is one step in the sign's
    // direction. A denominator of at least 2 (needed for a non-zero remainder) keeps that in range.
    Ok(match (away_from_zero, numerator < 0) {
        (false, _) => quotient,
        (true, false) => quotient + 1,
        (true, true) => quotient - 1,
    })
}

/// A tax rate as a percentage with up to two decimals, held exactly in basis points.
///
/// One basis point is a hundredth of a percent: 19 % is `1900`, 5.5 % is `550`. Rates lie
/// between 0 % and 100 % inclusive.
///
/// `Display` gives the shortest form with a percent sign (`"19%"`, `"5.5%"`, `"0%"`);
/// [`to_percent_string`](TaxRate::to_percent_string) gives two fixed decimals without the sign
/// (`"19.00"`), as EN 16931 / UBL write percentages. With serde a rate is that fixed string,
/// and deserializing runs [`TaxRate::parse`].
///
/// ```
/// use shopkeep::{Currency, Money};
/// use shopkeep::money::{Rounding, TaxRate};
///
/// let rate = TaxRate::parse("5.5")?;
/// assert_eq!(rate.basis_points(), 550);
/// assert_eq!(rate.to_string(), "5.5%");
/// assert_eq!(rate.to_percent_string(), "5.50");
///
/// let gross = Money::parse("10.55", Currency::EUR)?;
/// let (net, tax) = rate.split_gross(gross, Rounding::HalfUp)?;
/// assert_eq!((net.minor(), tax.minor()), (1000, 55));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TaxRate {
    basis_points: u32,
}

/// Basis points in 100 %.
const FULL_RATE: u32 = 10_000;

impl TaxRate {
    /// 0 %.
    pub const ZERO: TaxRate = TaxRate { basis_points: 0 };

    /// A rate of `basis_points` hundredths of a percent: `1900` is 19 %.
    ///
    /// # Errors
    ///
    /// A `Validation { field: "tax_rate" }` error above 10 000 (100 %).
    pub fn from_basis_points(basis_points: u32) -> Result<TaxRate> {
        if basis_points > FULL_RATE {
            return Err(Error::validation(
                "tax_rate",
                "a tax rate must lie between 0% and 100%",
            ));
        }
        Ok(TaxRate { basis_points })
    }

    /// Parses a percentage such as `"19"`, `"5.5"`, `"0"` or `"7.00"`.
    ///
    /// The form is one or more ASCII digits, optionally followed by `.` and one or two digits;
    /// no sign, no `%`, no spaces. The value must lie between 0 and 100.
    ///
    /// # Errors
    ///
    /// A `Validation { field: "tax_rate" }` error for any other text, more than two decimals,
    /// or a value above 100.
    pub fn parse(s: &str) -> Result<TaxRate> {
        let (negative, basis_points) = parse_decimal(s, 2).map_err(|problem| {
            let message = match problem {
                DecimalError::Syntax(message) => message,
                DecimalError::NoFractionAllowed | DecimalError::TooManyDecimals => {
                    "a tax rate has at most 2 decimal places"
                }
                DecimalError::TooLarge => "a tax rate must lie between 0% and 100%",
            };
            Error::validation("tax_rate", message)
        })?;
        if negative {
            return Err(Error::validation(
                "tax_rate",
                "a tax rate cannot be negative",
            ));
        }
        u32::try_from(basis_points)
            .map_err(|_| Error::validation("tax_rate", "a tax rate must lie between 0% and 100%"))
            .and_then(TaxRate::from_basis_points)
    }

    /// The rate in basis points (hundredths of a percent).
    pub fn basis_points(self) -> u32 {
        self.basis_points
    }

    /// Whether the rate is 0 %.
    pub fn is_zero(self) -> bool {
        self.basis_points == 0
    }

    /// The percentage with exactly two decimals and no percent sign: `"19.00"`, `"5.50"`,
    /// `"0.00"`, as EN 16931 / UBL write a `Percent`.
    pub fn to_percent_string(self) -> String {
        format!("{}.{:02}", self.basis_points / 100, self.basis_points % 100)
    }

    /// The tax on a net amount: `net × rate`, rounded to a minor unit with `rounding`.
    ///
    /// ```
    /// use shopkeep::{Currency, Money};
    /// use shopkeep::money::{Rounding, TaxRate};
    ///
    /// let rate = TaxRate::from_basis_points(1900)?;
    /// let net = Money::new(150, Currency::EUR); // 1.50 × 19 % = 0.285 exactly
    /// assert_eq!(rate.tax_on(net, Rounding::HalfUp)?.minor(), 29);
    /// assert_eq!(rate.tax_on(net, Rounding::HalfEven)?.minor(), 28);
    /// let net = Money::new(1234, Currency::EUR); // 12.34 × 19 % = 2.3446
    /// assert_eq!(rate.tax_on(net, Rounding::HalfUp)?.minor(), 234);
    /// assert_eq!(rate.tax_on(net, Rounding::HalfEven)?.minor(), 234);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `Overflow` if the result does not fit; since a rate is at most 100 % this cannot happen
    /// for any valid `Money`, but the signature leaves room for it.
    pub fn tax_on(self, net: Money, rounding: Rounding) -> Result<Money> {
        let exact = i128::from(net.minor) * i128::from(self.basis_points);
        let tax = div_round(exact, i128::from(FULL_RATE), rounding)?;
        Money::from_i128(tax, net.currency)
    }

    /// Splits a tax-inclusive amount into `(net, tax)`.
    ///
    /// The net is `gross / (1 + rate)` rounded with `rounding`, and the tax is what remains,
    /// `gross - net`, so `net + tax == gross` always holds exactly. Because the net is rounded,
    /// the tax may differ by at most one minor unit from [`tax_on(net)`](TaxRate::tax_on).
    ///
    /// # Errors
    ///
    /// `Overflow` if a result does not fit; as both parts lie between zero and `gross`, this
    /// cannot happen for any valid `Money`.
    pub fn split_gross(self, gross: Money, rounding: Rounding) -> Result<(Money, Money)> {
        let scaled = i128::from(gross.minor) * i128::from(FULL_RATE);
        let divisor = i128::from(FULL_RATE) + i128::from(self.basis_points);
        let net = Money::from_i128(div_round(scaled, divisor, rounding)?, gross.currency)?;
        let tax = gross.checked_sub(net)?;
        Ok((net, tax))
    }
}

/// The shortest exact form with a percent sign: `"19%"`, `"5.5%"`, `"0.25%"`, `"0%"`.
impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.basis_points / 100;
        let fraction = self.basis_points % 100;
        if fraction == 0 {
            write!(f, "{whole}%")
        } else if fraction.is_multiple_of(10) {
            write!(f, "{whole}.{}%", fraction / 10)
        } else {
            write!(f, "{whole}.{fraction:02}%")
        }
    }
}

/// Parses with the same rules as [`TaxRate::parse`].
impl FromStr for TaxRate {
    type Err = Error;

    fn from_str(s: &str) -> Result<TaxRate> {
        TaxRate::parse(s)
    }
}

impl Serialize for TaxRate {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_percent_string())
    }
}

impl<'de> Deserialize<'de> for TaxRate {
    fn deserialize<D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<TaxRate, D::Error> {
        struct PercentVisitor;

        impl Visitor<'_> for PercentVisitor {
            type Value = TaxRate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage string such as \"19.00\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<TaxRate, E> {
                TaxRate::parse(v).map_err(|e| E::custom(e.message()))
            }
        }

        deserializer.deserialize_str(PercentVisitor)
    }
}

/// Why a decimal string was rejected, for the caller to phrase for its own field.
enum DecimalError {
    Syntax(&'static str),
    NoFractionAllowed,
    TooManyDecimals,
    TooLarge,
}

/// Parses `-?[0-9]+(\.[0-9]{1,decimals})?` exactly into a sign and a magnitude scaled by
/// `10^decimals`. The magnitude is bounded by `u64`, enough for the magnitude of any `i64`.
fn parse_decimal(s: &str, decimals: u8) -> std::result::Result<(bool, u64), DecimalError> {
    const BAD_CHARACTER: &str =
        "only the ASCII digits 0-9, one leading '-' and one '.' before the decimals are allowed";
    let (negative, unsigned) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    if whole.is_empty() {
        return Err(DecimalError::Syntax(if s.is_empty() {
            "the value is empty"
        } else if fraction.is_some() {
            "at least one digit is needed before the '.'"
        } else {
            "at least one digit is needed"
        }));
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::Syntax(BAD_CHARACTER));
    }
    let fraction = match fraction {
        None => "",
        Some(fraction) => {
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DecimalError::Syntax(BAD_CHARACTER));
            }
            if decimals == 0 {
                return Err(DecimalError::NoFractionAllowed);
            }
            if fraction.is_empty() {
                return Err(DecimalError::Syntax(
                    "at least one digit is needed after the '.'",
                ));
            }
            if fraction.len() > usize::from(decimals) {
                return Err(DecimalError::TooManyDecimals);
            }
            fraction
        }
    };
    let padding = usize::from(decimals).saturating_sub(fraction.len());
    let digits = whole
        .bytes()
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', padding));
    let mut magnitude: u64 = 0;
    for digit in digits {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(digit - b'0')))
            .ok_or(DecimalError::TooLarge)?;
    }
    Ok((negative, magnitude))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::EUR)
    }

    fn kind_of<T: fmt::Debug>(result: Result<T>) -> ErrorKind {
        result.unwrap_err().kind()
    }

    const AMOUNT: ErrorKind = ErrorKind::Validation { field: "amount" };
    const TAX_RATE: ErrorKind = ErrorKind::Validation { field: "tax_rate" };
    const WEIGHTS: ErrorKind = ErrorKind::Validation { field: "weights" };

    #[test]
    fn parse_accepts_the_documented_forms() {
        let cases = [
            ("12.90", 1290),
            ("12.9", 1290),
            ("12", 1200),
            ("0", 0),
            ("-0", 0),
            ("-0.00", 0),
            ("-0.05", -5),
            ("007.50", 750),
            ("92233720368547758.07", i64::MAX),
            ("-92233720368547758.08", i64::MIN),
        ];
        for (text, minor) in cases {
            assert_eq!(
                Money::parse(text, Currency::EUR).unwrap(),
                eur(minor),
                "{text}"
            );
        }
        assert_eq!(Money::parse("1200", Currency::JPY).unwrap().minor(), 1200);
        assert_eq!(Money::parse("1.234", Currency::KWD).unwrap().minor(), 1234);
        assert_eq!(Money::parse("1.2", Currency::KWD).unwrap().minor(), 1200);
        let clf = Currency::from_code("CLF").unwrap();
        assert_eq!(Money::parse("-1.0001", clf).unwrap().minor(), -10001);
    }

    #[test]
    fn parse_rejects_everything_else_without_rounding() {
        let rejected = [
            "", "-", "--5", ".5", "-.5", "5.", "+5", " 5", "5 ", "1e3", "1,5", "1.2.3", "12.999",
            "12.901", "١٢", "１２", "0x10", "NaN", "inf", "5-", "1_000",
        ];
        for text in rejected {
            assert_eq!(
                kind_of(Money::parse(text, Currency::EUR)),
                AMOUNT,
                "{text:?}"
            );
        }
        for text in ["1.0", "1.", "1.5"] {
            assert_eq!(
                kind_of(Money::parse(text, Currency::JPY)),
                AMOUNT,
                "{text:?}"
            );
        }
        assert_eq!(kind_of(Money::parse("1.2345", Currency::KWD)), AMOUNT);
    }

    #[test]
    fn parse_rejects_out_of_range_values() {
        let too_large = [
            "92233720368547758.08",
            "-92233720368547758.09",
            "184467440737095516.16",
            "99999999999999999999999999999999999999999999",
            "9223372036854775808",
        ];
        for text in too_large {
            let err = Money::parse(text, Currency::EUR).unwrap_err();
            assert_eq!(err.kind(), AMOUNT, "{text}");
            assert!(err.message().contains("out of range"), "{}", err.message());
        }
        assert_eq!(
            Money::parse("-9223372036854775808", Currency::JPY)
                .unwrap()
                .minor(),
            i64::MIN
        );
        assert_eq!(
            kind_of(Money::parse("9223372036854775808", Currency::JPY)),
            AMOUNT
        );
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let message = |text: &str, currency| Money::parse(text, currency).unwrap_err().to_string();
        assert!(message("12.999", Currency::EUR).contains("at most 2 decimal places"));
        assert!(message("1.5", Currency::JPY).contains("JPY has no minor unit"));
        assert!(message("", Currency::EUR).contains("empty"));
        assert!(message("1,5", Currency::EUR).starts_with("invalid amount: only the ASCII digits"));
    }

    #[test]
    fn formatting_has_exactly_exponent_decimals() {
        assert_eq!(eur(1290).to_decimal_string(), "12.90");
        assert_eq!(eur(-5).to_decimal_string(), "-0.05");
        assert_eq!(eur(0).to_decimal_string(), "0.00");
        assert_eq!(eur(-100).to_decimal_string(), "-1.00");
        assert_eq!(eur(i64::MIN).to_decimal_string(), "-92233720368547758.08");
        assert_eq!(eur(i64::MAX).to_decimal_string(), "92233720368547758.07");
        assert_eq!(Money::new(1200, Currency::JPY).to_decimal_string(), "1200");
        assert_eq!(
            Money::new(i64::MIN, Currency::JPY).to_decimal_string(),
            "-9223372036854775808"
        );
        assert_eq!(Money::new(1234, Currency::KWD).to_decimal_string(), "1.234");
        assert_eq!(Money::new(-1, Currency::KWD).to_decimal_string(), "-0.001");
        let clf = Currency::from_code("CLF").unwrap();
        assert_eq!(Money::new(10001, clf).to_decimal_string(), "1.0001");
        assert_eq!(eur(1290).to_string(), "12.90 EUR");
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(eur(1).checked_add(eur(2)).unwrap(), eur(3));
        assert_eq!(eur(1).checked_sub(eur(2)).unwrap(), eur(-1));
        assert_eq!(
            kind_of(eur(i64::MAX).checked_add(eur(1))),
            ErrorKind::Overflow
        );
        assert_eq!(
            kind_of(eur(i64::MIN).checked_sub(eur(1))),
            ErrorKind::Overflow
        );
        assert_eq!(kind_of(eur(i64::MIN).checked_neg()), ErrorKind::Overflow);
        assert_eq!(kind_of(eur(i64::MIN).abs()), ErrorKind::Overflow);
        assert_eq!(eur(-7).abs().unwrap(), eur(7));
        assert_eq!(eur(i64::MAX).checked_neg().unwrap(), eur(-i64::MAX));
        assert_eq!(eur(-3).checked_mul(-4).unwrap(), eur(12));
        assert_eq!(kind_of(eur(i64::MAX).checked_mul(2)), ErrorKind::Overflow);
        assert_eq!(kind_of(eur(-1).checked_mul(i64::MIN)), ErrorKind::Overflow);
        let usd = Money::new(1, Currency::USD);
        assert_eq!(
            kind_of(eur(1).checked_add(usd)),
            ErrorKind::CurrencyMismatch
        );
        assert_eq!(
            kind_of(eur(1).checked_sub(usd)),
            ErrorKind::CurrencyMismatch
        );
        assert!(eur(0).is_zero() && !eur(1).is_zero());
        assert!(eur(-1).is_negative() && !eur(0).is_negative());
    }

    #[test]
    fn sum_is_order_independent_and_checks_currency() {
        assert_eq!(Money::sum(Currency::EUR, []).unwrap(), eur(0));
        // The running total leaves the i64 range, the final total does not.
        let items = [eur(i64::MAX), eur(1), eur(-2)];
        assert_eq!(Money::sum(Currency::EUR, items).unwrap(), eur(i64::MAX - 1));
        assert_eq!(
            kind_of(Money::sum(Currency::EUR, [eur(i64::MAX), eur(1)])),
            ErrorKind::Overflow
        );
        assert_eq!(
            kind_of(Money::sum(Currency::USD, [eur(1)])),
            ErrorKind::CurrencyMismatch
        );
    }

    #[test]
    fn div_round_modes() {
        let cases: [(i128, i128, i128, i128); 12] = [
            // numerator, denominator, half-up, half-even
            (5, 10, 1, 0),
            (15, 10, 2, 2),
            (25, 10, 3, 2),
            (-5, 10, -1, 0),
            (-25, 10, -3, -2),
            (-15, 10, -2, -2),
            (14, 10, 1, 1),
            (16, 10, 2, 2),
            (-16, 10, -2, -2),
            (7, 1, 7, 7),
            (0, 3, 0, 0),
            (1, 3, 0, 0),
        ];
        for (n, d, up, even) in cases {
            assert_eq!(div_round(n, d, Rounding::HalfUp).unwrap(), up, "{n}/{d}");
            assert_eq!(
                div_round(n, d, Rounding::HalfEven).unwrap(),
                even,
                "{n}/{d}"
            );
        }
        assert_eq!(
            div_round(i128::MIN, 1, Rounding::HalfUp).unwrap(),
            i128::MIN
        );
        assert_eq!(
            div_round(i128::MAX, i128::MAX, Rounding::HalfUp).unwrap(),
            1
        );
        assert_eq!(
            div_round(i128::MIN, i128::MAX, Rounding::HalfUp).unwrap(),
            -1
        );
        assert_eq!(
            div_round(i128::MAX, 2, Rounding::HalfEven).unwrap(),
            i128::MAX / 2 + 1
        );
        assert!(div_round(1, 0, Rounding::HalfUp).is_err());
        assert!(div_round(1, -1, Rounding::HalfUp).is_err());
        assert_eq!(Rounding::default(), Rounding::HalfUp);
    }

    #[test]
    fn tax_rate_parse_and_display() {
        let cases = [
            ("19", 1900, "19%", "19.00"),
            ("5.5", 550, "5.5%", "5.50"),
            ("0", 0, "0%", "0.00"),
            ("7.00", 700, "7%", "7.00"),
            ("0.25", 25, "0.25%", "0.25"),
            ("100", 10_000, "100%", "100.00"),
            ("2.1", 210, "2.1%", "2.10"),
        ];
        for (text, bp, display, percent) in cases {
            let rate = TaxRate::parse(text).unwrap();
            assert_eq!(rate.basis_points(), bp, "{text}");
            assert_eq!(rate.to_string(), display);
            assert_eq!(rate.to_percent_string(), percent);
            assert_eq!(TaxRate::parse(percent).unwrap(), rate);
        }
        let rejected = [
            "",
            "-1",
            "-0",
            "19%",
            " 19",
            "5.555",
            "100.01",
            "101",
            "1e2",
            ".5",
            "5.",
            "19,0",
            "99999999999999999999999",
        ];
        for text in rejected {
            assert_eq!(kind_of(TaxRate::parse(text)), TAX_RATE, "{text:?}");
        }
        assert!(TaxRate::ZERO.is_zero());
        assert!(!TaxRate::parse("0.01").unwrap().is_zero());
        assert_eq!(
            TaxRate::from_basis_points(10_000).unwrap().basis_points(),
            10_000
        );
        assert_eq!(kind_of(TaxRate::from_basis_points(10_001)), TAX_RATE);
    }

    #[test]
    fn tax_on_rounds_as_asked() {
        let rate = TaxRate::from_basis_points(1900).unwrap();
        assert_eq!(rate.tax_on(eur(5997), Rounding::HalfUp).unwrap(), eur(1139));
        // 0.50 × 5 % = 0.025: the half cases.
        let five = TaxRate::from_basis_points(500).unwrap();
        assert_eq!(five.tax_on(eur(50), Rounding::HalfUp).unwrap(), eur(3));
        assert_eq!(five.tax_on(eur(50), Rounding::HalfEven).unwrap(), eur(2));
        assert_eq!(five.tax_on(eur(-50), Rounding::HalfUp).unwrap(), eur(-3));
        assert_eq!(five.tax_on(eur(-50), Rounding::HalfEven).unwrap(), eur(-2));
        let full = TaxRate::from_basis_points(10_000).unwrap();
        assert_eq!(
            full.tax_on(eur(i64::MIN), Rounding::HalfUp).unwrap(),
            eur(i64::MIN)
        );
        assert_eq!(
            TaxRate::ZERO
                .tax_on(eur(i64::MAX), Rounding::HalfUp)
                .unwrap(),
            eur(0)
        );
        let jpy = Money::new(1001, Currency::JPY);
        assert_eq!(
            rate.tax_on(jpy, Rounding::HalfUp).unwrap(),
            Money::new(190, Currency::JPY)
        );
    }

    #[test]
    fn split_gross_adds_up() {
        let rate = TaxRate::from_basis_points(1900).unwrap();
        let (net, tax) = rate.split_gross(eur(11900), Rounding::HalfUp).unwrap();
        assert_eq!((net, tax), (eur(10000), eur(1900)));
        // 1.00 gross at 19 %: net 0.840336... → 0.84, tax 0.16.
        let (net, tax) = rate.split_gross(eur(100), Rounding::HalfUp).unwrap();
        assert_eq!((net, tax), (eur(84), eur(16)));
        let (net, tax) = rate.split_gross(eur(-100), Rounding::HalfUp).unwrap();
        assert_eq!((net, tax), (eur(-84), eur(-16)));
        // 0.21 gross at 10 %: net 0.1909... → 0.19; 0.11 at 10 %: net exactly 0.10.
        let ten = TaxRate::from_basis_points(1000).unwrap();
        assert_eq!(
            ten.split_gross(eur(21), Rounding::HalfUp).unwrap().0,
            eur(19)
        );
        // 100 %: gross 3 → net 1.5 exactly, the half case.
        let full = TaxRate::from_basis_points(10_000).unwrap();
        assert_eq!(
            full.split_gross(eur(3), Rounding::HalfUp).unwrap(),
            (eur(2), eur(1))
        );
        assert_eq!(
            full.split_gross(eur(3), Rounding::HalfEven).unwrap(),
            (eur(2), eur(1))
        );
        assert_eq!(
            full.split_gross(eur(5), Rounding::HalfEven).unwrap(),
            (eur(2), eur(3))
        );
        for gross in [i64::MIN, i64::MAX, -1, 0, 1] {
            let (net, tax) = full.split_gross(eur(gross), Rounding::HalfUp).unwrap();
            assert_eq!(net.checked_add(tax).unwrap(), eur(gross));
        }
        let (net, tax) = TaxRate::ZERO
            .split_gross(eur(i64::MIN), Rounding::HalfUp)
            .unwrap();
        assert_eq!((net, tax), (eur(i64::MIN), eur(0)));
    }

    fn split_minors(minor: i64, weights: &[u64]) -> Vec<i64> {
        eur(minor)
            .split(weights)
            .unwrap()
            .iter()
            .map(|m| m.minor())
            .collect()
    }

    #[test]
    fn split_largest_remainder() {
        assert_eq!(split_minors(10000, &[1, 1, 1]), [3334, 3333, 3333]);
        assert_eq!(split_minors(-10000, &[1, 1, 1]), [-3334, -3333, -3333]);
        assert_eq!(split_minors(5, &[1, 1]), [3, 2]);
        // Remainders 0.2, 0.4, 0.4 (of 1 cent): the larger remainders win, the earlier on a tie.
        assert_eq!(split_minors(1, &[1, 2, 2]), [0, 1, 0]);
        assert_eq!(split_minors(2, &[1, 2, 2]), [0, 1, 1]);
        assert_eq!(split_minors(100, &[0, 1, 0]), [0, 100, 0]);
        assert_eq!(split_minors(2, &[0, 1, 1, 1]), [0, 1, 1, 0]);
        assert_eq!(split_minors(0, &[3, 4]), [0, 0]);
        assert_eq!(split_minors(7, &[u64::MAX]), [7]);
        assert_eq!(
            split_minors(i64::MIN, &[1, 1]),
            [i64::MIN / 2, i64::MIN / 2]
        );
        assert_eq!(split_minors(i64::MIN, &[u64::MAX, 0]), [i64::MIN, 0]);
        assert_eq!(
            split_minors(i64::MAX, &[u64::MAX, u64::MAX]),
            [i64::MAX / 2 + 1, i64::MAX / 2]
        );
        let parts = split_minors(i64::MIN, &[u64::MAX, 1, u64::MAX - 1, 3]);
        assert_eq!(
            parts.iter().map(|&p| i128::from(p)).sum::<i128>(),
            i128::from(i64::MIN)
        );
    }

    #[test]
    fn split_rejects_empty_and_zero_weights() {
        assert_eq!(kind_of(eur(1).split(&[])), WEIGHTS);
        assert_eq!(kind_of(eur(1).split(&[0, 0])), WEIGHTS);
    }

    #[test]
    fn serde_money_is_decimal_string_and_code() {
        let json = serde_json::to_string(&Money::new(-5, Currency::KWD)).unwrap();
        assert_eq!(json, r#"{"amount":"-0.005","currency":"KWD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Money::new(-5, Currency::KWD));
        let rejected = [
            r#"{"amount":12.90,"currency":"EUR"}"#,
            r#"{"amount":12,"currency":"EUR"}"#,
            r#"{"amount":"12.999","currency":"EUR"}"#,
            r#"{"amount":"1.5","currency":"JPY"}"#,
            r#"{"amount":"12.90","currency":"eur"}"#,
            r#"{"amount":"12.90"}"#,
            r#"{"amount":"12.90","currency":"EUR","extra":1}"#,
            r#""12.90 EUR""#,
        ];
        for json in rejected {
            assert!(serde_json::from_str::<Money>(json).is_err(), "{json}");
        }
    }

    #[test]
    fn serde_tax_rate_is_percent_string() {
        let rate = TaxRate::parse("5.5").unwrap();
        assert_eq!(serde_json::to_string(&rate).unwrap(), r#""5.50""#);
        assert_eq!(serde_json::from_str::<TaxRate>(r#""5.5""#).unwrap(), rate);
        assert!(serde_json::from_str::<TaxRate>("5.5").is_err());
        assert!(serde_json::from_str::<TaxRate>(r#""5.5%""#).is_err());
        assert!(serde_json::from_str::<TaxRate>(r#""101""#).is_err());
    }
}
