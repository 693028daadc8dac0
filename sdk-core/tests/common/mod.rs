//! Shared helpers for the wiremock suites: a clock that records sleeps and
//! returns at once (so Retry-After tests take no wall time), and a runtime
//! over the real reqwest transport.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sigil::reqwest_transport::ReqwestTransport;
use sigil::{Clock, Runtime, ServerMetadata};

pub const T0: u64 = 1_700_000_000;

#[derive(Debug, Default)]
pub struct TestClock {
    now_ms: AtomicU64,
    pub sleeps: Mutex<Vec<Duration>>,
}

impl TestClock {
    pub fn at(secs: u64) -> Arc<Self> {
        let c = Self::default();
        c.now_ms.store(secs * 1000, Ordering::SeqCst);
        Arc::new(c)
    }
    pub fn advance(&self, d: Duration) {
        self.now_ms
            .fetch_add(d.as_millis() as u64, Ordering::SeqCst);
    }
    pub fn slept(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Clock for TestClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms.load(Ordering::SeqCst))
    }
    async fn sleep(&self, d: Duration) {
        self.sleeps.lock().unwrap().push(d);
        self.advance(d);
    }
}

pub fn runtime(clock: Arc<TestClock>) -> Runtime {
    Runtime::new(Arc::new(ReqwestTransport::default()), clock)
}

pub fn metadata(base: &str) -> ServerMetadata {
    ServerMetadata::sigil(base)
}

pub fn token_json(access: &str, refresh: Option<&str>, expires_in: u64) -> serde_json::Value {
    let mut v = serde_json::json!({
        "access_token": access, "token_type": "Bearer", "expires_in": expires_in
    });
    if let Some(r) = refresh {
        v["refresh_token"] = r.into();
    }
    v
}
