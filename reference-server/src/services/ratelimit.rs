//! Rate limits with governor: per client IP on sign-in and OAuth endpoints,
//! per credential on the management API, per app on reports. A refusal is a 429 with
//! `Retry-After` (seconds, rounded up).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::app::config::Config;

/// The limiters in force.
#[derive(Debug)]
pub struct Limits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_key: DefaultKeyedRateLimiter<String>,
    per_reporter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(per_second: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

impl Limits {
    /// Limiters sized from the configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(config.ip_rate_per_sec, config.ip_rate_burst)),
            per_key: RateLimiter::keyed(quota(config.key_rate_per_sec, config.key_rate_burst)),
            per_reporter: RateLimiter::keyed(
                Quota::per_minute(
                    NonZeroU32::new(config.report_rate_per_min.max(1)).unwrap_or(NonZeroU32::MIN),
                )
                .allow_burst(
                    NonZeroU32::new(config.report_rate_burst.max(1)).unwrap_or(NonZeroU32::MIN),
                ),
            ),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(seconds to wait)` when `ip` is over its quota.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), u64> {
        self.per_ip
            .check_key(&ip)
            .map_err(|not_until| wait_secs(&not_until, &self.clock))
    }

    /// `Err(seconds to wait)` when the credential `key` is over its quota.
    pub fn check_key(&self, key: &str) -> Result<(), u64> {
        if let Err(not_until) = self.per_key.check_key(&key.to_owned()) {
            return Err(wait_secs(&not_until, &self.clock));
        }
        Ok(())
    }

    /// `Err(seconds to wait)` when the app `app_id` filed too many reports.
    pub fn check_report(&self, app_id: &str) -> Result<(), u64> {
        self.per_reporter
            .check_key(&app_id.to_owned())
            .map_err(|not_until| wait_secs(&not_until, &self.clock))
    }
}

fn wait_secs(
    not_until: &governor::NotUntil<governor::clock::QuantaInstant>,
    clock: &DefaultClock,
) -> u64 {
    let wait = not_until.wait_time_from(clock.now());
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
