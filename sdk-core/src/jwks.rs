//! Offline verification of Sigil access and agent tokens against a JWKS that
//! is fetched once, cached, and refetched when a token names an unknown `kid`
//! (signing keys rotate) — at most once per `min_refresh_interval`, so a flood
//! of forged `kid`s cannot turn into a flood of JWKS requests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::jws::{self, Jwks, TokenError, VerifiedToken, VerifyOptions};
use crate::runtime::{expect_success, json_body, Retry, Runtime};

/// Default minimum time between two JWKS fetches.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Cached {
    jwks: Option<Arc<Jwks>>,
    fetched_at: Option<Duration>,
}

/// A JWKS cache bound to one `jwks_uri`.
#[derive(Debug)]
pub struct JwksCache {
    uri: String,
    runtime: Runtime,
    min_refresh: Duration,
    cached: Mutex<Cached>,
    fetching: futures::lock::Mutex<()>,
}

impl JwksCache {
    /// A cache for `jwks_uri`.
    pub fn new(jwks_uri: impl Into<String>, runtime: Runtime) -> Self {
        Self {
            uri: jwks_uri.into(),
            runtime,
            min_refresh: DEFAULT_MIN_REFRESH,
            cached: Mutex::new(Cached::default()),
            fetching: futures::lock::Mutex::new(()),
        }
    }

    /// Sets the minimum interval between fetches.
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh = interval;
        self
    }

    /// Verifies `token` with the cached keys, refetching once when its `kid`
    /// is unknown and the last fetch is old enough.
    pub async fn verify(&self, token: &str, options: &VerifyOptions) -> Result<VerifiedToken> {
        let header = jws::decode_header(token)?;
        let kid = header.kid.as_deref();
        let known = self.snapshot().filter(|j| j.find(kid).is_some());
        let jwks = match known {
            Some(jwks) => jwks,
            None => self.refresh_for(kid).await?,
        };
        let now = self.runtime.now().as_secs() as i64;
        Ok(jws::verify(token, &jwks, options, now)?)
    }

    fn snapshot(&self) -> Option<Arc<Jwks>> {
        self.cached.lock().ok().and_then(|c| c.jwks.clone())
    }

    async fn refresh_for(&self, kid: Option<&str>) -> Result<Arc<Jwks>> {
        let _guard = self.fetching.lock().await;
        let now = self.runtime.now();
        let (current, fetched_at) = {
            let c = self
                .cached
                .lock()
                .map_err(|_| Error::Storage("JWKS cache lock poisoned".into()))?;
            (c.jwks.clone(), c.fetched_at)
        };
        // Another caller may have fetched while we waited.
        if let Some(j) = current.as_ref().filter(|j| j.find(kid).is_some()) {
            return Ok(j.clone());
        }
        let recently = fetched_at.is_some_and(|at| now.saturating_sub(at) < self.min_refresh);
        if recently {
            return Err(TokenError::UnknownKey(kid.map(str::to_owned)).into());
        }
        let request = http::Request::get(&self.uri)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let response = self.runtime.send(request, Retry::Allowed).await?;
        let response = expect_success(response, self.runtime.now())?;
        let jwks: Arc<Jwks> = Arc::new(json_body(&response, "JWKS")?);
        if let Ok(mut c) = self.cached.lock() {
            c.jwks = Some(jwks.clone());
            c.fetched_at = Some(now);
        }
        if jwks.find(kid).is_none() {
            return Err(TokenError::UnknownKey(kid.map(str::to_owned)).into());
        }
        Ok(jwks)
    }
}
