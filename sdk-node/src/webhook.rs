//! Standard Webhooks. `verify` is the hot path: `index.js` picks the three
//! header values out of whatever header shape it was given and parses the
//! payload with `JSON.parse`, so only three strings and the body bytes cross.

use std::time::Duration;

use napi::bindgen_prelude::{Either, Uint8Array};
use napi_derive::napi;

use crate::{invalid_input, js_error};

/// Standard Webhooks verifier and signer.
#[napi]
pub struct Webhook {
    inner: sigil::Webhook,
}

#[napi]
impl Webhook {
    /// `secrets`: one `whsec_…` secret or several (rotation);
    /// `toleranceSeconds`: allowed clock skew each way, default 300.
    #[napi(constructor)]
    pub fn new(
        secrets: Either<String, Vec<String>>,
        tolerance_seconds: Option<f64>,
    ) -> napi::Result<Self> {
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
        Ok(Self { inner })
    }

    /// Verifies the raw body against the three header values (absent ones as
    /// `undefined`); `now` in UNIX seconds, the system clock when absent.
    #[napi]
    pub fn verify(
        &self,
        id: Option<String>,
        timestamp: Option<String>,
        signature: Option<String>,
        body: Either<String, Uint8Array>,
        now: Option<f64>,
    ) -> napi::Result<()> {
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(3);
        for (name, value) in [
            ("webhook-id", &id),
            ("webhook-timestamp", &timestamp),
            ("webhook-signature", &signature),
        ] {
            if let Some(v) = value {
                headers.push((name, v));
            }
        }
        let body = body_bytes(&body);
        match now {
            None => self.inner.verify(headers.as_slice(), body).map(drop),
            Some(now) if now.is_finite() => self
                .inner
                .verify_at(headers.as_slice(), body, now as i64)
                .map(drop),
            Some(_) => return Err(invalid_input("options.now must be UNIX seconds")),
        }
        .map_err(js_error)
    }

    /// The `webhook-signature` header value for a message.
    #[napi]
    pub fn sign(
        &self,
        id: String,
        timestamp: f64,
        body: Either<String, Uint8Array>,
    ) -> napi::Result<String> {
        if !timestamp.is_finite() {
            return Err(invalid_input("timestamp must be UNIX seconds"));
        }
        Ok(self.inner.sign(&id, timestamp as i64, body_bytes(&body)))
    }
}

fn body_bytes(body: &Either<String, Uint8Array>) -> &[u8] {
    match body {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes,
    }
}
