//! Customer lifetime value: the BG/NBD and Gamma-Gamma fits on the CDNOW sample against the
//! papers' parameters, a worked example, degenerate data, and random input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use shopkeep::marketing::{BgNbd, ClvModel, CustomerSummary, GammaGamma};
use shopkeep::{Currency, ErrorKind, Money};

/// The 2,357 CDNOW customers (tests/data/README.md), with their mean repeat spend.
fn cdnow() -> Vec<CustomerSummary> {
    let text = include_str!("data/cdnow_customers_summary_with_transactions.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let x: u32 = fields[1].parse().unwrap();
            let t_x: f64 = fields[2].parse().unwrap();
            let t: f64 = fields[3].parse().unwrap();
            let spend = Money::parse(fields[4], Currency::USD).unwrap();
            CustomerSummary::new(x, t_x, t, spend).unwrap()
        })
        .collect()
}

/// `actual` rounded to three significant figures equals `expected`.
fn three_figures(actual: f64, expected: f64) {
    let scale = 10f64.powi(2 - expected.abs().log10().floor() as i32);
    let rounded = (actual * scale).round() / scale;
    assert!(
        (rounded - expected).abs() < 1e-9 * expected.abs(),
        "{actual} is not {expected} to three significant figures"
    );
}

#[test]
fn cdnow_files_agree_and_hold_the_whole_sample() {
    let customers = cdnow();
    assert_eq!(customers.len(), 2357);
    let summary = include_str!("data/cdnow_customers_summary.csv");
    for (line, customer) in summary.lines().skip(1).zip(&customers) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[1].parse::<u32>().unwrap(), customer.frequency());
        assert_eq!(fields[2].parse::<f64>().unwrap(), customer.recency());
        assert_eq!(fields[3].parse::<f64>().unwrap(), customer.age());
    }
}

#[test]
fn bgnbd_fit_reproduces_the_paper_on_cdnow() {
    let customers = cdnow();
    let model = BgNbd::fit(&customers).unwrap();
    // Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", section 4.
    three_figures(model.r(), 0.243);
    three_figures(model.alpha(), 4.41);
    three_figures(model.a(), 0.793);
    three_figures(model.b(), 2.43);
    // Four figures, as printed in the paper, to the second decimal of the rounding.
    assert!((model.alpha() - 4.414).abs() < 0.001, "{model:?}");
    assert!((model.b() - 2.426).abs() < 0.001, "{model:?}");
    let ll = model.log_likelihood(&customers).unwrap();
    assert!((ll - -9582.4).abs() < 0.1, "log-likelihood {ll}");
}

#[test]
fn gamma_gamma_fit_reproduces_the_paper_on_cdnow() {
    let model = GammaGamma::fit(&cdnow()).unwrap();
    // Fader, Hardie & Lee (2005), "RFM and CLV", and the Gamma-Gamma note: 946 repeat buyers.
    three_figures(model.p(), 6.25);
    three_figures(model.q(), 3.74);
    three_figures(model.gamma(), 15.4);
    assert!((model.gamma() - 15.44).abs() < 0.01, "{model:?}");
    assert_eq!(model.currency(), Currency::USD);
}

#[test]
fn worked_example_of_the_paper() {
    // Section 4 of "Counting Your Customers the Easy Way": customer 1 of the sample (x = 2,
    // tₓ = 30.43, T = 38.86) is expected to make 1.226 purchases in the next 39 weeks. The same
    // figure follows from eq. 10 summed directly, without Euler's transformation (a
    // three-line Python check: 1.2260282).
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let customer = cdnow()[0];
    assert_eq!(
        (customer.frequency(), customer.recency(), customer.age()),
        (2, 30.43, 38.86)
    );
    let purchases = model.expected_purchases(&customer, 39.0).unwrap();
    assert!((purchases - 1.226_028).abs() < 1e-5, "{purchases}");
    let alive = model.probability_alive(&customer).unwrap();
    assert!((alive - 0.726_579).abs() < 1e-5, "{alive}");
    // No horizon, no purchases.
    assert_eq!(model.expected_purchases(&customer, 0.0).unwrap(), 0.0);
}

#[test]
fn euler_transformed_series_agrees_with_eq_10_summed_directly() {
    // Reference values: eq. 10 with ₂F₁(r + x, b + x; a + b + x − 1; z) summed term by term
    // as printed (Python, double precision), for a newcomer and a heavy, recent buyer.
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let newcomer = CustomerSummary::new(0, 0.0, 38.86, eur(0)).unwrap();
    let heavy = CustomerSummary::new(10, 35.0, 38.86, eur(2000)).unwrap();
    for (customer, horizon, expected) in [
        (newcomer, 39.0, 0.195_098_052_011_254),
        (heavy, 39.0, 6.163_638_035_016_91),
        (heavy, 200.0, 19.342_766_782_975_5),
    ] {
        let actual = model.expected_purchases(&customer, horizon).unwrap();
        assert!(
            (actual - expected).abs() < 1e-9 * expected,
            "{actual} vs {expected}"
        );
    }
    let alive = model.probability_alive(&heavy).unwrap();
    assert!((alive - 0.846_941_407_524_253).abs() < 1e-12, "{alive}");
}

#[test]
fn a_equal_to_one_and_extreme_buyers_stay_finite() {
    // At a = 1 eq. 10 is 0/0; the value must sit between its neighbours'.
    let customer = CustomerSummary::new(2, 30.43, 38.86, eur(100)).unwrap();
    let at = |a: f64| {
        BgNbd::new(0.243, 4.414, a, 2.426)
            .unwrap()
            .expected_purchases(&customer, 39.0)
            .unwrap()
    };
    let (below, one, above) = (at(0.99), at(1.0), at(1.01));
    assert!(one.is_finite());
    assert!(
        (below.min(above)..=below.max(above)).contains(&one),
        "{below} {one} {above}"
    );
    // A huge number of purchases long ago: the odds of having dropped out overflow a float
    // unless kept in logs; P(alive) is a tiny number, not NaN.
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let gone = CustomerSummary::new(1_000_000, 10.0, 500.0, eur(100)).unwrap();
    let alive = model.probability_alive(&gone).unwrap();
    assert!((0.0..1e-300).contains(&alive), "{alive}");
    let purchases = model.expected_purchases(&gone, 52.0).unwrap();
    assert!(purchases.is_finite() && purchases >= 0.0, "{purchases}");
}

#[test]
fn predictions_on_the_fitted_cdnow_model_are_sane() {
    let customers = cdnow();
    let model = ClvModel::fit(&customers).unwrap();
    for customer in &customers {
        let prediction = model.predict(customer, 52.0).unwrap();
        assert!((0.0..=1.0).contains(&prediction.probability_alive));
        assert!(prediction.expected_purchases >= 0.0);
        assert!(prediction.expected_spend.minor() > 0);
        assert!(prediction.expected_value.minor() >= 0);
        if customer.frequency() == 0 {
            assert_eq!(prediction.probability_alive, 1.0);
        }
    }
    // A longer horizon never expects fewer purchases.
    let c = customers[0];
    let short = model.purchases().expected_purchases(&c, 10.0).unwrap();
    let long = model.purchases().expected_purchases(&c, 100.0).unwrap();
    assert!(long > short);
}

/// A horizon far shorter than a customer's age makes eq. 10 the difference of two nearly equal
/// terms; rounding once left it a few ulps below zero. The shop is the case proptest found
/// (`random_input_gives_finite_results_or_a_typed_error`, horizon 5.25e-16 weeks).
#[test]
fn a_vanishing_horizon_expects_no_purchases_not_a_negative_number() {
    let found: [(u32, f64, f64, i64); 31] = [
        (0, 0.0, 41.857142857142854, 0),
        (0, 0.0, 7.428571428571429, 0),
        (12, 38.714285714285715, 39.42857142857143, 2819),
        (3, 3.2857142857142856, 3.857142857142857, 8277),
        (2, 2.2857142857142856, 51.857142857142854, 2557),
        (2, 17.714285714285715, 33.857142857142854, 6662),
        (4, 19.0, 44.142857142857146, 2164),
        (4, 10.857142857142858, 37.142857142857146, 1913),
        (2, 9.714285714285714, 51.857142857142854, 6988),
        (2, 10.428571428571429, 20.714285714285715, 5449),
        (2, 3.4285714285714284, 49.714285714285715, 6370),
        (2, 14.714285714285714, 17.428571428571427, 8967),
        (0, 0.0, 13.428571428571429, 0),
        (1, 11.428571428571429, 38.285714285714285, 3107),
        (1, 5.571428571428571, 50.57142857142857, 4822),
        (1, 0.5714285714285714, 22.428571428571427, 9277),
        (3, 36.285714285714285, 50.714285714285715, 2690),
        (3, 11.142857142857142, 17.857142857142858, 853),
        (3, 22.857142857142858, 47.285714285714285, 749),
        (2, 3.2857142857142856, 48.857142857142854, 4443),
        (1, 2.0, 41.0, 7211),
        (2, 6.714285714285714, 51.42857142857143, 4073),
        (1, 5.714285714285714, 37.857142857142854, 817),
        (1, 8.285714285714286, 13.142857142857142, 809),
        (0, 0.0, 37.285714285714285, 0),
        (0, 0.0, 34.57142857142857, 0),
        (0, 0.0, 2.142857142857143, 0),
        (3, 18.571428571428573, 25.0, 8765),
        (1, 3.5714285714285716, 49.285714285714285, 3874),
        (1, 8.428571428571429, 28.428571428571427, 1075),
        (3, 39.857142857142854, 45.57142857142857, 6450),
    ];
    let customers: Vec<CustomerSummary> = found
        .iter()
        .map(|&(x, t_x, t, spend)| CustomerSummary::new(x, t_x, t, eur(spend)).unwrap())
        .collect();
    for model in [
        ClvModel::fit(&customers).unwrap(),
        ClvModel::fit(&cdnow()).unwrap(),
    ] {
        for horizon in [0.0, 5.251293375880905e-16, 1e-12, 1e-9] {
            for customer in &customers {
                let expected = model
                    .purchases()
                    .expected_purchases(customer, horizon)
                    .unwrap();
                assert!(expected >= 0.0, "{expected} at horizon {horizon}");
                assert!(expected < 1e-6, "{expected} at horizon {horizon}");
            }
        }
    }
}

#[test]
fn expected_spend_is_rounded_once_to_the_minor_unit() {
    // p (γ + x z̄) / (p x + q − 1) = 2 (1 + 1 · 10.00) / (2 + 2 − 1) = 22 / 3 = 7.3333…
    let model = GammaGamma::new(2.0, 2.0, 1.0, Currency::EUR).unwrap();
    let c = CustomerSummary::new(1, 1.0, 2.0, Money::new(1000, Currency::EUR)).unwrap();
    assert_eq!(
        model.expected_spend(&c).unwrap(),
        Money::new(733, Currency::EUR)
    );
    // Without repeat purchases: the population mean p γ / (q − 1) = 2.
    let new = CustomerSummary::new(0, 0.0, 2.0, Money::zero(Currency::EUR)).unwrap();
    assert_eq!(
        model.expected_spend(&new).unwrap(),
        Money::new(200, Currency::EUR)
    );
    // JPY has no minor unit: 22 / 3 yen round to 7.
    let yen = GammaGamma::new(2.0, 2.0, 1.0, Currency::JPY).unwrap();
    let c = CustomerSummary::new(1, 1.0, 2.0, Money::new(10, Currency::JPY)).unwrap();
    assert_eq!(
        yen.expected_spend(&c).unwrap(),
        Money::new(7, Currency::JPY)
    );
    // Another currency than the model's is refused.
    let dollars = CustomerSummary::new(1, 1.0, 2.0, Money::new(10, Currency::USD)).unwrap();
    assert_eq!(
        model.expected_spend(&dollars).unwrap_err().kind(),
        ErrorKind::CurrencyMismatch
    );
    // q ≤ 1: a customer without repeat purchases has no finite expected spend.
    let heavy_tail = GammaGamma::new(2.0, 0.5, 1.0, Currency::EUR).unwrap();
    assert_eq!(
        heavy_tail.expected_spend(&new).unwrap_err().kind(),
        ErrorKind::Validation { field: "customer" }
    );
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

fn validation_field(result: shopkeep::Result<impl std::fmt::Debug>) -> &'static str {
    match result.unwrap_err().kind() {
        ErrorKind::Validation { field } => field,
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn bad_summaries_are_refused() {
    assert_eq!(
        validation_field(CustomerSummary::new(1, 5.0, 4.0, eur(100))),
        "recency"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(0, 1.0, 4.0, eur(0))),
        "recency"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(1, -1.0, 4.0, eur(100))),
        "recency"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(1, f64::NAN, 4.0, eur(100))),
        "recency"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(1, 1.0, f64::INFINITY, eur(100))),
        "age"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(0, 0.0, -1.0, eur(0))),
        "age"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(1, 1.0, 4.0, eur(0))),
        "mean_spend"
    );
    assert_eq!(
        validation_field(CustomerSummary::new(0, 0.0, 4.0, eur(-1))),
        "mean_spend"
    );
    assert_eq!(validation_field(BgNbd::new(0.0, 1.0, 1.0, 1.0)), "r");
    assert_eq!(
        validation_field(BgNbd::new(1.0, f64::NAN, 1.0, 1.0)),
        "alpha"
    );
    assert_eq!(
        validation_field(GammaGamma::new(1.0, 1.0, -1.0, Currency::EUR)),
        "gamma"
    );
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let c = CustomerSummary::new(1, 1.0, 4.0, eur(100)).unwrap();
    assert_eq!(
        validation_field(model.expected_purchases(&c, -1.0)),
        "horizon"
    );
    assert_eq!(
        validation_field(model.expected_purchases(&c, f64::NAN)),
        "horizon"
    );
}

#[test]
fn degenerate_data_give_a_typed_error() {
    let repeat = CustomerSummary::new(3, 20.0, 30.0, eur(1500)).unwrap();
    let newcomer = CustomerSummary::new(0, 0.0, 30.0, eur(0)).unwrap();
    let customers_error = ErrorKind::Validation { field: "customers" };
    // No customers, one customer.
    assert_eq!(BgNbd::fit(&[]).unwrap_err().kind(), customers_error);
    assert_eq!(BgNbd::fit(&[repeat]).unwrap_err().kind(), customers_error);
    assert_eq!(GammaGamma::fit(&[]).unwrap_err().kind(), customers_error);
    assert_eq!(
        ClvModel::fit(&[repeat]).unwrap_err().kind(),
        customers_error
    );
    // No repeat buyers.
    let nobody_came_back = vec![newcomer; 50];
    assert_eq!(
        BgNbd::fit(&nobody_came_back).unwrap_err().kind(),
        customers_error
    );
    assert_eq!(
        GammaGamma::fit(&nobody_came_back).unwrap_err().kind(),
        customers_error
    );
    // One repeat buyer among newcomers: BG/NBD has something to go on, Gamma-Gamma does not.
    let mut one_buyer = nobody_came_back.clone();
    one_buyer.push(repeat);
    assert_eq!(
        GammaGamma::fit(&one_buyer).unwrap_err().kind(),
        customers_error
    );
    // Identical repeat buyers: every spend the same, the spread of ν is not identified.
    let clones = vec![repeat; 20];
    assert_eq!(
        GammaGamma::fit(&clones).unwrap_err().kind(),
        customers_error
    );
    // Spends in two currencies.
    let dollars = CustomerSummary::new(2, 10.0, 30.0, Money::new(900, Currency::USD)).unwrap();
    assert_eq!(
        GammaGamma::fit(&[repeat, repeat, dollars])
            .unwrap_err()
            .kind(),
        ErrorKind::CurrencyMismatch
    );
}

#[test]
fn identical_histories_fit_like_the_weighted_whole() {
    // Aggregation must not change the likelihood: doubling every customer doubles it and
    // leaves the maximum where it was.
    let customers = cdnow();
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let single = model.log_likelihood(&customers).unwrap();
    let doubled: Vec<CustomerSummary> = customers.iter().chain(&customers).copied().collect();
    let twice = model.log_likelihood(&doubled).unwrap();
    assert!((twice - 2.0 * single).abs() < 1e-6 * single.abs());
}

/// Any summary, valid or not, with awkward times (0, huge, infinite, NaN) now and then.
fn summary() -> impl Strategy<Value = shopkeep::Result<CustomerSummary>> {
    let time = prop_oneof![
        4 => 0.0..200.0f64,
        1 => Just(0.0),
        1 => prop::num::f64::ANY,
    ];
    (0u32..40, time.clone(), time, -10i64..100_000).prop_map(|(x, a, b, spend)| {
        let (recency, age) = if x == 0 {
            (0.0, a)
        } else {
            (a.min(b), a.max(b))
        };
        CustomerSummary::new(x, recency, age, eur(spend))
    })
}

/// A customer whose history follows the BG/NBD story (a weekly purchase rate, a dropout
/// chance after each purchase, whole days), drawn from `seed`: data a fit should usually take.
fn simulated(seed: u64) -> shopkeep::Result<CustomerSummary> {
    // splitmix64
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut uniform = move || ((next() >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let age_days = (1.0 + 365.0 * uniform()).floor();
    let rate_per_day = -uniform().ln() * 0.3 / 7.0;
    let dropout = 0.05 + 0.55 * uniform();
    let (mut day, mut last, mut x) = (0.0, 0.0, 0u32);
    loop {
        day += -uniform().ln() / rate_per_day;
        if day >= age_days {
            break;
        }
        x += 1;
        last = day.floor();
        if uniform() < dropout {
            break;
        }
    }
    let spend = if x == 0 {
        0
    } else {
        500 + (10_000.0 * uniform()) as i64
    };
    CustomerSummary::new(x, last / 7.0, age_days / 7.0, eur(spend))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any input: a typed error or finite results, never a panic, NaN or infinity.
    #[test]
    fn random_input_gives_finite_results_or_a_typed_error(
        summaries in prop_oneof![
            // Plausible shops, which mostly fit: the predictions get checked.
            3 => prop::collection::vec(any::<u64>().prop_map(simulated), 0..150),
            // Anything at all, which mostly does not.
            1 => prop::collection::vec(
                prop_oneof![1 => summary(), 3 => any::<u64>().prop_map(simulated)],
                0..60,
            ),
        ],
        horizon in prop_oneof![0.0..500.0f64, prop::num::f64::ANY],
    ) {
        let customers: Vec<CustomerSummary> = summaries.into_iter().filter_map(Result::ok).collect();
        let Ok(model) = ClvModel::fit(&customers) else { return Ok(()) };
        for p in [model.purchases().r(), model.purchases().alpha(), model.purchases().a(),
                  model.purchases().b(), model.spend().p(), model.spend().q(), model.spend().gamma()] {
            prop_assert!(p.is_finite() && p > 0.0);
        }
        for customer in &customers {
            if let Ok(prediction) = model.predict(customer, horizon) {
                prop_assert!((0.0..=1.0).contains(&prediction.probability_alive));
                prop_assert!(prediction.expected_purchases.is_finite());
                prop_assert!(prediction.expected_purchases >= 0.0);
            }
        }
    }
}

// The example's shop generator and report (examples/marketing.rs); its `main` is for the
// command line.
#[allow(dead_code)]
#[path = "../examples/marketing.rs"]
mod marketing_example;

/// |actual / expected − 1| is at most `tolerance`.
fn within(name: &str, actual: f64, expected: f64, tolerance: f64) {
    let relative = (actual / expected - 1.0).abs();
    assert!(
        relative <= tolerance,
        "{name}: fitted {actual:.4}, drawn from {expected:.4}, off by {:.0} % (allowed {:.0} %)",
        relative * 100.0,
        tolerance * 100.0
    );
}

/// A shop whose 1,000 customers buy, drop out and spend as BG/NBD and Gamma-Gamma say (the
/// example's generator, `examples/support/simulate.rs`), placed through checkout and fitted
/// back through the public `refresh_scores`, finds the parameters it was drawn from.
///
/// Tolerances are the sampling error of a shop this size: fitting 100 such shops (seeds 0–99,
/// the same generator, summaries straight from the simulation) gave r within 22 % of the
/// truth, α within 29 %, the mean purchase rate r/α within 15 % and the mean dropout chance
/// a/(a + b) within 28 %; a and b alone are barely identified by one year of 1,000 customers
/// (a ranged 0.48–2.0 around 0.8), so they are held only to a factor of three.
#[test]
fn a_shop_drawn_from_bgnbd_fits_back_to_its_parameters_through_refresh_scores() {
    use shopkeep::marketing::ClvOutcome;

    let shop = marketing_example::generate(1000, 7, false).unwrap();
    let system = shop.store.system();
    let refresh = shop.store.marketing(&system).refresh_scores().unwrap();
    let ClvOutcome::Fitted { model, customers } = refresh.clv() else {
        panic!("not fitted: {:?}", refresh.clv());
    };
    assert_eq!(*customers, 1000);
    let (fit, drawn) = (model.purchases(), marketing_example::PURCHASES);
    within("r", fit.r(), drawn.r, 0.3);
    within("alpha", fit.alpha(), drawn.alpha, 0.3);
    within("r/alpha", fit.r() / fit.alpha(), drawn.r / drawn.alpha, 0.2);
    within(
        "a/(a + b)",
        fit.a() / (fit.a() + fit.b()),
        drawn.a / (drawn.a + drawn.b),
        0.3,
    );
    within("a", fit.a(), drawn.a, 2.0);
    within("b", fit.b(), drawn.b, 2.0);
    // Gamma-Gamma: the mean spend per purchase p·γ/(q − 1) the shop was drawn from is 30 euros;
    // baskets are rounded to the products' prices, so a loose 20 %.
    let (spend, drawn) = (model.spend(), marketing_example::SPEND);
    within(
        "mean spend",
        spend.p() * spend.gamma() / (spend.q() - 1.0),
        drawn.p * drawn.gamma / (drawn.q - 1.0),
        0.2,
    );
}

/// examples/marketing.rs prints an RFM report and, for its few hundred customers, a CLV
/// report: the fitted parameters and the customers worth most.
#[test]
fn the_marketing_example_prints_rfm_and_clv() {
    let shop = marketing_example::generate(marketing_example::CUSTOMERS, 42, true).unwrap();
    let mut out = Vec::new();
    marketing_example::report(&shop, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("RFM: "), "{text}");
    assert!(text.contains("champions"), "{text}");
    assert!(!text.contains("not fitted"), "{text}");
    assert!(text.contains("fitted to their orders: BG/NBD r "), "{text}");
    let clv = text
        .split_once("CLV over the next 365 days for ")
        .unwrap_or_else(|| panic!("no CLV report in:\n{text}"))
        .1;
    let rows: Vec<&str> = clv.lines().skip(2).take(5).collect();
    assert_eq!(rows.len(), 5, "{clv}");
    for row in rows {
        assert!(row.ends_with(" EUR"), "{row}");
    }
}
