//! The browser's side of the core's seams: `fetch` as the transport,
//! `Date.now`/`setTimeout` as the clock, a JS storage object as the
//! key-value store, and the Web Locks API as the lock tabs share around a
//! renewal.

use std::time::Duration;

use js_sys::{Array, Promise, Uint8Array};
use sigil::facade::KeyValueStore;
use sigil::transport::TransportError;
use sigil::{Clock, Error, HttpRequest, HttpResponse, SharedLock, SharedLockGuard, Transport};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    fn sleep(ms: f64) -> Promise;
    #[wasm_bindgen(js_name = acquireLock)]
    fn acquire_lock(name: &str, timeout_ms: f64) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` of browsers, workers and Node 18+.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> Promise;

    /// A storage object: `get`/`set`/`delete`, each returning a value or a promise.
    pub type JsStorage;
    #[wasm_bindgen(method, catch)]
    fn get(this: &JsStorage, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn set(this: &JsStorage, key: &str, value: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = delete)]
    fn remove(this: &JsStorage, key: &str) -> Result<JsValue, JsValue>;
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown JavaScript error".into())
}

/// `fetch`, never following redirects (the core decides what a 3xx means).
#[derive(Debug, Default)]
pub(crate) struct FetchTransport;

#[async_trait::async_trait(?Send)]
impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let invalid = |e: JsValue| TransportError::InvalidRequest(message(&e));
        let init = web_sys::RequestInit::new();
        init.set_method(request.method().as_str());
        init.set_redirect(web_sys::RequestRedirect::Manual);
        let headers = web_sys::Headers::new().map_err(invalid)?;
        for (name, value) in request.headers() {
            let value = value.to_str().map_err(|_| {
                TransportError::InvalidRequest(format!("header {name} is not text"))
            })?;
            headers.append(name.as_str(), value).map_err(invalid)?;
        }
        init.set_headers(&headers);
        // The signal also bounds reading the body below.
        let timeout = sigil::transport::REQUEST_TIMEOUT.as_millis() as u32;
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(timeout)));
        if !request.body().is_empty() {
            init.set_body(&Uint8Array::from(request.body().as_slice()));
        }
        let req = web_sys::Request::new_with_str_and_init(&request.uri().to_string(), &init)
            .map_err(invalid)?;
        let network = |e: JsValue| {
            // `AbortSignal.timeout` rejects with a `TimeoutError` DOMException.
            let name = js_sys::Reflect::get(&e, &"name".into()).ok();
            if name.and_then(|n| n.as_string()).as_deref() == Some("TimeoutError") {
                TransportError::Timeout
            } else {
                TransportError::Network(message(&e))
            }
        };
        let response: web_sys::Response = JsFuture::from(global_fetch(&req))
            .await
            .map_err(network)?
            .unchecked_into();
        let bytes = JsFuture::from(response.array_buffer().map_err(network)?)
            .await
            .map_err(network)?;
        let mut builder = http::Response::builder().status(response.status());
        if let Some(entries) = js_sys::try_iter(&response.headers()).map_err(network)? {
            for entry in entries {
                let pair: Array = entry.map_err(network)?.unchecked_into();
                if let (Some(name), Some(value)) =
                    (pair.get(0).as_string(), pair.get(1).as_string())
                {
                    builder = builder.header(name, value);
                }
            }
        }
        builder
            .body(Uint8Array::new(&bytes).to_vec())
            .map_err(|e| TransportError::Network(e.to_string()))
    }
}

/// `Date.now()` and `setTimeout`.
#[derive(Debug, Default)]
pub(crate) struct JsClock;

#[async_trait::async_trait(?Send)]
impl Clock for JsClock {
    fn now(&self) -> Duration {
        sigil::transport::system_now()
    }
    async fn sleep(&self, duration: Duration) {
        let _ = JsFuture::from(sleep(duration.as_secs_f64() * 1000.0)).await;
    }
}

/// The user's storage object (or the wrapper's over `localStorage`).
pub(crate) struct JsStore(pub(crate) JsStorage);

impl JsStore {
    async fn settle(op: &str, result: Result<JsValue, JsValue>) -> sigil::Result<JsValue> {
        let failed = |e: JsValue| Error::Storage(format!("storage.{op} failed: {}", message(&e)));
        let value = result.map_err(failed)?;
        JsFuture::from(Promise::resolve(&value))
            .await
            .map_err(failed)
    }
}

#[async_trait::async_trait(?Send)]
impl KeyValueStore for JsStore {
    async fn get(&self, key: &str) -> sigil::Result<Option<String>> {
        let value = Self::settle("get", self.0.get(key)).await?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or_else(|| {
            let kind = value.js_typeof().as_string().unwrap_or_default();
            Error::Storage(format!("storage.get returned a {kind}, not a string"))
        })
    }
    async fn set(&self, key: &str, value: String) -> sigil::Result<()> {
        Self::settle("set", self.0.set(key, &value)).await.map(drop)
    }
    async fn delete(&self, key: &str) -> sigil::Result<()> {
        Self::settle("delete", self.0.remove(key)).await.map(drop)
    }
}

/// How long a tab waits for another tab's renewal before renewing itself.
const LOCK_WAIT_MS: f64 = 10_000.0;

/// The Web Lock every tab of one app takes around a renewal.
pub(crate) struct WebLock(pub(crate) String);

struct Release(Option<js_sys::Function>);

impl SharedLockGuard for Release {}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

#[async_trait::async_trait(?Send)]
impl SharedLock for WebLock {
    async fn acquire(&self) -> sigil::Result<Box<dyn SharedLockGuard>> {
        let release = JsFuture::from(acquire_lock(&self.0, LOCK_WAIT_MS))
            .await
            .ok()
            .and_then(|r| r.dyn_into::<js_sys::Function>().ok());
        Ok(Box::new(Release(release)))
    }
}
