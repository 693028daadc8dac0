//! The user's Python storage object (`get`/`set`/`delete`) and token-change
//! callback, called from the core. A callback may be `async def` under the
//! `AsyncClient`: its coroutine runs on the caller's event loop (the task
//! locals `future_into_py` scoped the call with).

use pyo3::prelude::*;
use pyo3::types::PyAnyMethods;
use sigil::facade::{KeyValueStore, TokenEvent, TokenListener};
use sigil::{Error, Result};

pub(crate) struct PyStore(pub(crate) Py<PyAny>);

impl PyStore {
    async fn call(
        &self,
        op: &'static str,
        args: (String, Option<String>),
    ) -> Result<Option<String>> {
        let failed = |e: PyErr| Error::Storage(format!("storage.{op} failed: {e}"));
        let pending = Python::attach(|py| -> PyResult<Result<Py<PyAny>, _>> {
            let store = self.0.bind(py);
            let out = match args {
                (key, Some(value)) => store.call_method1(op, (key, value))?,
                (key, None) => store.call_method1(op, (key,))?,
            };
            let is_coroutine = py
                .import("inspect")?
                .getattr("iscoroutine")?
                .call1((&out,))?
                .is_truthy()?;
            if is_coroutine {
                let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
                Ok(Err(pyo3_async_runtimes::into_future_with_locals(
                    &locals, out,
                )?))
            } else {
                Ok(Ok(out.unbind()))
            }
        })
        .map_err(failed)?;
        let value = match pending {
            Ok(value) => value,
            Err(future) => future.await.map_err(failed)?,
        };
        if op != "get" {
            return Ok(None);
        }
        Python::attach(|py| {
            let value = value.bind(py);
            value.extract::<Option<String>>().map_err(|_| {
                let kind = value
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                Error::Storage(format!("storage.get returned {kind}, not str or None"))
            })
        })
    }
}

#[async_trait::async_trait]
impl KeyValueStore for PyStore {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.call("get", (key.to_owned(), None)).await
    }
    async fn set(&self, key: &str, value: String) -> Result<()> {
        self.call("set", (key.to_owned(), Some(value)))
            .await
            .map(drop)
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.call("delete", (key.to_owned(), None)).await.map(drop)
    }
}

/// Calls the user's `on_token_change(event)`; an exception there is reported
/// as unraisable, never raised into the SDK call that changed the tokens.
pub(crate) struct PyListener(pub(crate) Py<PyAny>);

impl TokenListener for PyListener {
    fn on_event(&self, event: &TokenEvent) {
        Python::attach(|py| {
            let outcome = pythonize::pythonize(py, event)
                .map_err(PyErr::from)
                .and_then(|value| {
                    // A discarded value's error arrives as the exception itself.
                    if let TokenEvent::Discarded { error } = event {
                        let exception = crate::info_to_py(py, error).into_value(py);
                        value.set_item("error", exception)?;
                    }
                    self.0.bind(py).call1((value,)).map(drop)
                });
            if let Err(e) = outcome {
                e.write_unraisable(py, Some(self.0.bind(py)));
            }
        });
    }
}
