//! Node.js bindings of the Sigil SDK (`@sigil/node`).
//!
//! Thin by design: every function converts JS values to Rust, calls
//! [`sigil`], and converts the result (or the error) back. Errors are thrown
//! as JS `Error`s carrying `sigilClass`, `code`, `status`, `requestId` and
//! `retryAfter`; `index.js` turns them into the exported error classes.

use std::collections::HashMap;
use std::time::Duration;

use napi::bindgen_prelude::{Either, Object, ToNapiValue, Uint8Array};
use napi::{Env, Status};
use napi_derive::napi;

/// Converts a core error into a thrown JS `Error` with the typed fields.
fn to_js(env: &Env, err: impl Into<sigil::Error>) -> napi::Error {
    let err = err.into();
    let build = || -> napi::Result<napi::Error> {
        let mut obj =
            env.create_error(napi::Error::new(Status::GenericFailure, err.to_string()))?;
        obj.set("sigilClass", err.kind().class_name())?;
        obj.set("code", err.code())?;
        if let Some(status) = err.status() {
            obj.set("status", u32::from(status))?;
        }
        if let Some(id) = err.request_id() {
            obj.set("requestId", id)?;
        }
        if let Some(after) = err.retry_after() {
            obj.set("retryAfter", after.as_secs_f64())?;
        }
        Ok(napi::Error::from(obj.into_unknown(env)?))
    };
    build().unwrap_or_else(|e| e)
}

fn invalid_input(env: &Env, message: &str) -> napi::Error {
    to_js(env, sigil::Error::InvalidInput(message.to_owned()))
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
pub fn pkce_challenge(env: &Env, verifier: String) -> napi::Result<String> {
    sigil::pkce::challenge(&verifier).map_err(|e| to_js(env, e))
}

/// `verify()` options.
#[napi(object)]
pub struct VerifyOptions {
    /// Verify as if the time were `now` (UNIX seconds).
    pub now: Option<f64>,
}

/// A verified webhook message.
#[napi(object)]
pub struct VerifiedWebhook {
    pub id: String,
    pub timestamp: i64,
    pub payload: serde_json::Value,
}

/// Standard Webhooks verifier and signer.
#[napi]
pub struct Webhook {
    inner: sigil::Webhook,
}

#[napi]
impl Webhook {
    /// `secrets`: one `whsec_…` secret or an array of them (rotation);
    /// `toleranceSeconds`: allowed clock skew each way, default 300.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        secrets: Either<String, Vec<String>>,
        tolerance_seconds: Option<f64>,
    ) -> napi::Result<Self> {
        let secrets = match secrets {
            Either::A(one) => vec![one],
            Either::B(many) => many,
        };
        let mut inner = sigil::Webhook::new(&secrets).map_err(|e| to_js(env, e))?;
        if let Some(t) = tolerance_seconds {
            let t = Duration::try_from_secs_f64(t).map_err(|_| {
                invalid_input(env, "tolerance must be a non-negative number of seconds")
            })?;
            inner = inner.with_tolerance(t);
        }
        Ok(Self { inner })
    }

    /// Verifies the raw `body` (Buffer/Uint8Array, or a string taken as
    /// UTF-8) against the Standard Webhooks `headers` (a plain object; non-string
    /// values are ignored).
    #[napi]
    pub fn verify(
        &self,
        env: &Env,
        headers: Object,
        body: Either<String, Uint8Array>,
        options: Option<VerifyOptions>,
    ) -> napi::Result<VerifiedWebhook> {
        let mut pairs = HashMap::new();
        for name in Object::keys(&headers)? {
            if let Ok(Some(value)) = headers.get::<String>(&name) {
                pairs.insert(name, value);
            }
        }
        let now = options.and_then(|o| o.now);
        let verified = match now {
            None => self.inner.verify(&pairs, body_bytes(&body)),
            Some(now) if now.is_finite() => {
                self.inner.verify_at(&pairs, body_bytes(&body), now as i64)
            }
            Some(_) => return Err(invalid_input(env, "options.now must be UNIX seconds")),
        }
        .map_err(|e| to_js(env, e))?;
        let payload = verified.json().map_err(|e| to_js(env, e))?;
        Ok(VerifiedWebhook {
            id: verified.id.to_owned(),
            timestamp: verified.timestamp,
            payload,
        })
    }

    /// The `webhook-signature` header value for a message.
    #[napi]
    pub fn sign(
        &self,
        env: &Env,
        id: String,
        timestamp: f64,
        body: Either<String, Uint8Array>,
    ) -> napi::Result<String> {
        if !timestamp.is_finite() {
            return Err(invalid_input(env, "timestamp must be UNIX seconds"));
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
