//! Sigil SDK core.
//!
//! All protocol, crypto, parsing, retry and refresh logic of the Sigil SDKs
//! lives here; the WASM, Node and Python packages only convert types, map
//! errors and bridge async. HTTP goes through the [`Transport`] trait and time
//! through the [`Clock`] trait, so the same code runs natively and in a
//! browser.

pub mod error;
pub mod httpsig;
pub mod jws;
pub mod pkce;
mod random;
pub mod secret;
pub mod transport;
pub mod webhook;

pub use error::{Error, ErrorKind, Result};
pub use pkce::{pkce, Pkce, PkceVerifier};
pub use secret::Secret;
pub use transport::{Clock, HeaderLookup, HttpRequest, HttpResponse, Transport, TransportError};
pub use webhook::{VerifiedWebhook, Webhook, WebhookError, WebhookEvent};
