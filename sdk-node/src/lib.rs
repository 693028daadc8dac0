//! Node.js bindings of the Sigil SDK (`@sigil/node`).
//!
//! Thin by design: each function converts its JS arguments, calls the core
//! facade ([`sigil::facade`]) or a hot-path function, and converts the result.
//! Every error leaves as one JS `Error` whose message is the core's
//! [`sigil::ErrorInfo`] as JSON behind [`ERROR_MARK`]; `errors.js` turns it
//! into the typed class, so sync and async calls map errors the same way.

// napi registers exported functions only outside `cfg(test)`, so under
// `clippy --all-targets` they look unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod offline;
mod storage;
mod webhook;

use napi::Status;
use napi_derive::napi;

/// Prefix of a thrown message that carries a core error as JSON.
const ERROR_MARK: &str = "\u{1}sigil:";

/// The JS error for a core error.
pub(crate) fn js_error(err: impl Into<sigil::Error>) -> napi::Error {
    let info = err.into().info();
    let json = serde_json::to_string(&info).unwrap_or_default();
    napi::Error::new(Status::GenericFailure, format!("{ERROR_MARK}{json}"))
}

/// An `InvalidInputError` with `message`.
pub(crate) fn invalid_input(message: impl Into<String>) -> napi::Error {
    js_error(sigil::Error::InvalidInput(message.into()))
}

/// A PKCE verifier with its S256 challenge.
#[napi(object)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub method: String,
}

/// A fresh PKCE pair: `{ verifier, challenge, method: "S256" }`.
#[napi]
pub fn pkce() -> Pkce {
    let p = sigil::pkce();
    Pkce {
        verifier: p.verifier.expose().to_owned(),
        challenge: p.challenge.clone(),
        method: p.method().to_owned(),
    }
}

/// The S256 challenge of `verifier`; throws `InvalidInputError` when invalid.
#[napi(js_name = "pkceChallenge")]
pub fn pkce_challenge(verifier: String) -> napi::Result<String> {
    sigil::pkce::challenge(&verifier).map_err(js_error)
}

/// Every typed API operation, `resource.method`, for the JS layer to build
/// `client.management` and `client.app` from.
#[napi]
pub fn operations() -> Vec<&'static str> {
    sigil::facade::operation_names()
}

/// Does nothing: the benchmark's measure of one binding call's cost.
#[napi]
pub fn noop() {}
