#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests of `shopkeep::money` against independent i128 reference computations.

use proptest::prelude::*;
use shopkeep::money::{Rounding, TaxRate};
use shopkeep::{Currency, ErrorKind, Money};

/// i64 values with the boundaries and small numbers over-represented, where bugs live.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -1_000_i64..1_000,
        Just(i64::MIN),
        Just(i64::MIN + 1),
        Just(i64::MAX),
        Just(i64::MAX - 1),
        Just(0),
        (0_i64..1_000).prop_map(|d| i64::MIN + d),
        (0_i64..1_000).prop_map(|d| i64::MAX - d),
    ]
}

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(Currency::all())
}

/// One currency of each exponent that ISO 4217 uses.
fn currency_per_exponent() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec![
        Currency::JPY,
        Currency::EUR,
        Currency::KWD,
        Currency::from_code("CLF").unwrap(),
    ])
}

fn basis_points() -> impl Strategy<Value = u32> {
    prop_oneof![0_u32..=10_000, Just(0), Just(10_000), Just(1900), Just(550)]
}

/// Rounds `n / d` (d > 0) to the nearest integer, written independently of the library:
/// from the floor quotient and a non-negative remainder.
fn reference_round(n: i128, d: i128, half_even: bool) -> i128 {
    assert!(d > 0);
    let floor = n.div_euclid(d);
    let rem = n.rem_euclid(d);
    match (2 * rem).cmp(&d) {
        std::cmp::Ordering::Less => floor,
        std::cmp::Ordering::Greater => floor + 1,
        std::cmp::Ordering::Equal if half_even => {
            if floor % 2 == 0 {
                floor
            } else {
                floor + 1
            }
        }
        // Half away from zero: up for positive values, and for negative ones the floor
        // already lies away from zero.
        std::cmp::Ordering::Equal => {
            if n >= 0 {
                floor + 1
            } else {
                floor
            }
        }
    }
}

fn mode(half_even: bool) -> Rounding {
    if half_even {
        Rounding::HalfEven
    } else {
        Rounding::HalfUp
    }
}

/// Checks a checked operation against the exact i128 result.
fn check_against_reference(result: shopkeep::Result<Money>, exact: i128, currency: Currency) {
    match i64::try_from(exact) {
        Ok(expected) => assert_eq!(result.unwrap(), Money::new(expected, currency)),
        Err(_) => assert_eq!(result.unwrap_err().kind(), ErrorKind::Overflow),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn format_then_parse_round_trips(minor in amount(), currency in currency_per_exponent()) {
        let money = Money::new(minor, currency);
        let text = money.to_decimal_string();
        let exponent = usize::from(currency.exponent());
        match text.split_once('.') {
            Some((_, fraction)) => prop_assert_eq!(fraction.len(), exponent),
            None => prop_assert_eq!(exponent, 0),
        }
        prop_assert_eq!(Money::parse(&text, currency).unwrap(), money);
        prop_assert_eq!(money.to_string(), format!("{text} {currency}"));

        // Trailing zeros of the fraction may be left out, down to one digit.
        if let Some((whole, fraction)) = text.split_once('.') {
            let trimmed = fraction.trim_end_matches('0');
            let fraction = if trimmed.is_empty() { "0" } else { trimmed };
            prop_assert_eq!(Money::parse(&format!("{whole}.{fraction}"), currency).unwrap(), money);
        }
    }

    #[test]
    fn format_matches_reference(minor in amount(), currency in currency_per_exponent()) {
        let exponent = u32::from(currency.exponent());
        let scale = 10_i128.pow(exponent);
        let magnitude = i128::from(minor).abs();
        let sign = if minor < 0 { "-" } else { "" };
        let expected = if exponent == 0 {
            format!("{sign}{magnitude}")
        } else {
            let fraction = format!("{:0>width$}", magnitude % scale, width = exponent as usize);
            format!("{sign}{}.{fraction}", magnitude / scale)
        };
        prop_assert_eq!(Money::new(minor, currency).to_decimal_string(), expected);
    }

    #[test]
    fn parse_matches_reference(
        negative in any::<bool>(),
        whole in "[0-9]{1,22}",
        fraction in proptest::option::of("[0-9]{0,5}"),
        currency in currency_per_exponent(),
    ) {
        let exponent = usize::from(currency.exponent());
        let text = match &fraction {
            Some(f) => format!("{}{whole}.{f}", if negative { "-" } else { "" }),
            None => format!("{}{whole}", if negative { "-" } else { "" }),
        };
        let result = Money::parse(&text, currency);
        let fraction_ok = match &fraction {
            None => true,
            Some(f) => exponent > 0 && !f.is_empty() && f.len() <= exponent,
        };
        if !fraction_ok {
            prop_assert_eq!(result.unwrap_err().kind(), ErrorKind::Validation { field: "amount" });
            return Ok(());
        }
        let f = fraction.unwrap_or_default();
        let digits = format!("{whole}{f}{}", "0".repeat(exponent - f.len()));
        // At most 27 digits: fits in a u128.
        let magnitude: u128 = digits.parse().unwrap();
        let exact = if negative { -(magnitude as i128) } else { magnitude as i128 };
        match i64::try_from(exact) {
            Ok(minor) => prop_assert_eq!(result.unwrap(), Money::new(minor, currency)),
            Err(_) => prop_assert_eq!(
                result.unwrap_err().kind(),
                ErrorKind::Validation { field: "amount" }
            ),
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in ".{0,40}", currency in currency()) {
        if let Ok(money) = Money::parse(&text, currency) {
            // Whatever is accepted reads back to the same amount from its canonical form.
            prop_assert_eq!(Money::parse(&money.to_decimal_string(), currency).unwrap(), money);
        }
    }

    #[test]
    fn add_sub_mul_match_i128(a in amount(), b in amount(), currency in currency()) {
        let (x, y) = (Money::new(a, currency), Money::new(b, currency));
        let (a, b) = (i128::from(a), i128::from(b));
        check_against_reference(x.checked_add(y), a + b, currency);
        check_against_reference(x.checked_sub(y), a - b, currency);
        check_against_reference(x.checked_mul(b as i64), a * b, currency);
        check_against_reference(x.checked_neg(), -a, currency);
        check_against_reference(x.abs(), a.abs(), currency);
        check_against_reference(Money::sum(currency, [x, y]), a + b, currency);
        prop_assert_eq!(x.is_negative(), a < 0);
        prop_assert_eq!(x.is_zero(), a == 0);
    }

    #[test]
    fn sum_matches_i128(items in prop::collection::vec(amount(), 0..12)) {
        let money: Vec<Money> = items.iter().map(|&m| Money::new(m, Currency::EUR)).collect();
        let exact: i128 = items.iter().map(|&m| i128::from(m)).sum();
        check_against_reference(Money::sum(Currency::EUR, money), exact, Currency::EUR);
    }

    #[test]
    fn mixing_currencies_is_an_error(a in amount(), b in amount(), c1 in currency(), c2 in currency()) {
        prop_assume!(c1 != c2);
        let (x, y) = (Money::new(a, c1), Money::new(b, c2));
        prop_assert_eq!(x.checked_add(y).unwrap_err().kind(), ErrorKind::CurrencyMismatch);
        prop_assert_eq!(x.checked_sub(y).unwrap_err().kind(), ErrorKind::CurrencyMismatch);
        prop_assert_eq!(
            Money::sum(c1, [x, y]).unwrap_err().kind(),
            ErrorKind::CurrencyMismatch
        );
    }

    #[test]
    fn split_conserves_and_is_proportional(
        minor in amount(),
        weights in prop::collection::vec(
            prop_oneof![0_u64..10, any::<u64>(), Just(0), Just(u64::MAX)],
            1..16,
        ),
    ) {
        let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        let result = Money::new(minor, Currency::EUR).split(&weights);
        if total == 0 {
            prop_assert_eq!(result.unwrap_err().kind(), ErrorKind::Validation { field: "weights" });
            return Ok(());
        }
        let parts = result.unwrap();
        prop_assert_eq!(parts.len(), weights.len());
        let sum: i128 = parts.iter().map(|p| i128::from(p.minor())).sum();
        prop_assert_eq!(sum, i128::from(minor));

        let whole = u128::from(minor.unsigned_abs());
        let mut extra = Vec::new();
        for (part, &weight) in parts.iter().zip(&weights) {
            prop_assert_eq!(part.currency(), Currency::EUR);
            // Every part has the sign of the whole (or is zero).
            prop_assert!(part.minor() == 0 || (part.minor() < 0) == (minor < 0));
            let magnitude = u128::from(part.minor().unsigned_abs());
            let floor = whole * u128::from(weight) / total;
            let remainder = whole * u128::from(weight) % total;
            prop_assert!(magnitude == floor || magnitude == floor + 1);
            if remainder == 0 {
                prop_assert_eq!(magnitude, floor);
            }
            if weight == 0 {
                prop_assert_eq!(part.minor(), 0);
            }
            extra.push((magnitude == floor + 1, remainder));
        }
        // Largest remainder: a part that got an extra unit never had a smaller remainder than
        // one that did not, nor an equal one at a later index.
        for (i, &(got_i, rem_i)) in extra.iter().enumerate() {
            for (j, &(got_j, rem_j)) in extra.iter().enumerate() {
                if got_i && !got_j {
                    prop_assert!(rem_i > rem_j || (rem_i == rem_j && i < j));
                }
            }
        }
    }

    #[test]
    fn split_is_symmetric(minor in amount(), weights in prop::collection::vec(1_u64..100, 1..8)) {
        prop_assume!(minor != i64::MIN);
        let positive = Money::new(minor, Currency::EUR).split(&weights).unwrap();
        let negative = Money::new(-minor, Currency::EUR).split(&weights).unwrap();
        for (p, n) in positive.iter().zip(&negative) {
            prop_assert_eq!(p.minor(), -n.minor());
        }
    }

    #[test]
    fn tax_on_matches_reference(minor in amount(), bp in basis_points(), half_even in any::<bool>()) {
        let rate = TaxRate::from_basis_points(bp).unwrap();
        let tax = rate.tax_on(Money::new(minor, Currency::EUR), mode(half_even)).unwrap();
        let expected = reference_round(i128::from(minor) * i128::from(bp), 10_000, half_even);
        prop_assert_eq!(i128::from(tax.minor()), expected);
        prop_assert_eq!(tax.currency(), Currency::EUR);
    }

    #[test]
    fn split_gross_matches_reference(minor in amount(), bp in basis_points(), half_even in any::<bool>()) {
        let rate = TaxRate::from_basis_points(bp).unwrap();
        let gross = Money::new(minor, Currency::EUR);
        let (net, tax) = rate.split_gross(gross, mode(half_even)).unwrap();
        let expected_net = reference_round(
            i128::from(minor) * 10_000,
            10_000 + i128::from(bp),
            half_even,
        );
        prop_assert_eq!(i128::from(net.minor()), expected_net);
        prop_assert_eq!(i128::from(net.minor()) + i128::from(tax.minor()), i128::from(minor));
        let tax_on_net = reference_round(i128::from(net.minor()) * i128::from(bp), 10_000, half_even);
        prop_assert!((i128::from(tax.minor()) - tax_on_net).abs() <= 1);
    }

    #[test]
    fn tax_rate_text_round_trips(bp in 0_u32..=10_000) {
        let rate = TaxRate::from_basis_points(bp).unwrap();
        prop_assert_eq!(TaxRate::parse(&rate.to_percent_string()).unwrap(), rate);
        let shown = rate.to_string();
        prop_assert_eq!(TaxRate::parse(shown.strip_suffix('%').unwrap()).unwrap(), rate);
        prop_assert_eq!(rate.to_percent_string(), format!("{}.{:02}", bp / 100, bp % 100));
    }

    #[test]
    fn tax_rates_above_100_percent_are_rejected(bp in 10_001_u32..) {
        prop_assert_eq!(
            TaxRate::from_basis_points(bp).unwrap_err().kind(),
            ErrorKind::Validation { field: "tax_rate" }
        );
    }

    #[test]
    fn serde_json_round_trips(minor in amount(), currency in currency(), bp in 0_u32..=10_000) {
        let money = Money::new(minor, currency);
        let json = serde_json::to_string(&money).unwrap();
        prop_assert_eq!(
            &json,
            &format!(r#"{{"amount":"{}","currency":"{}"}}"#, money.to_decimal_string(), currency.code())
        );
        prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);

        let rate = TaxRate::from_basis_points(bp).unwrap();
        let json = serde_json::to_string(&rate).unwrap();
        prop_assert_eq!(serde_json::from_str::<TaxRate>(&json).unwrap(), rate);

        let json = serde_json::to_string(&currency).unwrap();
        prop_assert_eq!(&json, &format!("\"{}\"", currency.code()));
        prop_assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), currency);
    }

    #[test]
    fn json_numbers_are_never_amounts(minor in -100_000_i64..100_000) {
        let json = format!(r#"{{"amount":{minor},"currency":"JPY"}}"#);
        prop_assert!(serde_json::from_str::<Money>(&json).is_err());
        let json = format!(r#"{{"amount":{}.5,"currency":"EUR"}}"#, minor);
        prop_assert!(serde_json::from_str::<Money>(&json).is_err());
    }
}

#[test]
fn every_currency_round_trips_through_its_code() {
    for &currency in Currency::all() {
        assert_eq!(Currency::from_code(currency.code()).unwrap(), currency);
        assert_eq!(currency.code().parse::<Currency>().unwrap(), currency);
        assert!(currency.exponent() <= 4);
    }
    assert!(Currency::all().len() >= 150);
}
