//! `NativeClient`: the core facade ([`sigil::Sigil`]) for JavaScript. Each
//! method converts its arguments (JSON-shaped values cross as JSON), calls
//! the facade, and resolves a promise with the result or the typed error.
//! `js/client.js` wraps it in the `Sigil` class both JS packages share.

// The core's traits take `Arc`; on wasm32 nothing is shared across threads.
#![allow(clippy::arc_with_non_send_sync)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use js_sys::{Array, Function, Promise, Uint8Array, JSON};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sigil::facade::{self, RequestInit, TokenEvent, TokenListener};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use crate::host::{FetchTransport, JsClock, JsStorage, JsStore, WebLock};
use crate::{error_from_info, invalid_input, string_arg, to_js};

// Every value crosses as JSON text and through `serde_json::Value`, as the
// operation table's do: each type's serde code is then compiled for one
// (de)serializer only, which keeps the module small.

/// A JS value read as the facade's typed input (`undefined` is `null`).
pub(crate) fn from_js<T: DeserializeOwned>(what: &str, value: &JsValue) -> Result<T, JsValue> {
    let text = if value.is_undefined() {
        "null".to_owned()
    } else {
        JSON::stringify(value)
            .map(String::from)
            .map_err(|_| invalid_input(&format!("{what} is not JSON-shaped")))?
    };
    let json = serde_json::from_slice::<serde_json::Value>(text.as_bytes())
        .map_err(|e| invalid_input(&format!("{what}: {e}")))?;
    facade::parse(what, json).map_err(to_js)
}

/// A facade result as a JS value.
pub(crate) fn to_js_value<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let json = serde_json::to_value(value).map_err(|e| invalid_input(&e.to_string()))?;
    JSON::parse(&json.to_string())
}

/// Runs `call` as a promise of its JSON result.
fn promise<T, F>(call: F) -> Promise
where
    T: Serialize,
    F: Future<Output = sigil::Result<T>> + 'static,
{
    run(Box::pin(
        async move { to_js_value(&call.await.map_err(to_js)?) },
    ))
}

/// The one `future_to_promise` of the module: a boxed future, so the
/// executor's task code is compiled once rather than once per method.
fn run(call: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>) -> Promise {
    future_to_promise(call)
}

struct JsListener(Function);

impl TokenListener for JsListener {
    fn on_event(&self, event: &TokenEvent) {
        if let Ok(value) = to_js_value(event) {
            // A discarded value's error arrives as the typed error itself.
            if let TokenEvent::Discarded { .. } = event {
                if let Ok(info) = js_sys::Reflect::get(&value, &"error".into()) {
                    let _ = js_sys::Reflect::set(&value, &"error".into(), &error_from_info(&info));
                }
            }
            let _ = self.0.call1(&JsValue::UNDEFINED, &value);
        }
    }
}

/// The client behind `Sigil`.
#[wasm_bindgen]
pub struct NativeClient {
    inner: Rc<sigil::Sigil>,
}

#[wasm_bindgen]
impl NativeClient {
    /// `config` as in SYSTEM.md; `storage` and `pending` are storage objects
    /// (tokens; pending authorizations), `listener` gets token events,
    /// `lock` names the Web Lock shared by tabs.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        storage: Option<JsStorage>,
        pending: Option<JsStorage>,
        listener: Option<Function>,
        lock: Option<String>,
    ) -> Result<NativeClient, JsValue> {
        let config: serde_json::Value = from_js("config", &config)?;
        let runtime = sigil::Runtime::new(Arc::new(FetchTransport), Arc::new(JsClock));
        let store = storage.map(|s| Arc::new(JsStore(s)) as Arc<dyn facade::KeyValueStore>);
        let inner = sigil::Sigil::from_json(config, runtime, store).map_err(to_js)?;
        if let Some(p) = pending {
            inner.set_pending_store(Arc::new(JsStore(p)));
        }
        if let Some(name) = lock {
            inner.set_shared_lock(Arc::new(WebLock(name)));
        }
        if let Some(f) = listener {
            inner.on_change(Arc::new(JsListener(f)));
        }
        Ok(NativeClient {
            inner: Rc::new(inner),
        })
    }

    pub fn discover(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.discover().await })
    }

    #[wasm_bindgen(js_name = authorizationUrl)]
    pub fn authorization_url(&self, options: JsValue) -> Result<Promise, JsValue> {
        let options = from_js("options", &or_empty(options))?;
        let c = self.inner.clone();
        Ok(promise(async move { c.authorization_url(options).await }))
    }

    #[wasm_bindgen(js_name = handleCallback)]
    pub fn handle_callback(&self, url: String) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.handle_callback(&url).await })
    }

    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.access_token().await })
    }

    pub fn tokens(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.tokens().await })
    }

    #[wasm_bindgen(js_name = setTokens)]
    pub fn set_tokens(&self, tokens: JsValue) -> Result<Promise, JsValue> {
        let tokens = from_js("tokens", &tokens)?;
        let c = self.inner.clone();
        Ok(promise(async move { c.set_tokens(tokens).await }))
    }

    pub fn logout(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.logout().await })
    }

    #[wasm_bindgen(js_name = clientCredentials)]
    pub fn client_credentials(&self, scopes: JsValue) -> Result<Promise, JsValue> {
        let scopes = from_js::<Option<Vec<String>>>("scopes", &scopes)?.unwrap_or_default();
        let c = self.inner.clone();
        Ok(promise(async move { c.client_credentials(scopes).await }))
    }

    #[wasm_bindgen(js_name = exchangeApiKey)]
    pub fn exchange_api_key(&self, api_key: JsValue, scopes: JsValue) -> Result<Promise, JsValue> {
        let api_key = from_js("apiKey", &api_key)?;
        let scopes = from_js::<Option<Vec<String>>>("scopes", &scopes)?.unwrap_or_default();
        let c = self.inner.clone();
        Ok(promise(
            async move { c.exchange_api_key(api_key, scopes).await },
        ))
    }

    #[wasm_bindgen(js_name = tokenExchange)]
    pub fn token_exchange(&self, options: JsValue) -> Result<Promise, JsValue> {
        let options = from_js("options", &options)?;
        let c = self.inner.clone();
        Ok(promise(async move { c.token_exchange(options).await }))
    }

    pub fn introspect(&self, token: JsValue, hint: JsValue) -> Result<Promise, JsValue> {
        let (token, hint): (String, Option<String>) =
            (from_js("token", &token)?, from_js("hint", &hint)?);
        let c = self.inner.clone();
        Ok(promise(async move {
            c.introspect(&token, hint.as_deref()).await
        }))
    }

    pub fn revoke(&self, token: JsValue, hint: JsValue) -> Result<Promise, JsValue> {
        let (token, hint): (String, Option<String>) =
            (from_js("token", &token)?, from_js("hint", &hint)?);
        let c = self.inner.clone();
        Ok(promise(
            async move { c.revoke(&token, hint.as_deref()).await },
        ))
    }

    #[wasm_bindgen(js_name = verifyToken)]
    pub fn verify_token(&self, token: JsValue, options: JsValue) -> Result<Promise, JsValue> {
        let token: String = from_js("token", &token)?;
        let options = from_js("options", &or_empty(options))?;
        let c = self.inner.clone();
        Ok(promise(
            async move { c.verify_token(&token, options).await },
        ))
    }

    /// One typed `/v1` or `/app/v1` operation (see `operations()`).
    pub fn call(&self, operation: String, args: JsValue) -> Result<Promise, JsValue> {
        let args = from_js("args", &args)?;
        let c = self.inner.clone();
        Ok(promise(async move { c.call(&operation, args).await }))
    }

    /// Resolves to `{ status, headers: [name, value][], body: Uint8Array }`;
    /// `cancellation.abort()` (called from an `AbortSignal`) rejects it with
    /// `AbortError`.
    pub fn request(
        &self,
        method: String,
        url: String,
        headers: Array,
        body: Option<Uint8Array>,
        cancellation: &Cancellation,
    ) -> Result<Promise, JsValue> {
        let abort = cancellation.registration.borrow_mut().take();
        let init = RequestInit {
            method,
            url,
            headers: header_pairs(&headers)?,
            body: body.map(|b| b.to_vec()).unwrap_or_default(),
        };
        let c = self.inner.clone();
        Ok(run(Box::pin(async move {
            let res = c.request(init, abort).await.map_err(to_js)?;
            let out = js_sys::Object::new();
            let pairs = Array::new();
            for (name, value) in res.headers {
                pairs.push(&Array::of2(&name.into(), &value.into()));
            }
            js_sys::Reflect::set(&out, &"status".into(), &res.status.into())?;
            js_sys::Reflect::set(&out, &"headers".into(), &pairs)?;
            js_sys::Reflect::set(&out, &"body".into(), &Uint8Array::from(res.body.as_slice()))?;
            Ok(out.into())
        })))
    }
}

/// Every typed API operation, `resource.method` (the client's `management`
/// and `app` namespaces are built from them).
#[wasm_bindgen]
pub fn operations() -> Vec<String> {
    sigil::facade::operation_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Cancels one `request()`.
#[wasm_bindgen]
pub struct Cancellation {
    handle: facade::AbortHandle,
    registration: RefCell<Option<facade::AbortRegistration>>,
}

#[wasm_bindgen]
impl Cancellation {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Cancellation {
        let (handle, registration) = facade::AbortHandle::new_pair();
        Cancellation {
            handle,
            registration: RefCell::new(Some(registration)),
        }
    }

    /// Aborts the request this was passed to.
    pub fn abort(&self) {
        self.handle.abort();
    }
}

impl Default for Cancellation {
    fn default() -> Self {
        Self::new()
    }
}

fn or_empty(value: JsValue) -> JsValue {
    if value.is_undefined() || value.is_null() {
        js_sys::Object::new().into()
    } else {
        value
    }
}

/// `[name, value]` pairs.
fn header_pairs(headers: &Array) -> Result<Vec<(String, String)>, JsValue> {
    headers
        .iter()
        .map(|pair| {
            let pair = pair.dyn_into::<Array>().ok();
            match pair.map(|p| (p.get(0).as_string(), p.get(1).as_string())) {
                Some((Some(name), Some(value))) => Ok((name, value)),
                _ => Err(invalid_input("headers must be [name, value] string pairs")),
            }
        })
        .collect()
}

/// The headers that sign a request (RFC 9421, with `Content-Digest`), as
/// `[name, value]` pairs. `request` is `{ method, url, headers, body }` with
/// `headers` as pairs and `body` as text; `bytes`, when given, is the body
/// instead (one that is not UTF-8 text).
#[wasm_bindgen(js_name = signRequest)]
pub fn sign_request(
    request: JsValue,
    options: JsValue,
    bytes: Option<Uint8Array>,
) -> Result<JsValue, JsValue> {
    let request = request_parts(&request, bytes)?;
    let options: facade::offline::SignOptions = from_js("options", &options)?;
    to_js_value(&facade::offline::sign_request(&request, &options, None).map_err(to_js)?)
}

/// Verifies the RFC 9421 signature of a request; returns what it covered.
/// `bytes` as for [`sign_request`].
#[wasm_bindgen(js_name = verifyRequest)]
pub fn verify_request(
    request: JsValue,
    options: JsValue,
    now: Option<f64>,
    bytes: Option<Uint8Array>,
) -> Result<JsValue, JsValue> {
    let request = request_parts(&request, bytes)?;
    let options: facade::offline::VerifyRequestOptions = from_js("options", &options)?;
    let now = unix_seconds(now)?;
    to_js_value(&facade::offline::verify_request(&request, &options, now).map_err(to_js)?)
}

/// An optional `now` in UNIX seconds, as the core takes it (`None`: its clock).
fn unix_seconds(now: Option<f64>) -> Result<Option<i64>, JsValue> {
    facade::unix_seconds("now", now).map_err(to_js)
}

/// Sigil tokens verified offline against one JWKS the caller holds, parsed
/// once: the handle behind the shared JS `TokenVerifier` class, which passes
/// the JWKS as bytes.
#[wasm_bindgen]
pub struct TokenVerifier(facade::offline::TokenVerifier);

#[wasm_bindgen]
impl TokenVerifier {
    /// `jwks`: the JWKS document's bytes; `options` as for `verifyToken`.
    #[wasm_bindgen(constructor)]
    pub fn new(jwks: &[u8], options: JsValue) -> Result<TokenVerifier, JsValue> {
        let options: facade::VerifyTokenOptions = if options.is_undefined() {
            facade::VerifyTokenOptions::default()
        } else {
            from_js("options", &options)?
        };
        facade::offline::TokenVerifier::new(jwks, &options)
            .map(Self)
            .map_err(to_js)
    }

    /// The token's claims as JSON text, or a typed error; `now` in UNIX
    /// seconds, the clock when absent.
    pub fn verify(&self, token: JsValue, now: Option<f64>) -> Result<String, JsValue> {
        let token = string_arg(&token, "token")?;
        let now = unix_seconds(now)?;
        let claims = self.0.verify(&token, now).map_err(to_js)?;
        serde_json::to_string(&claims).map_err(|e| invalid_input(&e.to_string()))
    }
}

/// `{ method, url, headers: [name, value][], body: string }`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestParts {
    #[serde(default)]
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: String,
}

fn request_parts(value: &JsValue, bytes: Option<Uint8Array>) -> Result<RequestInit, JsValue> {
    let parts: RequestParts = from_js("request", value)?;
    Ok(RequestInit {
        method: parts.method,
        url: parts.url,
        headers: parts.headers,
        body: bytes.map_or_else(|| parts.body.into_bytes(), |b| b.to_vec()),
    })
}
