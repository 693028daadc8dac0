//! When to try again: `Retry-After` parsing and bounded, jittered backoff.

use std::time::Duration;

/// How 429 and 503 answers are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff step when the server gives no `Retry-After`.
    pub base_delay: Duration,
    /// Longest single wait. A `Retry-After` beyond it fails at once, carrying
    /// the server's value, rather than blocking the caller for minutes.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub const NONE: RetryPolicy = RetryPolicy {
        max_retries: 0,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// The wait before retry number `retry` (0-based), or `None` to give up.
    /// `unit` is a random fraction in `[0, 1)`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, unit: f64) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let delay = match retry_after {
            // Never earlier than asked; spread by up to 10% so clients told the
            // same instant do not return together.
            Some(after) => after + after.mul_f64(0.1 * unit),
            // Full jitter over an exponential window.
            None => self
                .base_delay
                .saturating_mul(1 << retry.min(16))
                .mul_f64(0.5 + 0.5 * unit),
        };
        (delay <= self.max_delay).then_some(delay)
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: Duration) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(at.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn delays_are_bounded_and_jittered() {
        let p = RetryPolicy::default();
        let ra = Some(Duration::from_secs(2));
        assert_eq!(p.delay(0, ra, 0.0), Some(Duration::from_secs(2)));
        assert_eq!(p.delay(0, ra, 0.5), Some(Duration::from_millis(2100)));
        assert_eq!(p.delay(3, ra, 0.0), None, "budget spent");
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(31)), 0.0),
            None,
            "too long"
        );
        let a = p.delay(2, None, 0.0).unwrap();
        let b = p.delay(2, None, 0.99).unwrap();
        assert!(a >= Duration::from_millis(500) && b < Duration::from_millis(1000));
        assert_eq!(RetryPolicy::NONE.delay(0, None, 0.0), None);
    }
}
