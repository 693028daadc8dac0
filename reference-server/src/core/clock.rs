//! Server time, shiftable in test mode (`POST /_test/clock`) so CI can expire
//! codes and tokens without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

/// Wall clock plus a test offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    /// UNIX seconds, offset applied.
    pub fn now(&self) -> i64 {
        sigil::transport::system_now().as_secs() as i64 + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Moves the clock by `secs` (may be negative).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }

    /// Sets the clock to an absolute time.
    pub fn set(&self, unix_secs: i64) {
        let real = sigil::transport::system_now().as_secs() as i64;
        self.offset_secs.store(unix_secs - real, Ordering::Relaxed);
    }
}

/// UNIX seconds as RFC 3339 UTC (`2026-01-01T00:00:00Z`).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_614_265_330), "2021-02-25T15:02:10Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
