//! `NativeClient`: the core facade ([`sigil::Sigil`]) for Python, each
//! method twice from one line of the table below: a blocking variant that
//! releases the GIL while the shared tokio runtime runs the call, and an
//! `_async` variant that returns an asyncio awaitable (`future_into_py`).
//! `sigil.Client` and `sigil.AsyncClient` (python/sigil/_client.py) choose one.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;
use sigil::facade::{
    AuthorizationOptions, RequestInit, ResponseData, TokenExchangeOptions, Tokens,
    VerifyTokenOptions,
};

use crate::convert::{to_python, Arg, Json};
use crate::storage::{PyListener, PyStore};
use crate::to_py;

fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Runs `future` to completion on the shared runtime, blocking this thread.
/// On one of the runtime's own threads (a storage or token-change callback
/// that calls a blocking `Client`) a plain `block_on` would panic, so the
/// worker is handed over with `block_in_place` first.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => runtime().block_on(future),
    }
}

/// `(status, [(name, value)], body)`, with the body as `bytes`.
fn response_to_py(py: Python<'_>, result: sigil::Result<ResponseData>) -> PyResult<Py<PyAny>> {
    let r = result.map_err(|e| to_py(py, e))?;
    let body = PyBytes::new(py, &r.body);
    Ok((r.status, r.headers, body)
        .into_pyobject(py)?
        .into_any()
        .unbind())
}

/// The client behind `sigil.Client` and `sigil.AsyncClient`.
#[pyclass(frozen, module = "sigil._native")]
pub struct NativeClient {
    inner: sigil::Sigil,
}

/// Declares each method once; expands to the blocking and the async variant.
macro_rules! methods {
    ($( $name:ident / $async_name:ident ( $($arg:ident : $ty:ty),* ) => |$c:ident| $call:expr, $out:path; )*) => {
        #[pymethods]
        impl NativeClient {
            #[new]
            #[pyo3(signature = (config, storage = None, on_token_change = None))]
            fn new(
                py: Python<'_>,
                config: Json<Value>,
                storage: Option<Py<PyAny>>,
                on_token_change: Option<Py<PyAny>>,
            ) -> PyResult<Self> {
                let store = storage.map(|s| Arc::new(PyStore(s)) as Arc<dyn sigil::facade::KeyValueStore>);
                // reqwest needs the runtime's reactor when it builds its client.
                let _entered = runtime().enter();
                let inner = sigil::Sigil::from_json(config.0, sigil::Runtime::native(), store)
                    .map_err(|e| to_py(py, e))?;
                if let Some(listener) = on_token_change {
                    inner.on_change(Arc::new(PyListener(listener)));
                }
                Ok(Self { inner })
            }

            $(
                fn $name(&self, py: Python<'_>, $($arg: Arg<$ty>),*) -> PyResult<Py<PyAny>> {
                    $(let $arg = $arg.0;)*
                    let $c = self.inner.clone();
                    let result = py.detach(move || block_on(async move { $call }));
                    $out(py, result)
                }

                fn $async_name<'py>(&self, py: Python<'py>, $($arg: Arg<$ty>),*) -> PyResult<Bound<'py, PyAny>> {
                    $(let $arg = $arg.0;)*
                    let $c = self.inner.clone();
                    pyo3_async_runtimes::tokio::future_into_py(py, async move {
                        let result = async move { $call }.await;
                        Python::attach(|py| $out(py, result))
                    })
                }
            )*
        }
    };
}

methods! {
    discover / discover_async () => |c| c.discover().await, to_python;
    authorization_url / authorization_url_async (options: Json<AuthorizationOptions>)
        => |c| c.authorization_url(options.0).await, to_python;
    handle_callback / handle_callback_async (url: String) => |c| c.handle_callback(&url).await, to_python;
    access_token / access_token_async () => |c| c.access_token().await, to_python;
    tokens / tokens_async () => |c| c.tokens().await, to_python;
    set_tokens / set_tokens_async (tokens: Json<Tokens>) => |c| c.set_tokens(tokens.0).await, to_python;
    logout / logout_async () => |c| c.logout().await, to_python;
    client_credentials / client_credentials_async (scopes: Vec<String>)
        => |c| c.client_credentials(scopes).await, to_python;
    exchange_api_key / exchange_api_key_async (api_key: Option<String>, scopes: Vec<String>)
        => |c| c.exchange_api_key(api_key, scopes).await, to_python;
    token_exchange / token_exchange_async (options: Json<TokenExchangeOptions>)
        => |c| c.token_exchange(options.0).await, to_python;
    introspect / introspect_async (token: String, hint: Option<String>)
        => |c| c.introspect(&token, hint.as_deref()).await, to_python;
    revoke / revoke_async (token: String, hint: Option<String>)
        => |c| c.revoke(&token, hint.as_deref()).await, to_python;
    verify_token / verify_token_async (token: String, options: Json<VerifyTokenOptions>)
        => |c| c.verify_token(&token, options.0).await, to_python;
    call / call_async (operation: String, args: Json<Value>) => |c| c.call(&operation, args.0).await, to_python;
    request / request_async (method: String, url: String, headers: Vec<(String, String)>, body: Vec<u8>)
        => |c| c.request(RequestInit { method, url, headers, body }, None).await, response_to_py;
}
