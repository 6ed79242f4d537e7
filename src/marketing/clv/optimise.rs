//! A small Nelder–Mead minimiser, enough for the three- and four-parameter CLV likelihoods.
//!
//! Why not a crate: the models need an unconstrained, derivative-free minimiser of a smooth
//! function of at most four variables; the parameters are positive, so the models minimise over
//! their logarithms. Nelder–Mead on log-parameters is the standard choice for BG/NBD and
//! Gamma-Gamma (it is what Fader and Hardie's spreadsheets' Solver and the `lifetimes` package
//! do in effect), and it fits in a hundred lines a reviewer can check against the textbook
//! (Nelder & Mead 1965; coefficients 1, 2, ½, ½ as in Lagarias et al. 1998).
//!
//! Convergence: a run stops when the simplex's values differ by at most `F_TOLERANCE`
//! relative to the best value and its vertices lie within `X_TOLERANCE` of the best vertex in
//! every coordinate (both must hold: flat valleys and narrow ones). Nelder–Mead can stall on a
//! degenerate simplex, so the minimiser restarts from the best point with a fresh simplex until
//! a restart no longer improves the value by more than the tolerance (at most `MAX_RESTARTS`).

/// Relative spread of the simplex's values at convergence.
const F_TOLERANCE: f64 = 1e-12;
/// Largest coordinate distance from the best vertex at convergence (in log-parameters: a
/// relative change of 1e-9 in the parameter).
const X_TOLERANCE: f64 = 1e-9;
/// Function evaluations allowed for one run.
const MAX_EVALUATIONS: usize = 20_000;
/// Restarts after the first run.
const MAX_RESTARTS: usize = 5;
/// Edge of the first simplex (a factor e on each parameter) and of the restarts' simplices.
const FIRST_STEP: f64 = 1.0;
const RESTART_STEP: f64 = 0.1;

/// The minimum found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Minimum<const N: usize> {
    pub(crate) point: [f64; N],
    pub(crate) value: f64,
}

/// Minimises `f` from `start`. Non-finite values of `f` count as +∞, so the search stays
/// where the function is defined.
///
/// `None` if `f` is not finite at `start` or a run does not converge within
/// `MAX_EVALUATIONS`.
pub(crate) fn minimise<const N: usize>(
    mut f: impl FnMut(&[f64; N]) -> f64,
    start: [f64; N],
) -> Option<Minimum<N>> {
    let mut f = move |x: &[f64; N]| {
        let value = f(x);
        if value.is_finite() {
            value
        } else {
            f64::INFINITY
        }
    };
    let mut best = run(&mut f, start, FIRST_STEP)?;
    for _ in 0..MAX_RESTARTS {
        let again = run(&mut f, best.point, RESTART_STEP)?;
        let improved = best.value - again.value > F_TOLERANCE * (1.0 + best.value.abs());
        if again.value < best.value {
            best = again;
        }
        if !improved {
            break;
        }
    }
    Some(best)
}

/// One Nelder–Mead run from a simplex with edge `step` at `start`.
fn run<const N: usize>(
    f: &mut impl FnMut(&[f64; N]) -> f64,
    start: [f64; N],
    step: f64,
) -> Option<Minimum<N>> {
    let first = f(&start);
    if !first.is_finite() {
        return None;
    }
    let mut simplex: Vec<([f64; N], f64)> = vec![(start, first)];
    for i in 0..N {
        let mut vertex = start;
        if let Some(coordinate) = vertex.get_mut(i) {
            *coordinate += step;
        }
        simplex.push((vertex, f(&vertex)));
    }
    let mut evaluations = N + 1;
    while evaluations < MAX_EVALUATIONS {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, best_value) = *simplex.first()?;
        let (worst, worst_value) = *simplex.last()?;
        let second_worst_value = simplex.iter().rev().nth(1)?.1;
        let spread_ok = worst_value - best_value <= F_TOLERANCE * (1.0 + best_value.abs());
        let size_ok = simplex.iter().all(|(vertex, _)| {
            vertex
                .iter()
                .zip(best.iter())
                .all(|(v, b)| (v - b).abs() <= X_TOLERANCE)
        });
        if spread_ok && size_ok {
            return Some(Minimum {
                point: best,
                value: best_value,
            });
        }

        let mut centroid = [0.0; N];
        for (vertex, _) in simplex.iter().take(N) {
            for (c, v) in centroid.iter_mut().zip(vertex.iter()) {
                *c += v / N as f64;
            }
        }
        // The point `centroid + t (worst − centroid)`: t = −1 reflects, −2 expands, ±½ contracts.
        let along = |t: f64| {
            let mut point = centroid;
            for (p, w) in point.iter_mut().zip(worst.iter()) {
                *p += t * (w - *p);
            }
            point
        };

        let reflected = along(-1.0);
        let reflected_value = f(&reflected);
        evaluations += 1;
        let replacement = if reflected_value < best_value {
            let expanded = along(-2.0);
            let expanded_value = f(&expanded);
            evaluations += 1;
            Some(if expanded_value < reflected_value {
                (expanded, expanded_value)
            } else {
                (reflected, reflected_value)
            })
        } else if reflected_value < second_worst_value {
            Some((reflected, reflected_value))
        } else {
            let outside = reflected_value < worst_value;
            let contracted = along(if outside { -0.5 } else { 0.5 });
            let contracted_value = f(&contracted);
            evaluations += 1;
            let bound = if outside {
                reflected_value
            } else {
                worst_value
            };
            (contracted_value <= bound).then_some((contracted, contracted_value))
        };
        match replacement {
            Some(vertex) => {
                if let Some(last) = simplex.last_mut() {
                    *last = vertex;
                }
            }
            None => {
                // Shrink every vertex halfway towards the best one.
                for (vertex, value) in simplex.iter_mut().skip(1) {
                    for (v, b) in vertex.iter_mut().zip(best.iter()) {
                        *v = b + 0.5 * (*v - b);
                    }
                    *value = f(vertex);
                }
                evaluations += N;
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_the_rosenbrock_function() {
        let rosenbrock = |x: &[f64; 2]| {
            let [a, b] = *x;
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let minimum = minimise(rosenbrock, [-1.2, 1.0]).unwrap();
        assert!((minimum.point[0] - 1.0).abs() < 1e-6, "{minimum:?}");
        assert!((minimum.point[1] - 1.0).abs() < 1e-6, "{minimum:?}");
    }

    #[test]
    fn steps_around_where_the_function_is_undefined() {
        // Defined only for x > 0, minimum at x = 2, y = −1.
        let f = |x: &[f64; 2]| {
            let [a, b] = *x;
            (a - 2.0).powi(2) + (b + 1.0).powi(2) + a.ln() * 0.0
        };
        let minimum = minimise(f, [0.1, 0.0]).unwrap();
        assert!((minimum.point[0] - 2.0).abs() < 1e-6, "{minimum:?}");
    }

    #[test]
    fn refuses_an_undefined_start() {
        assert_eq!(minimise(|_: &[f64; 1]| f64::NAN, [0.0]), None);
    }
}
