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
use sigil::webhook::{HeaderValues, HEADERS};
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

    /// The `Webhook` class over this module's `webhookNew`, `webhookVerify`,
    /// `webhookSign` and `webhookHeaderNames`, as @sigil/node builds it;
    /// exported for the package entries.
    #[wasm_bindgen(reexport, js_name = webhookClass)]
    pub fn webhook_class(native: &JsValue, options: &JsValue) -> JsValue;

    /// `{ method, url, headers, body }` from a `fetch`-shaped call, as
    /// @sigil/node builds it; exported for the `Sigil` class and signing.
    #[wasm_bindgen(reexport, js_name = requestParts)]
    pub fn js_request_parts(input: &JsValue, init: &JsValue) -> JsValue;

    /// The `TokenVerifier` class over this module's, as @sigil/node builds it;
    /// exported for the package entries.
    #[wasm_bindgen(reexport, js_name = tokenVerifierClass)]
    pub fn token_verifier_class(native: &JsValue, options: &JsValue) -> JsValue;

    /// A custom storage adapter, checked; exported for the `Sigil` class.
    #[wasm_bindgen(reexport, js_name = storageAdapter)]
    pub fn js_storage_adapter(adapter: &JsValue) -> JsValue;
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

/// A Standard Webhooks verifier, the handle behind the shared JS `Webhook`
/// class (`webhookClass`), which reads the headers and parses the payload:
/// free functions on it cross once per call.
#[wasm_bindgen]
pub struct WebhookHandle(sigil::Webhook);

/// `secrets`: one `whsec_…` secret or an array of them (rotation);
/// `toleranceSeconds`: allowed clock skew each way, default 300.
#[wasm_bindgen(js_name = webhookNew)]
pub fn webhook_new(
    secrets: JsValue,
    tolerance_seconds: Option<f64>,
) -> Result<WebhookHandle, JsValue> {
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
    Ok(WebhookHandle(inner))
}

/// The headers the core's verifier reads, as `[name, fallback]` pairs in the
/// order `webhookVerify` takes their values' lengths.
#[wasm_bindgen(js_name = webhookHeaderNames)]
pub fn webhook_header_names() -> Array {
    HEADERS
        .iter()
        .map(|(name, fallback)| Array::of2(&(*name).into(), &(*fallback).into()))
        .collect()
}

// A verify's message (three header values and the body) crosses through one
// buffer in module memory that the JS side writes into (`js/browser.js`,
// `webhookNative`), rather than as four wasm-bindgen arguments: each of those
// is an allocation and a free, about 0.2 µs of a 1 KB verify's 4. The JS side
// frees it after a message over 1 MiB, so one large delivery does not keep
// its memory.
thread_local! {
    static MESSAGE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The module's memory, which the JS side writes a message into.
#[wasm_bindgen(js_name = moduleMemory)]
pub fn module_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The address of the message buffer in module memory, resized to `len`
/// bytes (`0` frees it). It stays put until the next resize.
#[wasm_bindgen(js_name = messageBuffer)]
pub fn message_buffer(len: usize) -> Result<usize, JsValue> {
    MESSAGE.with_borrow_mut(|buf| {
        if buf.len() < len {
            // Fallible, so a message too large for memory is a typed error
            // rather than a trap.
            buf.try_reserve_exact(len - buf.len()).map_err(|_| {
                invalid_input(&format!(
                    "a webhook message of {len} bytes does not fit in WebAssembly memory"
                ))
            })?;
            buf.resize(len, 0);
        } else {
            buf.truncate(len);
            buf.shrink_to_fit();
        }
        Ok(buf.as_mut_ptr() as usize)
    })
}

/// Verifies the message in the buffer: the bytes of the values of
/// `webhookHeaderNames()`, in order and back to back (an absent one's length
/// is `undefined`), then the body's `bodyLength` bytes. `now` in UNIX
/// seconds, the clock when absent. Returns `undefined`, or the typed error.
#[wasm_bindgen(js_name = webhookVerify)]
pub fn webhook_verify(
    webhook: &WebhookHandle,
    id_length: Option<u32>,
    timestamp_length: Option<u32>,
    signature_length: Option<u32>,
    body_length: u32,
    now: Option<f64>,
) -> JsValue {
    MESSAGE.with_borrow(|buf| {
        let mut rest = buf.as_slice();
        let mut take = |len: u32| {
            let (head, tail) = rest.split_at_checked(len as usize)?;
            rest = tail;
            Some(head)
        };
        let mut bytes = [None; 3];
        for (slot, len) in bytes
            .iter_mut()
            .zip([id_length, timestamp_length, signature_length])
        {
            if let Some(len) = len {
                let Some(value) = take(len) else {
                    return invalid_input("the webhook message is not in the buffer");
                };
                *slot = Some(value);
            }
        }
        let Some(body) = take(body_length) else {
            return invalid_input("the webhook message is not in the buffer");
        };
        let values = match HeaderValues::from_bytes(bytes) {
            Ok(values) => values,
            Err(e) => return to_js(e),
        };
        // After the headers, as @sigil/node checks them.
        let now = match sigil::facade::unix_seconds("options.now", now) {
            Ok(now) => now,
            Err(e) => return to_js(e),
        };
        match webhook.0.verify_values(&values, body, now) {
            Ok(_) => JsValue::UNDEFINED,
            Err(e) => to_js(e),
        }
    })
}

/// The `webhook-signature` header value for a message.
#[wasm_bindgen(js_name = webhookSign)]
pub fn webhook_sign(
    webhook: &WebhookHandle,
    id: JsValue,
    timestamp: f64,
    body: &[u8],
) -> Result<String, JsValue> {
    let id = string_arg(&id, "id")?;
    let timestamp = sigil::facade::unix_seconds("timestamp", Some(timestamp)).map_err(to_js)?;
    Ok(webhook.0.sign(&id, timestamp.unwrap_or_default(), body))
}

/// A string argument, checked here: wasm-bindgen's `&str` conversion does
/// not type-check in release builds, so a number would corrupt memory.
pub(crate) fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| invalid_input(&format!("{name} must be a string")))
}
