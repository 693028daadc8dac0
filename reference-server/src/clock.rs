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
