//! A session: a token set behind pluggable storage, renewed before expiry
//! with single-flight (N concurrent callers cause one renewal), rotation,
//! change events, authenticated requests and a logout that revokes.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client::OAuthClient;
use crate::error::{Error, Result};
use crate::runtime::{clone_request, expect_success, Retry};
use crate::secret::Secret;
use crate::tokens::TokenSet;
use crate::transport::{HttpRequest, HttpResponse, MaybeSendSync};

/// Default window before expiry in which the token is renewed.
pub const DEFAULT_SKEW: Duration = Duration::from_secs(60);

/// Where a session keeps its tokens.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait SessionStorage: MaybeSendSync {
    /// The stored token set, if any.
    async fn load(&self) -> Result<Option<TokenSet>>;
    /// Replaces the stored token set.
    async fn store(&self, tokens: &TokenSet) -> Result<()>;
    /// Forgets the tokens.
    async fn clear(&self) -> Result<()>;
}

/// A lock shared with the other holders of the same storage (the other
/// tabs of a browser app, through Web Locks), taken around each renewal so
/// that exactly one of them refreshes: the others then find the winner's
/// tokens in storage instead of spending the single-use refresh token again.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait SharedLock: MaybeSendSync {
    /// Waits for the lock, for a bounded time, and holds it until the guard
    /// drops. On timeout an implementation returns a guard anyway (and says
    /// so): a stuck holder must never wedge the others.
    async fn acquire(&self) -> Result<Box<dyn SharedLockGuard>>;
}

/// Holds a [`SharedLock`] until dropped.
pub trait SharedLockGuard: MaybeSendSync {}

/// In-process storage.
#[derive(Debug, Default)]
pub struct MemoryStorage(Mutex<Option<TokenSet>>);

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl SessionStorage for MemoryStorage {
    async fn load(&self) -> Result<Option<TokenSet>> {
        Ok(self.0.lock().map_err(poisoned)?.clone())
    }
    async fn store(&self, tokens: &TokenSet) -> Result<()> {
        *self.0.lock().map_err(poisoned)? = Some(tokens.clone());
        Ok(())
    }
    async fn clear(&self) -> Result<()> {
        *self.0.lock().map_err(poisoned)? = None;
        Ok(())
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Storage("lock poisoned".into())
}

/// How an expiring session gets a new access token.
#[derive(Debug, Clone)]
pub enum Renewal {
    /// The `refresh_token` grant (user sessions).
    RefreshToken,
    /// Re-exchange a long-lived API key (`exchangeApiKey`, cached and renewed).
    ApiKey {
        /// The `sgl_…` key.
        key: Secret,
        /// Scopes to request.
        scopes: Vec<String>,
    },
    /// Ask again with `client_credentials`.
    ClientCredentials {
        /// Scopes to request.
        scopes: Vec<String>,
    },
}

/// What happened to the session's tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// Tokens were set from outside (callback, restore).
    Stored(TokenSet),
    /// A renewal replaced the tokens (a rotated refresh token included).
    Refreshed(TokenSet),
    /// Renewal was refused (`invalid_grant`): the tokens were dropped, and
    /// the call that renewed fails with [`Error::LoginRequired`].
    Expired,
    /// `logout()` ran.
    LoggedOut,
}

#[cfg(not(target_arch = "wasm32"))]
type Listener = dyn Fn(&SessionEvent) + Send + Sync;
#[cfg(target_arch = "wasm32")]
type Listener = dyn Fn(&SessionEvent);

/// A token session over one [`OAuthClient`].
pub struct Session {
    client: OAuthClient,
    storage: Arc<dyn SessionStorage>,
    renewal: Renewal,
    skew: Duration,
    /// Serializes renewals; the token is re-read under it so waiters reuse
    /// the winner's result instead of renewing again.
    renewing: futures::lock::Mutex<()>,
    /// Taken inside `renewing`, when the storage is shared beyond this process.
    shared_lock: Option<Arc<dyn SharedLock>>,
    listeners: Mutex<Vec<Arc<Listener>>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("client_id", &self.client.client_id())
            .field("renewal", &self.renewal)
            .field("skew", &self.skew)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `storage`, renewed by `renewal`.
    pub fn new(client: OAuthClient, storage: Arc<dyn SessionStorage>, renewal: Renewal) -> Self {
        Self {
            client,
            storage,
            renewal,
            skew: DEFAULT_SKEW,
            renewing: futures::lock::Mutex::new(()),
            shared_lock: None,
            listeners: Mutex::new(Vec::new()),
        }
    }

    /// Coordinates renewals with the other holders of the same storage.
    pub fn with_shared_lock(mut self, lock: Arc<dyn SharedLock>) -> Self {
        self.shared_lock = Some(lock);
        self
    }

    /// Both renewal locks: this process's, then the shared one.
    async fn lock_renewal(&self) -> Result<RenewalGuard<'_>> {
        let local = self.renewing.lock().await;
        let shared = match &self.shared_lock {
            Some(lock) => Some(lock.acquire().await?),
            None => None,
        };
        Ok(RenewalGuard {
            _shared: shared,
            _local: local,
        })
    }

    /// Renew this long before expiry (default 60 s).
    pub fn with_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The client behind the session.
    pub fn client(&self) -> &OAuthClient {
        &self.client
    }

    /// Registers a listener for token changes.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_change(&self, listener: impl Fn(&SessionEvent) + Send + Sync + 'static) {
        self.add_listener(Arc::new(listener));
    }

    /// Registers a listener for token changes.
    #[cfg(target_arch = "wasm32")]
    pub fn on_change(&self, listener: impl Fn(&SessionEvent) + 'static) {
        self.add_listener(Arc::new(listener));
    }

    fn add_listener(&self, listener: Arc<Listener>) {
        if let Ok(mut l) = self.listeners.lock() {
            l.push(listener);
        }
    }

    fn emit(&self, event: SessionEvent) {
        // Copy out so a listener may register another without deadlocking.
        let listeners = self.listeners.lock().map(|l| l.clone()).unwrap_or_default();
        for l in listeners {
            l(&event);
        }
    }

    /// Stores tokens obtained elsewhere (a callback, a restore).
    pub async fn set_tokens(&self, tokens: TokenSet) -> Result<()> {
        self.storage.store(&tokens).await?;
        self.emit(SessionEvent::Stored(tokens));
        Ok(())
    }

    /// The current token set, without renewing.
    pub async fn tokens(&self) -> Result<Option<TokenSet>> {
        self.storage.load().await
    }

    /// A valid access token, renewed first when within the skew window.
    pub async fn access_token(&self) -> Result<Secret> {
        let now = self.client.runtime().now();
        if let Some(t) = self.storage.load().await? {
            if t.is_fresh(now, self.skew) {
                return Ok(t.access_token);
            }
        }
        self.renew(None).await
    }

    /// Renews unless someone already replaced `stale` (or the expired token).
    async fn renew(&self, stale: Option<&Secret>) -> Result<Secret> {
        let _guard = self.lock_renewal().await?;
        let current = self.storage.load().await?;
        let now = self.client.runtime().now();
        if let Some(t) = &current {
            let replaced = stale.is_some_and(|s| s != &t.access_token);
            if (stale.is_none() && t.is_fresh(now, self.skew)) || replaced {
                return Ok(t.access_token.clone());
            }
        }
        let result = match (&self.renewal, &current) {
            (
                Renewal::RefreshToken,
                Some(TokenSet {
                    refresh_token: Some(rt),
                    ..
                }),
            ) => self.client.refresh(rt, &[]).await,
            (Renewal::RefreshToken, _) => {
                return Err(Error::NotAuthenticated(
                    "no valid access token and no refresh token",
                ))
            }
            (Renewal::ApiKey { key, scopes }, _) => self.client.exchange_api_key(key, scopes).await,
            (Renewal::ClientCredentials { scopes }, _) => {
                self.client.client_credentials(scopes).await
            }
        };
        match result {
            Ok(tokens) => {
                self.storage.store(&tokens).await?;
                let access = tokens.access_token.clone();
                self.emit(SessionEvent::Refreshed(tokens));
                Ok(access)
            }
            Err(e @ Error::OAuth { .. }) if e.code() == "invalid_grant" => {
                self.storage.clear().await?;
                self.emit(SessionEvent::Expired);
                // A user's session needs a new sign-in; a key or client
                // credential that is refused stays the server's OAuth error.
                Err(match self.renewal {
                    Renewal::RefreshToken => Error::LoginRequired(Box::new(e)),
                    _ => e,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Revokes the refresh and access tokens, then forgets them. The local
    /// logout happens even when revocation fails; that failure is returned.
    pub async fn logout(&self) -> Result<()> {
        let _guard = self.lock_renewal().await?;
        let tokens = self.storage.load().await?;
        let mut outcome = Ok(());
        // RFC 7009 needs client authentication: a session without a client
        // (an API-key session) has nothing to revoke with, and only forgets.
        let can_revoke = !self.client.client_id().is_empty()
            && self.client.metadata().revocation_endpoint.is_some();
        if let Some(t) = &tokens {
            if can_revoke {
                if let Some(rt) = &t.refresh_token {
                    outcome = self.client.revoke(rt.expose(), Some("refresh_token")).await;
                }
                let access = self
                    .client
                    .revoke(t.access_token.expose(), Some("access_token"))
                    .await;
                outcome = outcome.and(access);
            }
        }
        self.storage.clear().await?;
        self.emit(SessionEvent::LoggedOut);
        outcome
    }

    /// Sends an authenticated request. A 401 renews the token once and
    /// replays; 429 and 503 honour `Retry-After` within the retry policy;
    /// any other error status becomes a typed error.
    pub async fn request(&self, mut request: HttpRequest) -> Result<HttpResponse> {
        add_idempotency_key(&mut request)?;
        let mut token = self.access_token().await?;
        let mut replayed = false;
        loop {
            let mut outgoing = clone_request(&request);
            let bearer = http::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| Error::InvalidResponse("access token is not a header value".into()))?;
            outgoing
                .headers_mut()
                .insert(http::header::AUTHORIZATION, bearer);
            let response = self.client.runtime().send(outgoing, Retry::Allowed).await?;
            if response.status() == http::StatusCode::UNAUTHORIZED && !replayed {
                replayed = true;
                token = self.renew(Some(&token)).await?;
                continue;
            }
            return expect_success(response, self.client.runtime().now());
        }
    }

    /// Sends a request to a public endpoint (the provider-login exchange)
    /// without a bearer token, through the session's runtime: the same
    /// transport and typed errors as [`Session::request`], but the
    /// session's tokens are neither read nor renewed, so it works before the
    /// session holds any. An `Authorization` header already on the request
    /// is removed. Such requests spend a single-use code, so only a 429
    /// (refused before the code is read) is retried, never a 503.
    pub async fn request_without_token(&self, mut request: HttpRequest) -> Result<HttpResponse> {
        add_idempotency_key(&mut request)?;
        request.headers_mut().remove(http::header::AUTHORIZATION);
        let runtime = self.client.runtime();
        let response = runtime.send(request, Retry::RateLimitOnly).await?;
        expect_success(response, runtime.now())
    }
}

/// Adds a random `Idempotency-Key` where Sigil requires one and the caller
/// gave none.
fn add_idempotency_key(request: &mut HttpRequest) -> Result<()> {
    if requires_idempotency_key(request) && !request.headers().contains_key(IDEMPOTENCY_KEY) {
        let key = http::HeaderValue::from_str(&crate::random::token())
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        request.headers_mut().insert(IDEMPOTENCY_KEY, key);
    }
    Ok(())
}

/// Held while renewing; fields drop in order, the shared lock first.
struct RenewalGuard<'a> {
    _shared: Option<Box<dyn SharedLockGuard>>,
    _local: futures::lock::MutexGuard<'a, ()>,
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Sigil endpoints that refuse a POST without `Idempotency-Key`.
fn requires_idempotency_key(request: &HttpRequest) -> bool {
    request.method() == http::Method::POST
        && request
            .uri()
            .path()
            .trim_end_matches('/')
            .ends_with("/app/v1/messages")
}
