//! The I/O seam: a transport carries request bytes out and response bytes
//! back, and a clock tells time and sleeps. Everything above it is pure
//! protocol logic, so the same code runs on tokio, in Node, in Python and in a
//! browser (`fetch` + `setTimeout`).

use std::time::Duration;

/// How long one request may take, its answer's body included, before it fails
/// as [`TransportError::Timeout`]: the same for every transport the SDK ships
/// (reqwest natively, `fetch` in the browser), so a server that never answers
/// cannot hang a renewal, or the tabs waiting on it, for good.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Outgoing request: method, URL, headers and body bytes.
pub type HttpRequest = http::Request<Vec<u8>>;
/// Incoming response: status, headers and body bytes.
pub type HttpResponse = http::Response<Vec<u8>>;

/// `Send + Sync` off wasm32; nothing on wasm32, where JS values are `!Send`.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}
/// `Send + Sync` off wasm32; nothing on wasm32, where JS values are `!Send`.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}

/// The request never produced an HTTP response.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// DNS, connect, TLS or reset.
    #[error("network error: {0}")]
    Network(String),
    /// The request timed out.
    #[error("request timed out")]
    Timeout,
    /// The request could not be built (bad URL, bad header).
    #[error("request could not be sent: {0}")]
    InvalidRequest(String),
}

impl TransportError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Network(_) => "network_error",
            TransportError::Timeout => "timeout",
            TransportError::InvalidRequest(_) => "invalid_request",
        }
    }
}

/// Sends one HTTP request. Implementations must not follow redirects on their
/// own for token endpoints and must not retry: retry policy lives in the core.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Transport: MaybeSendSync {
    /// Sends `request` and returns whatever response arrives, any status.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Wall-clock time and sleeping, injectable so tests control both.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Clock: MaybeSendSync {
    /// Time since the UNIX epoch.
    fn now(&self) -> Duration;
    /// Waits for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// Time since the UNIX epoch from the system clock (`Date.now()` on wasm32).
pub fn system_now() -> Duration {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The system clock with tokio timers.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(feature = "tokio")]
#[async_trait::async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Duration {
        system_now()
    }
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Case-insensitive header lookup over the header shapes callers hold.
pub trait HeaderLookup {
    /// The first value of header `name` (given in lowercase).
    fn header(&self, name: &str) -> Option<&str>;
}

impl HeaderLookup for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.to_str().ok())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for Vec<(K, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S> HeaderLookup for std::collections::HashMap<K, V, S> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for std::collections::BTreeMap<K, V> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}
