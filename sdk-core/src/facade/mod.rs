//! The binding-neutral SDK: what `@sigil/node`, `sigil` (Python) and
//! `@sigil/web` wrap, and all they wrap.
//!
//! [`Sigil`] is an `Arc`-clonable client whose async methods take and return
//! owned serde types ([`types`]), so a binding method is one conversion, one
//! call and one error mapping ([`crate::Error::info`]). Storage is a string
//! [`KeyValueStore`] a binding implements over host callbacks, and token
//! changes reach a [`TokenListener`]. Both are `?Send` on wasm32. The hot
//! paths (PKCE, webhooks, token and HTTP-signature verification) take bytes
//! and strings directly: see [`offline`] and [`crate::webhook`].

pub mod offline;
mod store;
pub mod types;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::Abortable;

pub use crate::api::OPERATIONS;
pub use futures::future::{AbortHandle, AbortRegistration};
use store::KvSessionStorage;
pub use store::{KeyValueStore, MemoryStore};
pub use types::{
    AuthorizationOptions, AuthorizationStart, Config, RequestInit, ResponseData, TokenEvent,
    TokenExchangeOptions, Tokens, VerifyTokenOptions,
};
use types::{ClientAuthMethod, RenewalKind};

use crate::api::Management;
use crate::authorize::{AuthorizationRequest, PendingAuthorization};
use crate::client::{token_type, ClientAuth, OAuthClient, TokenExchangeRequest};
use crate::discovery::{self, ServerMetadata};
use crate::error::{Error, Result};
use crate::jwks::JwksCache;
use crate::retry::RetryPolicy;
use crate::runtime::Runtime;
use crate::secret::Secret;
use crate::session::{Renewal, Session, SharedLock};
use crate::tokens::Introspection;
use crate::transport::MaybeSendSync;

/// Receives every token change of a client.
pub trait TokenListener: MaybeSendSync {
    /// Called after the change is stored.
    fn on_event(&self, event: &TokenEvent);
}

/// The token listeners of one client, shared with its storage (which
/// reports the values it discards).
#[derive(Clone, Default)]
pub(crate) struct Listeners(Arc<Mutex<Vec<Arc<dyn TokenListener>>>>);

impl Listeners {
    pub(crate) fn add(&self, listener: Arc<dyn TokenListener>) {
        if let Ok(mut l) = self.0.lock() {
            l.push(listener);
        }
    }

    pub(crate) fn emit(&self, event: &TokenEvent) {
        let current = self.0.lock().map(|l| l.clone()).unwrap_or_default();
        for l in current {
            l.on_event(event);
        }
    }
}

/// The Sigil SDK client. Cloning shares one session, one JWKS cache and one
/// renewal lock.
#[derive(Clone)]
pub struct Sigil(Arc<Inner>);

struct Inner {
    config: Config,
    runtime: Runtime,
    storage: Arc<KvSessionStorage>,
    listeners: Listeners,
    /// Set by a binding whose storage other processes share (browser tabs).
    shared_lock: Mutex<Option<Arc<dyn SharedLock>>>,
    /// Where pending authorizations wait, when not with the tokens (a
    /// browser keeps them per tab, in sessionStorage).
    pending_store: Mutex<Option<Arc<dyn KeyValueStore>>>,
    /// Built once, on first use, after discovery.
    ready: futures::lock::Mutex<Option<Arc<Ready>>>,
}

/// What exists once the server's metadata is known.
struct Ready {
    session: Arc<Session>,
    management: Management,
    jwks: Option<JwksCache>,
}

impl std::fmt::Debug for Sigil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sigil")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl Sigil {
    /// A client from `config`, on `runtime`, keeping its session in `store`
    /// (in memory when `None`). No request is sent until the first call.
    pub fn new(
        config: Config,
        runtime: Runtime,
        store: Option<Arc<dyn KeyValueStore>>,
    ) -> Result<Self> {
        let issuer = url::Url::parse(&config.issuer)
            .map_err(|e| Error::InvalidInput(format!("issuer: {e}")))?;
        if !matches!(issuer.scheme(), "https" | "http") {
            return Err(Error::InvalidInput("issuer must be an http(s) URL".into()));
        }
        let mut retry = RetryPolicy::default();
        if let Some(n) = config.max_retries {
            retry.max_retries = n;
        }
        if let Some(secs) = config.max_retry_delay_seconds {
            retry.max_delay = Duration::try_from_secs_f64(secs).map_err(|_| {
                Error::InvalidInput("maxRetryDelaySeconds must be a non-negative number".into())
            })?;
        }
        let listeners = Listeners::default();
        let storage = Arc::new(KvSessionStorage {
            store: store.unwrap_or_else(|| Arc::new(MemoryStore::default())),
            listeners: listeners.clone(),
            prefix: config
                .storage_prefix
                .clone()
                .unwrap_or_else(|| "sigil".into()),
        });
        Ok(Self(Arc::new(Inner {
            config,
            runtime: runtime.with_retry(retry),
            storage,
            listeners,
            shared_lock: Mutex::new(None),
            pending_store: Mutex::new(None),
            ready: futures::lock::Mutex::new(None),
        })))
    }

    /// A client from a JSON config, as bindings receive it: unknown or
    /// mistyped members are an [`Error::InvalidInput`] naming the member.
    pub fn from_json(
        config: serde_json::Value,
        runtime: Runtime,
        store: Option<Arc<dyn KeyValueStore>>,
    ) -> Result<Self> {
        Self::new(parse("config", config)?, runtime, store)
    }

    /// Registers a listener for token changes.
    pub fn on_change(&self, listener: Arc<dyn TokenListener>) {
        self.0.listeners.add(listener);
    }

    /// Coordinates renewals with the other holders of the same storage (see
    /// [`SharedLock`]). Takes effect if set before the first call.
    pub fn set_shared_lock(&self, lock: Arc<dyn SharedLock>) {
        if let Ok(mut slot) = self.0.shared_lock.lock() {
            *slot = Some(lock);
        }
    }

    /// Keeps pending authorizations in `store` instead of with the tokens.
    pub fn set_pending_store(&self, store: Arc<dyn KeyValueStore>) {
        if let Ok(mut slot) = self.0.pending_store.lock() {
            *slot = Some(store);
        }
    }

    fn pending_store(&self) -> Arc<dyn KeyValueStore> {
        let chosen = self.0.pending_store.lock().ok().and_then(|s| s.clone());
        chosen.unwrap_or_else(|| self.0.storage.store.clone())
    }

    async fn ready(&self) -> Result<Arc<Ready>> {
        let mut slot = self.0.ready.lock().await;
        if let Some(ready) = slot.as_ref() {
            return Ok(ready.clone());
        }
        let c = &self.0.config;
        let metadata = if c.discover {
            discovery::discover(&self.0.runtime, &c.issuer).await?
        } else {
            ServerMetadata::sigil(&c.issuer)
        };
        let auth = match (c.client_auth, &c.client_secret) {
            (Some(ClientAuthMethod::None), _) | (None, None) => ClientAuth::None,
            (Some(ClientAuthMethod::ClientSecretPost), Some(s)) => ClientAuth::Post(s.clone()),
            (_, Some(s)) => ClientAuth::Basic(s.clone()),
            (Some(_), None) => {
                return Err(Error::InvalidInput(
                    "clientAuth needs a clientSecret".into(),
                ))
            }
        };
        let renewal = match (c.renewal, &c.api_key) {
            (Some(RenewalKind::ApiKey) | None, Some(key)) => Renewal::ApiKey {
                key: key.clone(),
                scopes: c.scopes.clone(),
            },
            (Some(RenewalKind::ApiKey), None) => {
                return Err(Error::InvalidInput(
                    "renewal `api_key` needs an apiKey".into(),
                ))
            }
            (Some(RenewalKind::ClientCredentials), _) => Renewal::ClientCredentials {
                scopes: c.scopes.clone(),
            },
            (Some(RenewalKind::RefreshToken) | None, _) => Renewal::RefreshToken,
        };
        let jwks = metadata
            .jwks_uri
            .clone()
            .map(|uri| JwksCache::new(uri, self.0.runtime.clone()));
        let client = OAuthClient::new(
            metadata,
            c.client_id.clone().unwrap_or_default(),
            auth,
            self.0.runtime.clone(),
        );
        let mut session = Session::new(client, self.0.storage.clone(), renewal);
        if let Some(skew) = c.skew_seconds {
            session = session.with_skew(Duration::from_secs(skew));
        }
        let shared_lock = self.0.shared_lock.lock().ok().and_then(|l| l.clone());
        if let Some(lock) = shared_lock {
            session = session.with_shared_lock(lock);
        }
        let listeners = self.0.listeners.clone();
        let forward = move |event: &crate::session::SessionEvent| {
            listeners.emit(&TokenEvent::from(event));
        };
        session.on_change(forward);
        let session = Arc::new(session);
        let ready = Arc::new(Ready {
            management: Management::new(session.clone(), &c.issuer)?,
            session,
            jwks,
        });
        *slot = Some(ready.clone());
        Ok(ready)
    }

    fn client_id(&self) -> Result<&str> {
        self.0
            .config
            .client_id
            .as_deref()
            .ok_or_else(|| Error::InvalidInput("this call needs a clientId".into()))
    }

    fn pending_key(&self, state: &str) -> String {
        self.0.storage.key(&format!("pending:{state}"))
    }

    /// The server's RFC 8414 metadata (discovered once, then cached).
    pub async fn discover(&self) -> Result<ServerMetadata> {
        Ok(self.ready().await?.session.client().metadata().clone())
    }

    /// Builds the authorization URL (PKCE S256, `state`) and keeps the
    /// transaction in storage under its `state` until the callback.
    pub async fn authorization_url(
        &self,
        options: AuthorizationOptions,
    ) -> Result<AuthorizationStart> {
        self.client_id()?;
        let ready = self.ready().await?;
        let redirect_uri = options
            .redirect_uri
            .or_else(|| self.0.config.redirect_uri.clone())
            .ok_or_else(|| Error::InvalidInput("authorizationUrl needs a redirectUri".into()))?;
        let request = AuthorizationRequest {
            redirect_uri,
            scopes: options
                .scopes
                .unwrap_or_else(|| self.0.config.scopes.clone()),
            extra: options.extra.into_iter().collect(),
        };
        let (url, pending) = ready.session.client().authorization_url(&request)?;
        let text = serde_json::to_string(&pending).map_err(|e| Error::Storage(e.to_string()))?;
        let state = pending.state.clone();
        self.pending_store()
            .set(&self.pending_key(&state), text)
            .await?;
        Ok(AuthorizationStart { url, state })
    }

    /// Checks the callback (`state`, `iss`, `error=`), spends its pending
    /// transaction (single use, even on failure), exchanges the code once and
    /// stores the tokens.
    pub async fn handle_callback(&self, callback_url: &str) -> Result<Tokens> {
        let ready = self.ready().await?;
        let url = url::Url::parse(callback_url)
            .map_err(|e| Error::InvalidInput(format!("callback URL: {e}")))?;
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .ok_or(Error::StateMismatch)?;
        let key = self.pending_key(&state);
        let store = self.pending_store();
        let text = store.get(&key).await?.ok_or(Error::StateMismatch)?;
        store.delete(&key).await?;
        let pending: PendingAuthorization = crate::json::from_slice(text.as_bytes())
            .map_err(|e| Error::Storage(format!("pending authorization is not valid: {e}")))?;
        let tokens = ready
            .session
            .client()
            .handle_callback(callback_url, pending)
            .await?;
        ready.session.set_tokens(tokens.clone()).await?;
        Ok(tokens.into())
    }

    /// A valid access token, renewed first (single-flight) when it is within
    /// the skew window of expiry.
    pub async fn access_token(&self) -> Result<String> {
        let token = self.ready().await?.session.access_token().await?;
        Ok(token.expose().to_owned())
    }

    /// The stored tokens, without renewing.
    pub async fn tokens(&self) -> Result<Option<Tokens>> {
        Ok(self.ready().await?.session.tokens().await?.map(Into::into))
    }

    /// Stores tokens obtained elsewhere.
    pub async fn set_tokens(&self, tokens: Tokens) -> Result<()> {
        self.ready().await?.session.set_tokens(tokens.into()).await
    }

    /// Revokes the refresh and access tokens and forgets them.
    pub async fn logout(&self) -> Result<()> {
        self.ready().await?.session.logout().await
    }

    /// An authenticated request: renews and replays once on 401, honours
    /// `Retry-After` on 429/503, adds `Idempotency-Key` where the API needs
    /// one. `abort` cancels it (then [`Error::Aborted`]).
    pub async fn request(
        &self,
        init: RequestInit,
        abort: Option<AbortRegistration>,
    ) -> Result<ResponseData> {
        let call = async {
            let ready = self.ready().await?;
            let request = self.http_request(init)?;
            let response = ready.session.request(request).await?;
            Ok(response_data(response))
        };
        abortable(call, abort).await
    }

    fn http_request(&self, mut init: RequestInit) -> Result<crate::HttpRequest> {
        let base = url::Url::parse(&self.0.config.issuer)
            .map_err(|e| Error::InvalidInput(format!("issuer: {e}")))?;
        init.url = base
            .join(&init.url)
            .map_err(|e| Error::InvalidInput(format!("url: {e}")))?
            .into();
        offline::build_request(init)
    }

    /// The `client_credentials` grant (not stored in the session).
    pub async fn client_credentials(&self, scopes: Vec<String>) -> Result<Tokens> {
        let ready = self.ready().await?;
        Ok(ready
            .session
            .client()
            .client_credentials(&scopes)
            .await?
            .into())
    }

    /// Exchanges an API key for a short-lived token. Without `api_key`, the
    /// configured key's session token is returned: cached, and renewed
    /// before it expires.
    pub async fn exchange_api_key(
        &self,
        api_key: Option<String>,
        scopes: Vec<String>,
    ) -> Result<Tokens> {
        let ready = self.ready().await?;
        match api_key {
            Some(key) => Ok(ready
                .session
                .client()
                .exchange_api_key(&Secret::new(key), &scopes)
                .await?
                .into()),
            None if self.0.config.api_key.is_some() => {
                ready.session.access_token().await?;
                ready
                    .session
                    .tokens()
                    .await?
                    .map(Into::into)
                    .ok_or(Error::NotAuthenticated("the API-key session has no token"))
            }
            None => Err(Error::InvalidInput(
                "exchangeApiKey needs an API key, or a client configured with apiKey".into(),
            )),
        }
    }

    /// RFC 8693 token exchange.
    pub async fn token_exchange(&self, options: TokenExchangeOptions) -> Result<Tokens> {
        let ready = self.ready().await?;
        let access = || token_type::ACCESS_TOKEN.to_owned();
        let request = TokenExchangeRequest {
            subject_token: options.subject_token,
            subject_token_type: options.subject_token_type.unwrap_or_else(access),
            actor_token: options
                .actor_token
                .map(|t| (t, options.actor_token_type.unwrap_or_else(access))),
            requested_token_type: options.requested_token_type,
            audience: options.audience,
            resource: options.resource,
            scopes: options.scopes,
        };
        Ok(ready
            .session
            .client()
            .token_exchange(&request)
            .await?
            .into())
    }

    /// RFC 7662 introspection.
    pub async fn introspect(&self, token: &str, hint: Option<&str>) -> Result<Introspection> {
        self.ready()
            .await?
            .session
            .client()
            .introspect(token, hint)
            .await
    }

    /// RFC 7009 revocation.
    pub async fn revoke(&self, token: &str, hint: Option<&str>) -> Result<()> {
        self.ready()
            .await?
            .session
            .client()
            .revoke(token, hint)
            .await
    }

    /// Verifies a Sigil access or agent token offline against the server's
    /// JWKS (cached; refetched on an unknown `kid`), returning its claims.
    pub async fn verify_token(
        &self,
        token: &str,
        options: VerifyTokenOptions,
    ) -> Result<crate::jws::Claims> {
        let ready = self.ready().await?;
        let jwks = ready
            .jwks
            .as_ref()
            .ok_or_else(|| Error::InvalidInput("the server publishes no jwks_uri".into()))?;
        let issuer = ready.session.client().metadata().issuer.clone();
        let verified = jwks.verify(token, &options.to_core(Some(&issuer))).await?;
        Ok(verified.claims)
    }

    /// One typed management (`/v1`) or app (`/app/v1`) API call, named as in
    /// [`OPERATIONS`] (`"apiKeys.create"`), with its arguments as a JSON
    /// array in the method's order. The answer is the typed result as JSON.
    pub async fn call(
        &self,
        operation: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let ready = self.ready().await?;
        ready.management.call(operation, args).await
    }
}

/// The names [`Sigil::call`] takes, for bindings that build typed clients
/// (`client.apiKeys.create(...)`) from them.
pub fn operation_names() -> Vec<&'static str> {
    OPERATIONS.iter().map(|op| op.name).collect()
}

/// Reads a binding's JSON argument as the facade's typed input; a wrong type
/// or an unknown member is an [`Error::InvalidInput`] that names `what`.
pub fn parse<T: serde::de::DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T> {
    crate::json::from_value(&value).map_err(|e| Error::InvalidInput(format!("{what}: {e}")))
}

/// A binding's number of UNIX seconds (a JS `number`) as the core's `i64`,
/// `None` staying `None` (the clock); NaN and the infinities are an
/// [`Error::InvalidInput`] that names `what`.
pub fn unix_seconds(what: &str, value: Option<f64>) -> Result<Option<i64>> {
    match value {
        None => Ok(None),
        Some(n) if n.is_finite() => Ok(Some(n as i64)),
        Some(_) => Err(Error::InvalidInput(format!("{what} must be UNIX seconds"))),
    }
}

/// Runs `call` unless `abort` fires first.
async fn abortable<T>(
    call: impl std::future::Future<Output = Result<T>>,
    abort: Option<AbortRegistration>,
) -> Result<T> {
    match abort {
        None => call.await,
        Some(reg) => Abortable::new(call, reg)
            .await
            .unwrap_or(Err(Error::Aborted)),
    }
}

fn response_data(response: crate::HttpResponse) -> ResponseData {
    let (parts, body) = response.into_parts();
    ResponseData {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body,
    }
}
