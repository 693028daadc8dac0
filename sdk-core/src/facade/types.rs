//! The owned, serde-shaped values the facade takes and returns. Bindings
//! convert these to and from their host objects with one generic serde step
//! (napi's and pyo3's serde support, `serde-wasm-bindgen`), so the field
//! names below are the ones users see: camelCase, as in SYSTEM.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::tokens::TokenSet;

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// HTTP Basic (the default when a secret is given).
    ClientSecretBasic,
    /// Id and secret in the form body.
    ClientSecretPost,
    /// A public client.
    None,
}

/// How an expiring session gets its next access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalKind {
    /// The `refresh_token` grant (user sessions; the default without an API key).
    RefreshToken,
    /// Re-exchange the configured API key (the default with one).
    ApiKey,
    /// The `client_credentials` grant.
    ClientCredentials,
}

/// Everything a [`super::Sigil`] client is built from.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// The authorization server, e.g. `https://auth.example.com`.
    pub issuer: String,
    /// The OAuth client id (an app id).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client secret of a confidential app.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Defaults to `client_secret_basic` with a secret and `none` without.
    #[serde(default)]
    pub client_auth: Option<ClientAuthMethod>,
    /// A `sgl_…` API key whose short-lived tokens the session holds.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// Scopes asked for on renewal and by default on authorization.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Inferred when absent: `api_key` with an API key, else `refresh_token`.
    #[serde(default)]
    pub renewal: Option<RenewalKind>,
    /// Default redirect URI for [`super::Sigil::authorization_url`].
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Renew this many seconds before expiry (default 60).
    #[serde(default)]
    pub skew_seconds: Option<u64>,
    /// Read RFC 8414 metadata (default); `false` assumes Sigil's paths.
    #[serde(default = "yes")]
    pub discover: bool,
    /// Prefix of every storage key (default `sigil`), so one store can hold
    /// several clients' sessions.
    #[serde(default)]
    pub storage_prefix: Option<String>,
    /// Retries of a 429/503 (default 3).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Longest single wait for a `Retry-After`, in seconds (default 30).
    #[serde(default)]
    pub max_retry_delay_seconds: Option<f64>,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("api_key", &self.api_key)
            .field("renewal", &self.renewal)
            .finish_non_exhaustive()
    }
}

/// A token set as users see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tokens {
    /// The bearer token.
    pub access_token: String,
    /// `Bearer`.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// UNIX seconds after which the access token is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Present for user sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An OpenID Connect ID token, when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 `issued_token_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
}

fn bearer() -> String {
    "Bearer".into()
}

impl From<TokenSet> for Tokens {
    fn from(t: TokenSet) -> Self {
        Self {
            access_token: t.access_token.expose().to_owned(),
            token_type: t.token_type,
            expires_at: t.expires_at,
            refresh_token: t.refresh_token.map(|r| r.expose().to_owned()),
            scope: t.scope,
            id_token: t.id_token,
            issued_token_type: t.issued_token_type,
        }
    }
}

impl From<Tokens> for TokenSet {
    fn from(t: Tokens) -> Self {
        Self {
            access_token: Secret::new(t.access_token),
            token_type: t.token_type,
            expires_at: t.expires_at,
            refresh_token: t.refresh_token.map(Secret::new),
            scope: t.scope,
            id_token: t.id_token,
            issued_token_type: t.issued_token_type,
        }
    }
}

/// `authorizationUrl()` options; every member falls back to the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationOptions {
    /// Where the server sends the browser back.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Scopes to ask for.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Extra parameters (`prompt`, `login_hint`, ...).
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// The URL to send the browser to, and the `state` it carries.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationStart {
    /// The authorization URL.
    pub url: String,
    /// The transaction's `state`; its verifier is in storage until the callback.
    pub state: String,
}

/// An RFC 8693 token exchange.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenExchangeOptions {
    /// The token being exchanged.
    pub subject_token: Secret,
    /// Its type URN; defaults to an access token.
    #[serde(default)]
    pub subject_token_type: Option<String>,
    /// Who acts on the subject's behalf.
    #[serde(default)]
    pub actor_token: Option<Secret>,
    /// The actor token's type URN (default: access token).
    #[serde(default)]
    pub actor_token_type: Option<String>,
    /// Desired token type.
    #[serde(default)]
    pub requested_token_type: Option<String>,
    /// Target service.
    #[serde(default)]
    pub audience: Option<String>,
    /// Target resource URI.
    #[serde(default)]
    pub resource: Option<String>,
    /// Requested scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// What a token verified offline must satisfy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyTokenOptions {
    /// This service's identifier, which `aud` must contain.
    #[serde(default)]
    pub audience: Option<String>,
    /// Required `iss`; the client's issuer when absent.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Scopes the token must all grant.
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Clock skew tolerated, in seconds (default 30).
    #[serde(default)]
    pub leeway_seconds: Option<u64>,
    /// `access` (default), `agent` or `any`.
    #[serde(default)]
    pub token_type: Option<TokenKind>,
}

/// Which Sigil token kind a verification accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// `at+jwt`.
    Access,
    /// `agent+jwt`.
    Agent,
    /// Either.
    Any,
}

impl VerifyTokenOptions {
    /// The core's options, with `issuer` as the default `iss`.
    pub fn to_core(&self, issuer: Option<&str>) -> crate::jws::VerifyOptions {
        let defaults = crate::jws::VerifyOptions::default();
        crate::jws::VerifyOptions {
            issuer: self.issuer.clone().or_else(|| issuer.map(str::to_owned)),
            audience: self.audience.clone(),
            required_scopes: self.required_scopes.clone(),
            leeway_secs: self.leeway_seconds.unwrap_or(defaults.leeway_secs),
            token_type: match self.token_type {
                None | Some(TokenKind::Access) => crate::jws::TokenType::Access,
                Some(TokenKind::Agent) => crate::jws::TokenType::Agent,
                Some(TokenKind::Any) => crate::jws::TokenType::Any,
            },
            require_exp: true,
        }
    }
}

/// One HTTP request, as a binding hands it over (bytes, not serde).
#[derive(Debug, Clone, Default)]
pub struct RequestInit {
    /// `GET` when empty.
    pub method: String,
    /// Absolute, or a path resolved against the issuer.
    pub url: String,
    /// Header pairs; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct ResponseData {
    /// Status code.
    pub status: u16,
    /// Header pairs, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A token change, as listeners receive it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TokenEvent {
    /// Tokens were set from outside (a callback, `setTokens`).
    #[serde(rename_all = "camelCase")]
    Stored {
        /// The new tokens.
        tokens: Tokens,
    },
    /// A renewal replaced the tokens.
    #[serde(rename_all = "camelCase")]
    Refreshed {
        /// The new tokens.
        tokens: Tokens,
    },
    /// Renewal was refused: the session ended.
    Expired,
    /// `logout()` ran.
    LoggedOut,
    /// A stored value was not a token set and was deleted; the call that
    /// read it failed with `error` (a `StorageError`), and the session now
    /// starts clean.
    Discarded {
        /// The error, as bindings build their error objects from it.
        error: crate::error::ErrorInfo,
    },
}

impl From<&crate::session::SessionEvent> for TokenEvent {
    fn from(e: &crate::session::SessionEvent) -> Self {
        use crate::session::SessionEvent as E;
        match e {
            E::Stored(t) => TokenEvent::Stored {
                tokens: t.clone().into(),
            },
            E::Refreshed(t) => TokenEvent::Refreshed {
                tokens: t.clone().into(),
            },
            E::Expired => TokenEvent::Expired,
            E::LoggedOut => TokenEvent::LoggedOut,
        }
    }
}
