//! The transport, clock and retry policy a client runs on, and the one send
//! loop that applies the retry rules.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::transport::{Clock, HttpRequest, HttpResponse, Transport};

/// Whether a request may be sent again after a 429 or 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Honour `Retry-After` within the policy.
    Allowed,
    /// One attempt only: the request consumes something (an authorization
    /// code) that a second attempt would replay.
    Never,
    /// Retry a 429 only: the server refuses it before reading the request,
    /// so nothing was consumed. A 503 may come from a proxy after the
    /// server spent a single-use code, and a replay would revoke what that
    /// code gave.
    RateLimitOnly,
}

/// What a client needs from its environment.
#[derive(Clone)]
pub struct Runtime {
    /// Sends HTTP requests.
    pub transport: Arc<dyn Transport>,
    /// Tells time and sleeps.
    pub clock: Arc<dyn Clock>,
    /// Retry rules for 429 and 503.
    pub retry: RetryPolicy,
    /// `User-Agent` sent on every request.
    pub user_agent: String,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime over any transport and clock.
    pub fn new(transport: Arc<dyn Transport>, clock: Arc<dyn Clock>) -> Self {
        Self {
            transport,
            clock,
            retry: RetryPolicy::default(),
            user_agent: concat!("sigil-rust/", env!("CARGO_PKG_VERSION")).into(),
        }
    }

    /// reqwest and tokio timers.
    #[cfg(feature = "reqwest")]
    pub fn native() -> Self {
        Self::new(
            Arc::new(crate::reqwest_transport::ReqwestTransport::default()),
            Arc::new(crate::transport::SystemClock),
        )
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Time since the UNIX epoch, by this runtime's clock.
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Sends `request`, retrying 429 (and 503 with `Retry-After`) per the
    /// policy when `retry` allows. Returns successful and client-error responses as they are;
    /// a 429/503 that is not retried becomes a typed error carrying
    /// `retryAfter`. Transport failures are never retried here: the request
    /// may have been processed.
    pub async fn send(&self, request: HttpRequest, retry: Retry) -> Result<HttpResponse> {
        let mut attempt = 0;
        loop {
            let mut outgoing = clone_request(&request);
            if !outgoing.headers().contains_key(http::header::USER_AGENT) {
                if let Ok(ua) = http::HeaderValue::from_str(&self.user_agent) {
                    outgoing.headers_mut().insert(http::header::USER_AGENT, ua);
                }
            }
            let response = self.transport.send(outgoing).await?;
            let status = response.status().as_u16();
            if status != 429 && status != 503 {
                return Ok(response);
            }
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, self.clock.now()));
            let delay = match retry {
                // A 503 without Retry-After names no time it will recover
                // (an unconfigured feature, maintenance): retrying blindly
                // only delays the error. A 429 always has a next window.
                Retry::Allowed if status == 503 && retry_after.is_none() => None,
                Retry::Allowed => {
                    self.retry
                        .delay(attempt, retry_after, crate::random::unit_fraction())
                }
                Retry::RateLimitOnly if status == 429 => {
                    self.retry
                        .delay(attempt, retry_after, crate::random::unit_fraction())
                }
                Retry::Never | Retry::RateLimitOnly => None,
            };
            match delay {
                Some(delay) => {
                    self.clock.sleep(delay).await;
                    attempt += 1;
                }
                None => return Err(crate::error_body::from_response(&response, self.now())),
            }
        }
    }
}

/// `http::Request` is not `Clone` (extensions); retries need a copy.
pub(crate) fn clone_request(request: &HttpRequest) -> HttpRequest {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// Fails with the typed error for any non-2xx response.
pub(crate) fn expect_success(response: HttpResponse, now: Duration) -> Result<HttpResponse> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(crate::error_body::from_response(&response, now))
    }
}

/// Parses a JSON success body, naming what was expected on failure.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    response: &HttpResponse,
    what: &str,
) -> Result<T> {
    crate::json::from_slice(response.body())
        .map_err(|e| Error::InvalidResponse(format!("{what}: {e}")))
}
