//! Totals add up, the EN 16931 way, for random carts in both price modes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use shopkeep::money::TaxRate;
use shopkeep::orders::{Charge, PriceMode, PricedLine, Totals, VatCategory, VatTreatment};
use shopkeep::{Currency, ErrorKind, Money};

fn treatment(kind: u8, basis_points: u32) -> VatTreatment {
    match kind % 4 {
        0 | 1 => VatTreatment::new(
            VatCategory::Standard,
            TaxRate::from_basis_points(basis_points.max(1)).unwrap(),
            None,
        )
        .unwrap(),
        2 => VatTreatment::new(VatCategory::ZeroRated, TaxRate::ZERO, None).unwrap(),
        _ => VatTreatment::new(
            VatCategory::Exempt,
            TaxRate::ZERO,
            Some("Exempt under Art. 132"),
        )
        .unwrap(),
    }
}

/// Rates real shops use, plus odd ones.
fn rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(1900),
        Just(700),
        Just(2000),
        Just(550),
        Just(2100),
        Just(2500),
        1u32..=3000
    ]
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::EUR),
        Just(Currency::JPY),
        Just(Currency::KWD),
        Just(Currency::CHF)
    ]
}

#[derive(Debug, Clone)]
struct Cart {
    currency: Currency,
    mode: PriceMode,
    lines: Vec<(i64, u32, u8, u32)>,
    charges: Vec<(i64, u8, u32)>,
    discount_per_mille: u16,
}

fn cart() -> impl Strategy<Value = Cart> {
    (
        currency(),
        prop_oneof![Just(PriceMode::TaxExclusive), Just(PriceMode::TaxInclusive)],
        prop::collection::vec((0i64..2_000_000, 1u32..50, any::<u8>(), rate()), 1..8),
        prop::collection::vec((0i64..50_000, any::<u8>(), rate()), 0..3),
        0u16..=1000,
    )
        .prop_map(
            |(currency, mode, lines, charges, discount_per_mille)| Cart {
                currency,
                mode,
                lines,
                charges,
                discount_per_mille,
            },
        )
}

fn build(cart: &Cart) -> (Vec<PricedLine>, Vec<Charge>, Money) {
    let m = |minor| Money::new(minor, cart.currency);
    let lines: Vec<_> = cart
        .lines
        .iter()
        .map(|&(price, qty, kind, bp)| PricedLine::new(m(price), qty, treatment(kind, bp)).unwrap())
        .collect();
    let charges: Vec<_> = cart
        .charges
        .iter()
        .map(|&(a, kind, bp)| Charge::new(m(a), treatment(kind, bp)).unwrap())
        .collect();
    let subtotal: i64 = cart
        .lines
        .iter()
        .map(|&(p, q, _, _)| p * i64::from(q))
        .sum();
    let discount = m(subtotal * i64::from(cart.discount_per_mille) / 1000);
    (lines, charges, discount)
}

/// round(value × bp / 10000), half away from zero, in i128: an independent reference.
fn reference_tax(value: i64, bp: u32) -> i64 {
    let num = i128::from(value) * i128::from(bp);
    let q = num / 10_000;
    let r = num % 10_000;
    let q = if 2 * r.abs() >= 10_000 {
        q + num.signum()
    } else {
        q
    };
    i64::try_from(q).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_total_is_the_sum_of_its_parts(cart in cart()) {
        let (lines, charges, discount) = build(&cart);
        let t = Totals::compute(cart.mode, cart.currency, &lines, discount, &charges).unwrap();
        let sum = |v: Vec<Money>| v.iter().map(|m| m.minor()).sum::<i64>();

        // BR-CO-10: sum of line nets; BR-CO-13: net total; BR-CO-14: VAT total; BR-CO-15: gross.
        prop_assert_eq!(sum(t.lines().iter().map(|l| l.net()).collect()), t.line_net_total().minor());
        prop_assert_eq!(t.net_total().minor(), t.line_net_total().minor() - t.allowance_total().minor() + t.charge_total().minor());
        prop_assert_eq!(sum(t.vat_groups().iter().map(|g| g.tax()).collect()), t.vat_total().minor());
        prop_assert_eq!(t.gross_total().minor(), t.net_total().minor() + t.vat_total().minor());
        prop_assert_eq!(sum(t.vat_groups().iter().map(|g| g.taxable()).collect()), t.net_total().minor());
        prop_assert_eq!(sum(t.charges_net().to_vec()), t.charge_total().minor());
        // The discount is spread exactly.
        prop_assert_eq!(sum(t.lines().iter().map(|l| l.discount()).collect()), discount.minor());

        for g in t.vat_groups() {
            prop_assert_eq!(g.taxable().minor(), g.lines_net().minor() - g.allowance_net().minor() + g.charges_net().minor());
            let bp = g.vat().rate().basis_points();
            match cart.mode {
                PriceMode::TaxExclusive => prop_assert_eq!(g.tax().minor(), reference_tax(g.taxable().minor(), bp)),
                _ => prop_assert!((g.tax().minor() - reference_tax(g.taxable().minor(), bp)).abs() <= 1,
                        "VAT {} vs {} on {}", g.tax().minor(), reference_tax(g.taxable().minor(), bp), g.taxable().minor()),
            }
            if bp == 0 {
                prop_assert_eq!(g.tax().minor(), 0);
            }
        }

        match cart.mode {
            PriceMode::TaxExclusive => {
                for (line, input) in t.lines().iter().zip(&cart.lines) {
                    prop_assert_eq!(line.net().minor(), input.0 * i64::from(input.1));
                }
            }
            _ => {
                // The buyer pays exactly the displayed prices, less the discount, plus charges.
                let shown: i64 = cart.lines.iter().map(|&(p, q, _, _)| p * i64::from(q)).sum();
                let charged: i64 = cart.charges.iter().map(|c| c.0).sum();
                prop_assert_eq!(t.gross_total().minor(), shown - discount.minor() + charged);
            }
        }
    }

    #[test]
    fn a_discount_above_the_subtotal_is_refused(cart in cart(), extra in 1i64..1000) {
        let (lines, charges, _) = build(&cart);
        let subtotal: i64 = cart.lines.iter().map(|&(p, q, _, _)| p * i64::from(q)).sum();
        let too_much = Money::new(subtotal + extra, cart.currency);
        let err = Totals::compute(cart.mode, cart.currency, &lines, too_much, &charges).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::Validation { field: "discount" });
    }
}

#[test]
fn a_known_b2c_cart_matches_a_hand_computed_invoice() {
    // 3 × 12.90 at 19 % and 1 × 9.99 at 7 %, gross; a 5.00 coupon; 4.90 shipping at 19 %.
    let eur = |s| Money::parse(s, Currency::EUR).unwrap();
    let s19 =
        VatTreatment::new(VatCategory::Standard, TaxRate::parse("19").unwrap(), None).unwrap();
    let s7 = VatTreatment::new(VatCategory::Standard, TaxRate::parse("7").unwrap(), None).unwrap();
    let lines = [
        PricedLine::new(eur("12.90"), 3, s19.clone()).unwrap(),
        PricedLine::new(eur("9.99"), 1, s7).unwrap(),
    ];
    let shipping = [Charge::new(eur("4.90"), s19).unwrap()];
    let t = Totals::compute(
        PriceMode::TaxInclusive,
        Currency::EUR,
        &lines,
        eur("5.00"),
        &shipping,
    )
    .unwrap();
    // Coupon split 38.70 : 9.99 → 3.97 and 1.03 (largest remainder).
    assert_eq!(t.lines()[0].discount(), eur("3.97"));
    assert_eq!(t.lines()[1].discount(), eur("1.03"));
    // 7 % group: gross 9.99 − 1.03 = 8.96 → net 8.37, VAT 0.59.
    let g7 = &t.vat_groups()[0];
    assert_eq!((g7.taxable(), g7.tax()), (eur("8.37"), eur("0.59")));
    // 19 % group: gross 38.70 − 3.97 + 4.90 = 39.63 → net 33.30, VAT 6.33.
    let g19 = &t.vat_groups()[1];
    assert_eq!((g19.taxable(), g19.tax()), (eur("33.30"), eur("6.33")));
    assert_eq!(t.gross_total(), eur("48.59"));
    assert_eq!(t.vat_total(), eur("6.92"));
}

#[test]
fn mixed_currencies_and_mixed_exemption_reasons_are_refused() {
    let s19 =
        VatTreatment::new(VatCategory::Standard, TaxRate::parse("19").unwrap(), None).unwrap();
    let line = PricedLine::new(Money::new(100, Currency::USD), 1, s19).unwrap();
    let err = Totals::compute(
        PriceMode::TaxExclusive,
        Currency::EUR,
        &[line],
        Money::zero(Currency::EUR),
        &[],
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CurrencyMismatch);

    let a = VatTreatment::new(VatCategory::Exempt, TaxRate::ZERO, Some("Art. 132(1)(c)")).unwrap();
    let b = VatTreatment::new(VatCategory::Exempt, TaxRate::ZERO, Some("Art. 135(1)(b)")).unwrap();
    let lines = [
        PricedLine::new(Money::new(100, Currency::EUR), 1, a).unwrap(),
        PricedLine::new(Money::new(100, Currency::EUR), 1, b).unwrap(),
    ];
    let err = Totals::compute(
        PriceMode::TaxExclusive,
        Currency::EUR,
        &lines,
        Money::zero(Currency::EUR),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Validation {
            field: "exemption_reason"
        }
    );
}

#[test]
fn vat_treatments_follow_the_rules_of_their_category() {
    let r19 = TaxRate::parse("19").unwrap();
    let refused = |category, rate, reason| {
        VatTreatment::new(category, rate, reason)
            .unwrap_err()
            .kind()
    };
    let field = |field| ErrorKind::Validation { field };
    assert_eq!(
        refused(VatCategory::Standard, TaxRate::ZERO, None),
        field("tax_rate")
    );
    assert_eq!(
        refused(VatCategory::ZeroRated, r19, None),
        field("tax_rate")
    );
    assert_eq!(
        refused(VatCategory::ReverseCharge, TaxRate::ZERO, None),
        field("exemption_reason")
    );
    assert_eq!(
        refused(VatCategory::Standard, r19, Some("why")),
        field("exemption_reason")
    );
    for category in [
        VatCategory::Exempt,
        VatCategory::ReverseCharge,
        VatCategory::IntraCommunitySupply,
        VatCategory::Export,
        VatCategory::OutsideScope,
    ] {
        let t = VatTreatment::new(category, TaxRate::ZERO, Some("reason")).unwrap();
        assert_eq!(
            VatCategory::from_code(t.category().code()).unwrap(),
            category
        );
    }
}
