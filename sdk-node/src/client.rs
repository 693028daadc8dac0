//! `Client`: the core facade ([`sigil::Sigil`]) as a napi class. Each method
//! converts, calls and maps the error; JS objects cross as JSON values.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Buffer, Function, Promise};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;
use sigil::facade::{self, AbortHandle, AbortRegistration, RequestInit, TokenEvent, TokenListener};

use crate::storage::{JsStore, StorageArgs, StorageFn};
use crate::{invalid_input, js_error};

/// A request as `index.js` hands it over.
#[napi(object)]
pub struct JsRequest {
    pub method: Option<String>,
    pub url: String,
    /// `[name, value]` pairs.
    pub headers: Option<Vec<Vec<String>>>,
    pub body: Option<Buffer>,
}

/// A response for `index.js` to wrap in a WHATWG `Response`.
#[napi(object)]
pub struct JsResponse {
    pub status: u32,
    pub headers: Vec<Vec<String>>,
    pub body: Buffer,
}

pub(crate) fn request_init(request: JsRequest) -> napi::Result<RequestInit> {
    let headers = request
        .headers
        .unwrap_or_default()
        .into_iter()
        .map(|pair| match <[String; 2]>::try_from(pair) {
            Ok([name, value]) => Ok((name, value)),
            Err(_) => Err(invalid_input("headers must be [name, value] pairs")),
        })
        .collect::<napi::Result<_>>()?;
    Ok(RequestInit {
        method: request.method.unwrap_or_default(),
        url: request.url,
        headers,
        body: request.body.map(|b| b.to_vec()).unwrap_or_default(),
    })
}

pub(crate) fn header_pairs(headers: Vec<(String, String)>) -> Vec<Vec<String>> {
    headers.into_iter().map(|(k, v)| vec![k, v]).collect()
}

/// Token changes, delivered to JS without blocking the caller.
type ListenerFn = ThreadsafeFunction<Value, (), Value, napi::Status, false, true>;

struct JsListener(ListenerFn);

impl TokenListener for JsListener {
    fn on_event(&self, event: &TokenEvent) {
        if let Ok(value) = serde_json::to_value(event) {
            self.0.call(value, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Cancels one `request()`: `index.js` calls `abort()` from an `AbortSignal`.
#[napi]
pub struct Cancellation {
    handle: AbortHandle,
    registration: Mutex<Option<AbortRegistration>>,
}

#[napi]
impl Cancellation {
    #[napi(constructor)]
    pub fn new() -> Self {
        let (handle, registration) = AbortHandle::new_pair();
        Self {
            handle,
            registration: Mutex::new(Some(registration)),
        }
    }

    /// Aborts the request this was passed to (or the next one).
    #[napi]
    pub fn abort(&self) {
        self.handle.abort();
    }
}

/// The Sigil client.
#[napi]
pub struct Client {
    inner: sigil::Sigil,
}

#[napi]
impl Client {
    /// `config` as in SYSTEM.md; `storage` is the bridge `index.js` builds
    /// from the user's adapter; `listener` receives token events.
    #[napi(constructor)]
    pub fn new(
        config: Value,
        #[napi(
            ts_arg_type = "((op: 'get' | 'set' | 'delete', key: string, value?: string | null) => Promise<string | null>) | undefined | null"
        )]
        storage: Option<Function<'_, StorageArgs, Promise<Option<String>>>>,
        listener: Option<Function<'_, Value, ()>>,
    ) -> napi::Result<Self> {
        let store = match storage {
            Some(f) => {
                let tsfn: StorageFn = f
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?;
                Some(Arc::new(JsStore(tsfn)) as Arc<dyn facade::KeyValueStore>)
            }
            None => None,
        };
        let inner =
            sigil::Sigil::from_json(config, sigil::Runtime::native(), store).map_err(js_error)?;
        if let Some(f) = listener {
            let tsfn: ListenerFn = f
                .build_threadsafe_function()
                .callee_handled::<false>()
                .weak::<true>()
                .build()?;
            inner.on_change(Arc::new(JsListener(tsfn)));
        }
        Ok(Self { inner })
    }

    #[napi]
    pub async fn discover(&self) -> napi::Result<Value> {
        let m = self.inner.discover().await.map_err(js_error)?;
        serde_json::to_value(m).map_err(|e| invalid_input(e.to_string()))
    }

    #[napi]
    pub async fn authorization_url(&self, options: Option<Value>) -> napi::Result<Value> {
        let options = facade::parse("options", options.unwrap_or(Value::Null).or_empty())
            .map_err(js_error)?;
        to_value(self.inner.authorization_url(options).await)
    }

    #[napi]
    pub async fn handle_callback(&self, url: String) -> napi::Result<Value> {
        to_value(self.inner.handle_callback(&url).await)
    }

    #[napi]
    pub async fn access_token(&self) -> napi::Result<String> {
        self.inner.access_token().await.map_err(js_error)
    }

    #[napi]
    pub async fn tokens(&self) -> napi::Result<Value> {
        to_value(self.inner.tokens().await)
    }

    #[napi]
    pub async fn set_tokens(&self, tokens: Value) -> napi::Result<()> {
        let tokens = facade::parse("tokens", tokens).map_err(js_error)?;
        self.inner.set_tokens(tokens).await.map_err(js_error)
    }

    #[napi]
    pub async fn logout(&self) -> napi::Result<()> {
        self.inner.logout().await.map_err(js_error)
    }

    #[napi]
    pub async fn request(
        &self,
        request: JsRequest,
        cancellation: Option<&Cancellation>,
    ) -> napi::Result<JsResponse> {
        let abort = cancellation.and_then(|c| c.registration.lock().ok()?.take());
        let response = self
            .inner
            .request(request_init(request)?, abort)
            .await
            .map_err(js_error)?;
        Ok(JsResponse {
            status: u32::from(response.status),
            headers: header_pairs(response.headers),
            body: response.body.into(),
        })
    }

    #[napi]
    pub async fn client_credentials(&self, scopes: Option<Vec<String>>) -> napi::Result<Value> {
        to_value(
            self.inner
                .client_credentials(scopes.unwrap_or_default())
                .await,
        )
    }

    #[napi]
    pub async fn exchange_api_key(
        &self,
        api_key: Option<String>,
        scopes: Option<Vec<String>>,
    ) -> napi::Result<Value> {
        to_value(
            self.inner
                .exchange_api_key(api_key, scopes.unwrap_or_default())
                .await,
        )
    }

    #[napi]
    pub async fn token_exchange(&self, options: Value) -> napi::Result<Value> {
        let options = facade::parse("options", options).map_err(js_error)?;
        to_value(self.inner.token_exchange(options).await)
    }

    #[napi]
    pub async fn introspect(&self, token: String, hint: Option<String>) -> napi::Result<Value> {
        to_value(self.inner.introspect(&token, hint.as_deref()).await)
    }

    #[napi]
    pub async fn revoke(&self, token: String, hint: Option<String>) -> napi::Result<()> {
        self.inner
            .revoke(&token, hint.as_deref())
            .await
            .map_err(js_error)
    }

    #[napi]
    pub async fn verify_token(&self, token: String, options: Option<Value>) -> napi::Result<Value> {
        let options = facade::parse("options", options.unwrap_or(Value::Null).or_empty())
            .map_err(js_error)?;
        to_value(self.inner.verify_token(&token, options).await)
    }

    /// One typed `/v1` or `/app/v1` operation (see `operations()`).
    #[napi]
    pub async fn call(&self, operation: String, args: Value) -> napi::Result<Value> {
        self.inner.call(&operation, args).await.map_err(js_error)
    }
}

fn to_value<T: serde::Serialize>(result: sigil::Result<T>) -> napi::Result<Value> {
    let value = result.map_err(js_error)?;
    serde_json::to_value(value).map_err(|e| invalid_input(e.to_string()))
}

/// `undefined` options read as `{}`.
trait OrEmpty {
    fn or_empty(self) -> Value;
}

impl OrEmpty for Value {
    fn or_empty(self) -> Value {
        if self.is_null() {
            Value::Object(Default::default())
        } else {
            self
        }
    }
}
