//! Login throttling: the settings and the delay rule. The counting is in `throttle_repo.rs`.

use std::time::Duration;

use crate::error::{Error, Result};

/// How failed logins (of customers and of staff) are throttled.
///
/// Failures are counted per email address (by its blind index), whether or not an account has
/// that address, so throttling behaves the same for every email and tells an attacker nothing
/// about which accounts exist. After `free_failures` failures in a row, each further failure
/// makes that email wait before the next attempt: `first_delay`, doubling with each failure, at
/// most `max_delay`. Attempts during a wait are refused with `ErrorKind::TooManyAttempts`
/// before any password is checked. A successful login or a password reset clears the count;
/// so does a quiet period of `forget_after` without failures.
///
/// The default: 5 free failures, then 30 s, 1 min, 2 min, ... up to 15 min; forgotten after
/// 24 hours. Throttling slows guessing down to a few dozen guesses a day per account; it also
/// lets anyone who knows an email keep that account waiting, which is why it delays rather than
/// locks.
///
/// ```
/// use std::time::Duration;
/// use shopkeep::{KeyRing, Store};
/// use shopkeep::access::LoginThrottle;
///
/// let throttle = LoginThrottle::new(3, Duration::from_secs(10), Duration::from_secs(600))?;
/// let store = Store::options()
///     .login_throttle(throttle)
///     .open_in_memory(KeyRing::generate()?)?;
/// # let _ = store;
/// Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    free_failures: u32,
    first_delay: Duration,
    max_delay: Duration,
    forget_after: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            free_failures: 5,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl LoginThrottle {
    /// Throttling that starts after `free_failures` failures, with delays from `first_delay`
    /// doubling up to `max_delay`; failures are forgotten after 24 hours without one.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `login_throttle`) if `free_failures` is 0 or over 100,
    /// `first_delay` is under a second, or `max_delay` is under `first_delay` or over a day.
    pub fn new(free_failures: u32, first_delay: Duration, max_delay: Duration) -> Result<Self> {
        let day = Duration::from_secs(24 * 3600);
        if !(1..=100).contains(&free_failures)
            || first_delay < Duration::from_secs(1)
            || max_delay < first_delay
            || max_delay > day
        {
            return Err(Error::validation(
                "login_throttle",
                "allow 1 to 100 free failures, then delays of at least a second, at most a day",
            ));
        }
        Ok(LoginThrottle {
            free_failures,
            first_delay,
            max_delay,
            forget_after: day,
        })
    }

    /// The same throttle, forgetting failures after `quiet` without one.
    ///
    /// # Errors
    ///
    /// A `Validation` error (field `login_throttle`) if `quiet` is shorter than `max_delay`
    /// (a wait would outlast the memory of why it started) or longer than 30 days.
    pub fn forget_after(self, quiet: Duration) -> Result<Self> {
        if quiet < self.max_delay || quiet > Duration::from_secs(30 * 24 * 3600) {
            return Err(Error::validation(
                "login_throttle",
                "failures are forgotten after at least the longest delay and at most 30 days",
            ));
        }
        Ok(LoginThrottle {
            forget_after: quiet,
            ..self
        })
    }

    /// The quiet period after which failures are forgotten.
    pub fn forget_period(&self) -> Duration {
        self.forget_after
    }

    /// How long an email must wait after its `failures`-th failure in a row: nothing before
    /// `free_failures`, then `first_delay` doubling per failure, capped at `max_delay`.
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(over) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_double_up_to_the_cap() {
        let t = LoginThrottle::default();
        let secs: Vec<u64> = (0..=12).map(|n| t.delay_after(n).as_secs()).collect();
        assert_eq!(secs, [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(t.delay_after(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn nonsense_settings_are_refused() {
        let s = Duration::from_secs;
        assert!(LoginThrottle::new(0, s(1), s(2)).is_err());
        assert!(LoginThrottle::new(3, s(0), s(2)).is_err());
        assert!(LoginThrottle::new(3, s(10), s(5)).is_err());
        assert!(LoginThrottle::new(3, s(10), s(2 * 86_400)).is_err());
        let t = LoginThrottle::new(3, s(10), s(600)).unwrap();
        assert!(t.forget_after(s(60)).is_err());
        assert_eq!(t.forget_after(s(3600)).unwrap().forget_period(), s(3600));
    }
}
