//! WebAssembly bindings of the Sigil SDK (`@sigil/web`).
//!
//! Thin by design: every function converts JS values to Rust, calls
//! [`sigil`], and converts the result (or the error) back. No protocol logic
//! lives here.

use std::time::Duration;

#[cfg(all(target_arch = "wasm32", feature = "client"))]
mod client;
#[cfg(all(target_arch = "wasm32", feature = "client"))]
mod host;

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;

// The error classes live in a tiny JS module; wasm-bindgen re-exports them
// from the generated package so `instanceof` sees one class identity.
#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(reexport)]
    pub type SigilError;
    #[wasm_bindgen(reexport)]
    pub type OAuthError;
    #[wasm_bindgen(reexport)]
    pub type ApiError;
    #[wasm_bindgen(reexport)]
    pub type RateLimitError;
    #[wasm_bindgen(reexport)]
    pub type TransportError;
    #[wasm_bindgen(reexport)]
    pub type WebhookVerificationError;
    #[wasm_bindgen(reexport)]
    pub type TokenError;
    #[wasm_bindgen(reexport)]
    pub type TokenExpiredError;
    #[wasm_bindgen(reexport)]
    pub type SignatureError;
    #[wasm_bindgen(reexport)]
    pub type InvalidInputError;
    #[wasm_bindgen(reexport)]
    pub type RawBodyRequiredError;
    #[wasm_bindgen(reexport)]
    pub type LoginRequiredError;
    #[wasm_bindgen(reexport)]
    pub type StorageError;
    #[wasm_bindgen(reexport)]
    pub type AbortError;

    #[wasm_bindgen(js_name = errorFromInfo)]
    fn error_from_info(info: &JsValue) -> JsValue;

    /// The `management` and `app` namespaces from operation names, as
    /// `@sigil/node` builds them; exported for the `Sigil` class.
    #[wasm_bindgen(reexport, js_name = apiClients)]
    pub fn api_clients(operations: Vec<String>, run: &js_sys::Function) -> JsValue;

    /// The value of the `i`th of the core's webhook headers (`names`: its
    /// `[name, fallback]` pairs); one crossing per value, with no array or
    /// object built on the way (the verify hot path).
    #[wasm_bindgen(js_name = webhookHeader)]
    fn webhook_header(headers: &JsValue, names: &JsValue, i: usize) -> Option<String>;

    /// The same value as a JS string, handed back to JS without a copy.
    #[wasm_bindgen(js_name = webhookHeader)]
    fn webhook_header_js(headers: &JsValue, names: &JsValue, i: usize) -> JsValue;

    /// The raw body's bytes (a string as UTF-8); a parsed object throws
    /// `RawBodyRequiredError`, which names the fix.
    #[wasm_bindgen(js_name = webhookBytes, catch)]
    fn webhook_bytes(body: &JsValue) -> Result<Vec<u8>, JsValue>;

    /// `{ id, timestamp, payload }`; throws `WebhookVerificationError`
    /// (`invalid_payload`) when the body is not JSON.
    #[wasm_bindgen(js_name = webhookEvent, catch)]
    fn webhook_event(id: &JsValue, timestamp: f64, body: &JsValue) -> Result<JsValue, JsValue>;

    /// `[name, value]` pairs from a plain object, `Headers`, a `Map` or pairs.
    #[wasm_bindgen(reexport, js_name = headerPairs)]
    pub fn js_header_pairs(headers: &JsValue) -> Array;

    /// `{ method, url, headers, body }` from a `fetch`-shaped call, as
    /// @sigil/node builds it; exported for the `Sigil` class.
    #[wasm_bindgen(reexport, js_name = requestParts)]
    pub fn js_request_parts(input: &JsValue, init: &JsValue) -> JsValue;

    /// A body's bytes (a string as UTF-8); exported for RFC 9421 signing.
    #[wasm_bindgen(reexport, js_name = requestBody)]
    pub fn js_request_body(body: &JsValue) -> JsValue;
}

/// Converts any core error into an instance of the matching JS class, with
/// every field of the core's `ErrorInfo`.
fn to_js(err: impl Into<sigil::Error>) -> JsValue {
    let info = err.into().info();
    let info = serde_json::to_value(&info)
        .ok()
        .and_then(|json| JSON::parse(&json.to_string()).ok())
        .unwrap_or_else(|| JsValue::from_str(&info.message));
    error_from_info(&info)
}

pub(crate) fn invalid_input(message: &str) -> JsValue {
    to_js(sigil::Error::InvalidInput(message.to_owned()))
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(target, &JsValue::from_str(key), value).map(drop)
}

/// A fresh PKCE pair: `{ verifier, challenge, method: "S256" }`.
#[wasm_bindgen]
pub fn pkce() -> Result<Object, JsValue> {
    let p = sigil::pkce();
    let out = Object::new();
    set(&out, "verifier", &p.verifier.expose().into())?;
    set(&out, "challenge", &p.challenge.as_str().into())?;
    set(&out, "method", &p.method().into())?;
    Ok(out)
}

/// The S256 challenge of `verifier`; throws `InvalidInputError` when the
/// verifier is not 43-128 unreserved characters.
#[wasm_bindgen(js_name = pkceChallenge)]
pub fn pkce_challenge(verifier: JsValue) -> Result<String, JsValue> {
    let verifier = string_arg(&verifier, "verifier")?;
    sigil::pkce::challenge(&verifier).map_err(to_js)
}

/// Standard Webhooks verifier and signer.
#[wasm_bindgen]
pub struct Webhook {
    inner: sigil::Webhook,
}

#[wasm_bindgen]
impl Webhook {
    /// `secrets`: one `whsec_…` secret or an array of them (rotation);
    /// `toleranceSeconds`: allowed clock skew each way, default 300.
    #[wasm_bindgen(constructor)]
    pub fn new(secrets: JsValue, tolerance_seconds: Option<f64>) -> Result<Webhook, JsValue> {
        let secrets: Vec<String> = if let Some(one) = secrets.as_string() {
            vec![one]
        } else if Array::is_array(&secrets) {
            Array::from(&secrets)
                .iter()
                .map(|s| s.as_string())
                .collect::<Option<_>>()
                .ok_or_else(|| invalid_input("webhook secrets must be strings"))?
        } else {
            return Err(invalid_input(
                "webhook secrets must be a string or an array of strings",
            ));
        };
        let mut inner = sigil::Webhook::new(&secrets).map_err(to_js)?;
        if let Some(t) = tolerance_seconds {
            let t = Duration::try_from_secs_f64(t)
                .map_err(|_| invalid_input("tolerance must be a non-negative number of seconds"))?;
            inner = inner.with_tolerance(t);
        }
        Ok(Webhook { inner })
    }

    /// Verifies `body` (raw bytes, or a string taken as UTF-8) against the
    /// Standard Webhooks `headers` (a plain object, `Headers` or `Map`).
    /// `options.now` overrides the clock (UNIX seconds). Returns
    /// `{ id, timestamp, payload }` with the parsed JSON payload.
    pub fn verify(
        &self,
        headers: JsValue,
        body: JsValue,
        options: Option<Object>,
    ) -> Result<JsValue, JsValue> {
        if !headers.is_object() {
            return Err(invalid_input(
                "headers must be an object or a Headers instance",
            ));
        }
        let values = WEBHOOK_HEADERS.with(|names| {
            std::array::from_fn::<_, { sigil::webhook::HEADERS.len() }, _>(|i| {
                webhook_header(&headers, names, i)
            })
        });
        let found = sigil::webhook::HeaderValues(values.each_ref().map(|v| v.as_deref()));
        let bytes = webhook_bytes(&body)?;
        let now = match &options {
            Some(o) => Reflect::get(o, &JsValue::from_str("now"))?,
            None => JsValue::UNDEFINED,
        };
        let now = if now.is_undefined() || now.is_null() {
            None
        } else {
            let now = now
                .as_f64()
                .filter(|n| n.is_finite())
                .ok_or_else(|| invalid_input("options.now must be UNIX seconds"))?;
            Some(now as i64)
        };
        let verified = self
            .inner
            .verify_as_of(&found, &bytes, now)
            .map_err(to_js)?;
        // The host's JSON.parse over the caller's own body: no copy back out.
        let id = WEBHOOK_HEADERS.with(|names| webhook_header_js(&headers, names, 0));
        webhook_event(&id, verified.timestamp as f64, &body)
    }

    /// The `webhook-signature` header value for a message.
    pub fn sign(&self, id: JsValue, timestamp: f64, body: JsValue) -> Result<String, JsValue> {
        let id = string_arg(&id, "id")?;
        if !timestamp.is_finite() {
            return Err(invalid_input("timestamp must be UNIX seconds"));
        }
        let body = webhook_bytes(&body)?;
        Ok(self.inner.sign(&id, timestamp as i64, &body))
    }
}

thread_local! {
    /// `sigil::webhook::HEADERS` as a JS array of `[name, fallback]`, built
    /// once.
    static WEBHOOK_HEADERS: JsValue = sigil::webhook::HEADERS
        .iter()
        .map(|(name, fallback)| Array::of2(&(*name).into(), &(*fallback).into()))
        .collect::<Array>()
        .into();
}

/// A string argument, checked here: wasm-bindgen's `&str` conversion does
/// not type-check in release builds, so a number would corrupt memory.
fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| invalid_input(&format!("{name} must be a string")))
}
