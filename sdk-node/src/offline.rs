//! Offline token verification against a JWKS the caller holds, and RFC 9421
//! request signing and verification: the core's stateless functions.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;
use sigil::facade::{self, offline};

use crate::client::{header_pairs, request_init, JsRequest};
use crate::{invalid_input, js_error};

/// An optional `now` in UNIX seconds, as the core takes it (`None`: its clock).
fn at(now_seconds: Option<f64>) -> napi::Result<Option<i64>> {
    sigil::facade::unix_seconds("now", now_seconds).map_err(js_error)
}

/// Verifies Sigil tokens against one JWKS, parsed once.
#[napi]
pub struct TokenVerifier {
    inner: offline::TokenVerifier,
}

#[napi]
impl TokenVerifier {
    /// `jwks`: the JWKS document (JSON text or bytes); `options` as for
    /// `client.verifyToken`.
    #[napi(constructor)]
    pub fn new(jwks: Buffer, options: Option<Value>) -> napi::Result<Self> {
        let options: facade::VerifyTokenOptions = facade::parse(
            "options",
            options.unwrap_or_else(|| Value::Object(Default::default())),
        )
        .map_err(js_error)?;
        offline::TokenVerifier::new(&jwks, &options)
            .map(|inner| Self { inner })
            .map_err(js_error)
    }

    /// The token's claims as JSON text (`index.js` parses it), or a typed error.
    #[napi]
    pub fn verify(&self, token: String, now: Option<f64>) -> napi::Result<String> {
        let claims = self.inner.verify(&token, at(now)?).map_err(js_error)?;
        serde_json::to_string(&claims).map_err(|e| invalid_input(e.to_string()))
    }
}

/// The headers that sign `request` (RFC 9421, with `Content-Digest`).
#[napi]
pub fn sign_request(request: JsRequest, options: Value) -> napi::Result<Vec<Vec<String>>> {
    let options: offline::SignOptions = facade::parse("options", options).map_err(js_error)?;
    let headers =
        offline::sign_request(&request_init(request)?, &options, None).map_err(js_error)?;
    Ok(header_pairs(headers))
}

/// Verifies the RFC 9421 signature of `request`; returns what it covered.
#[napi]
pub fn verify_request(request: JsRequest, options: Value, now: Option<f64>) -> napi::Result<Value> {
    let options: offline::VerifyRequestOptions =
        facade::parse("options", options).map_err(js_error)?;
    let verified =
        offline::verify_request(&request_init(request)?, &options, at(now)?).map_err(js_error)?;
    serde_json::to_value(verified).map_err(|e| invalid_input(e.to_string()))
}
