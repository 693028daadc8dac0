//! Standard Webhooks. `verify` is the hot path, so it is shaped for the cost
//! of the crossing, not for looks: a free function on an `External` handle
//! (a class method would pay napi-rs's per-call unwrap, type-tag check and
//! borrow registration), the three header values as Latin-1 byte strings
//! (what Node's `IncomingMessage` and fetch's `Headers` hold, copied without
//! UTF-8 transcoding) and the body borrowed as `&[u8]` (no napi reference).
//! The `Webhook` class both JS packages share (`webhookClass` in the shared
//! JS) picks the three values out of whatever header shape it was given and
//! parses the payload with `JSON.parse`.

use std::time::Duration;

use napi::bindgen_prelude::{Either, External, Latin1String};
use napi_derive::napi;
use sigil::facade::unix_seconds;
use sigil::webhook::HeaderValues;

use crate::{invalid_input, js_error};

/// A verifier and signer. `secrets`: one `whsec_…` secret or several
/// (rotation); `toleranceSeconds`: allowed clock skew each way, default 300.
#[napi(js_name = "webhookNew", ts_return_type = "ExternalObject<'Webhook'>")]
pub fn webhook_new(
    secrets: Either<String, Vec<String>>,
    tolerance_seconds: Option<f64>,
) -> napi::Result<External<sigil::Webhook>> {
    let secrets = match secrets {
        Either::A(one) => vec![one],
        Either::B(many) => many,
    };
    let mut inner = sigil::Webhook::new(&secrets).map_err(js_error)?;
    if let Some(t) = tolerance_seconds {
        let t = Duration::try_from_secs_f64(t)
            .map_err(|_| invalid_input("tolerance must be a non-negative number of seconds"))?;
        inner = inner.with_tolerance(t);
    }
    Ok(External::new(inner))
}

/// The headers the core's verifier reads, as `[name, fallback]` pairs in the
/// order `webhookVerify` takes their values (the JS class reads them once).
#[napi(js_name = "webhookHeaderNames")]
pub fn webhook_header_names() -> Vec<Vec<&'static str>> {
    sigil::webhook::HEADERS
        .iter()
        .map(|(name, fallback)| vec![*name, *fallback])
        .collect()
}

/// Verifies the raw body against the values of `webhookHeaderNames()`, in
/// order (absent ones as `undefined`); `now` in UNIX seconds, the system
/// clock when absent. The shared JS class passes byte strings: it turns a
/// character past 0xFF into 0xFF, of which Latin-1 keeps the whole.
#[napi(js_name = "webhookVerify")]
pub fn webhook_verify(
    #[napi(ts_arg_type = "ExternalObject<'Webhook'>")] webhook: &External<sigil::Webhook>,
    id: Option<Latin1String>,
    timestamp: Option<Latin1String>,
    signature: Option<Latin1String>,
    body: Either<&[u8], String>,
    now: Option<f64>,
) -> napi::Result<()> {
    let values = HeaderValues::from_bytes([&id, &timestamp, &signature].map(|v| v.as_deref()))
        .map_err(js_error)?;
    let now = unix_seconds("options.now", now).map_err(js_error)?;
    webhook
        .verify_values(&values, body_bytes(&body), now)
        .map(drop)
        .map_err(js_error)
}

/// The `webhook-signature` header value for a message.
#[napi(js_name = "webhookSign")]
pub fn webhook_sign(
    #[napi(ts_arg_type = "ExternalObject<'Webhook'>")] webhook: &External<sigil::Webhook>,
    id: String,
    timestamp: f64,
    body: Either<&[u8], String>,
) -> napi::Result<String> {
    let timestamp = unix_seconds("timestamp", Some(timestamp)).map_err(js_error)?;
    Ok(webhook.sign(&id, timestamp.unwrap_or_default(), body_bytes(&body)))
}

fn body_bytes<'a>(body: &'a Either<&[u8], String>) -> &'a [u8] {
    match body {
        Either::A(bytes) => bytes,
        Either::B(text) => text.as_bytes(),
    }
}
