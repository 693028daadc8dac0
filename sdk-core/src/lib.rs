#![doc = include_str!("../README.md")]
//! Sigil SDK core.
//!
//! All protocol, crypto, parsing, retry and refresh logic of the Sigil SDKs
//! lives here; the WASM, Node and Python packages only convert types, map
//! errors and bridge async. HTTP goes through the [`Transport`] trait and time
//! through the [`Clock`] trait, so the same code runs natively and in a
//! browser.

pub mod api;
pub mod authorize;
pub mod client;
pub mod discovery;
pub mod error;
pub mod error_body;
pub mod facade;
pub mod httpsig;
mod json;
pub mod jwks;
pub mod jws;
pub mod pkce;
mod random;
#[cfg(feature = "reqwest")]
pub mod reqwest_transport;
pub mod retry;
pub mod runtime;
pub mod secret;
pub mod session;
pub mod tokens;
pub mod transport;
pub mod webhook;

pub use api::{AppApi, Management};
pub use authorize::{AuthorizationRequest, PendingAuthorization};
pub use client::{ClientAuth, OAuthClient, TokenExchangeRequest};
pub use discovery::ServerMetadata;
pub use error::{Error, ErrorInfo, ErrorKind, Result};
pub use facade::Sigil;
pub use jwks::JwksCache;
pub use pkce::{pkce, Pkce, PkceVerifier};
pub use retry::RetryPolicy;
pub use runtime::{Retry, Runtime};
pub use secret::Secret;
pub use session::{
    MemoryStorage, Renewal, Session, SessionEvent, SessionStorage, SharedLock, SharedLockGuard,
};
pub use tokens::{Introspection, TokenSet};
pub use transport::{Clock, HeaderLookup, HttpRequest, HttpResponse, Transport, TransportError};
pub use webhook::{VerifiedWebhook, Webhook, WebhookError, WebhookEvent};
