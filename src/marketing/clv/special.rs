//! Special functions for the CLV models: ln Γ and the Gauss hypergeometric series.
//!
//! Both are small own implementations rather than a dependency: the models need exactly these
//! two functions on positive real arguments, and both are tested against closed forms below.

/// Lanczos approximation, g = 7 with 9 coefficients (the set Numerical Recipes and most
/// libraries use): relative error below 1e-15 for positive arguments.
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0.
///
/// Returns NaN for x ≤ 0 or NaN and +∞ for x = +∞; the likelihoods treat any non-finite value
/// as "infinitely unlikely", so the optimiser steps away from such parameters.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    if x < 0.5 {
        // Reflection, Γ(x) Γ(1 − x) = π / sin(πx): the series is accurate only for x ≥ 1/2.
        // sin(πx) > 0 on (0, 1/2).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = 0.0;
    let mut shift = 0.0;
    for coefficient in LANCZOS {
        sum += if shift == 0.0 {
            coefficient
        } else {
            coefficient / (x + shift)
        };
        shift += 1.0;
    }
    let t = x + LANCZOS_G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// How many terms [`scaled_hyp2f1`] sums before giving up.
const MAX_TERMS: u32 = 1_000_000;

/// `c · ₂F₁(a, b; c; z)`, by its power series.
///
/// Domain: `0 ≤ z < 1` and `c > −1`; `a` and `b` any finite reals. The series
/// Σₙ (a)ₙ (b)ₙ / (c)ₙ zⁿ / n! converges for |z| < 1; multiplying by `c` lets `c` reach 0 and
/// below (to −1): `c / (c)ₙ = 1 / (c + 1)ₙ₋₁`, so no term divides by `c` itself. The
/// BG/NBD conditional expectation needs `c = a + b + x − 1`, which is at most 0 for a
/// customer without repeat purchases when the fitted `a + b ≤ 1`.
///
/// Terms are summed until one is below 1e-17 of the sum, scaled by `1 − z` so that the
/// geometric tail (ratio → z) is covered too. `None` outside the domain or when the sum is
/// not finite or has not converged after a million terms (only when z is within about 1e-5
/// of 1).
pub(crate) fn scaled_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    let inputs_ok = [a, b, c, z].iter().all(|v| v.is_finite());
    if !inputs_ok || !(0.0..1.0).contains(&z) || c <= -1.0 {
        return None;
    }
    let mut sum = c;
    let mut term = a * b * z;
    let mut n = 1.0;
    for _ in 0..MAX_TERMS {
        sum += term;
        if !sum.is_finite() {
            return None;
        }
        if term == 0.0 || term.abs() <= 1e-17 * sum.abs() * (1.0 - z) {
            return Some(sum);
        }
        term *= (a + n) * (b + n) * z / ((c + n) * (n + 1.0));
        n += 1.0;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        let scale = expected.abs().max(1.0);
        assert!(
            (actual - expected).abs() <= tolerance * scale,
            "{actual} is not {expected}"
        );
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        // Reference values: Python's math.lgamma (Cephes), exact where a factorial.
        close(ln_gamma(1.0), 0.0, 1e-15);
        close(ln_gamma(2.0), 0.0, 1e-15);
        close(ln_gamma(0.5), 0.572_364_942_924_700_4, 1e-14);
        close(ln_gamma(10.0), 362_880f64.ln(), 1e-14);
        close(ln_gamma(100.0), 359.134_205_369_575_4, 1e-14);
        close(ln_gamma(1e-3), 6.907_178_885_383_853, 1e-13);
        close(ln_gamma(0.243), 1.318_043_584_699_67, 1e-13);
        close(ln_gamma(1e6), 12_815_504.569_147_61, 1e-14);
    }

    #[test]
    fn ln_gamma_refuses_non_positive_arguments() {
        assert!(ln_gamma(0.0).is_nan());
        assert!(ln_gamma(-1.5).is_nan());
        assert!(ln_gamma(f64::NAN).is_nan());
        assert_eq!(ln_gamma(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn hypergeometric_series_matches_closed_forms() {
        for z in [0.0f64, 0.1, 0.5, 0.9, 0.99] {
            // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
            let expected = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            close(
                scaled_hyp2f1(1.0, 1.0, 2.0, z).unwrap() / 2.0,
                expected,
                1e-13,
            );
            // ₂F₁(a, b; b; z) = (1 − z)^(−a)
            close(
                scaled_hyp2f1(0.7, 3.2, 3.2, z).unwrap() / 3.2,
                (1.0 - z).powf(-0.7),
                1e-13,
            );
        }
        // c · ₂F₁ at c = 0 is the limit Σₙ≥₁ (a)ₙ (b)ₙ / (n − 1)! zⁿ / n!, finite:
        // for b = 1 it is a z ₁F₀(a + 1; ; z) = a z (1 − z)^(−a − 1).
        close(
            scaled_hyp2f1(0.5, 1.0, 0.0, 0.3).unwrap(),
            0.5 * 0.3 * 0.7f64.powf(-1.5),
            1e-13,
        );
    }

    #[test]
    fn hypergeometric_series_refuses_its_outside() {
        assert_eq!(scaled_hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(scaled_hyp2f1(1.0, 1.0, 2.0, -0.1), None);
        assert_eq!(scaled_hyp2f1(1.0, 1.0, -1.0, 0.5), None);
        assert_eq!(scaled_hyp2f1(f64::NAN, 1.0, 2.0, 0.5), None);
    }
}
