//! Standard Webhooks. `verify` borrows the body bytes and releases the GIL
//! while a large body is hashed, so other threads run meanwhile.

use std::borrow::Cow;
use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};
use pyo3::IntoPyObjectExt;

use crate::{invalid_input, to_py};

/// Bodies at least this long are verified with the GIL released; below it
/// the release costs more than it frees.
const DETACH_AT: usize = 8 * 1024;

/// A verified webhook message.
#[pyclass(frozen, get_all, module = "sigil")]
pub struct VerifiedWebhook {
    id: String,
    timestamp: i64,
    payload: Py<PyAny>,
}

#[pymethods]
impl VerifiedWebhook {
    fn __repr__(&self) -> String {
        format!(
            "VerifiedWebhook(id={:?}, timestamp={})",
            self.id, self.timestamp
        )
    }
}

/// One secret or several (rotation).
#[derive(FromPyObject)]
enum Secrets {
    One(String),
    Many(Vec<String>),
}

/// A raw body: `bytes` (borrowed), `bytearray`, or `str` taken as UTF-8.
/// Parsed JSON (a dict or list) is the most common webhook mistake, so it
/// gets its own error naming the fix.
pub(crate) fn body_bytes<'a>(body: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(bytes) = body.cast::<PyBytes>() {
        Ok(Cow::Borrowed(bytes.as_bytes()))
    } else if let Ok(text) = body.cast::<PyString>() {
        Ok(Cow::Owned(text.to_cow()?.into_owned().into_bytes()))
    } else if let Ok(array) = body.cast::<PyByteArray>() {
        Ok(Cow::Owned(array.to_vec()))
    } else if body.is_instance_of::<PyDict>() || body.is_instance_of::<PyList>() {
        let py = body.py();
        let cls = py
            .import("sigil._errors")?
            .getattr("RawBodyRequiredError")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", "raw_body_required")?;
        let message = "webhook verification needs the raw request body (bytes), not parsed JSON: \
            use `await request.body()` (Starlette/FastAPI), `request.get_data()` (Flask) or \
            `request.body` (Django)";
        Err(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
    } else {
        Err(PyTypeError::new_err("body must be bytes, bytearray or str"))
    }
}

/// Standard Webhooks verifier and signer.
#[pyclass(frozen, module = "sigil")]
pub struct Webhook {
    inner: sigil::Webhook,
}

#[pymethods]
impl Webhook {
    #[new]
    #[pyo3(signature = (secrets, tolerance = None))]
    fn new(py: Python<'_>, secrets: Secrets, tolerance: Option<f64>) -> PyResult<Self> {
        let secrets = match secrets {
            Secrets::One(one) => vec![one],
            Secrets::Many(many) => many,
        };
        let mut inner = sigil::Webhook::new(&secrets).map_err(|e| to_py(py, e))?;
        if let Some(t) = tolerance {
            let t = Duration::try_from_secs_f64(t).map_err(|_| {
                invalid_input(py, "tolerance must be a non-negative number of seconds")
            })?;
            inner = inner.with_tolerance(t);
        }
        Ok(Self { inner })
    }

    /// Verifies the raw `body` against the Standard Webhooks `headers` (any
    /// mapping with `.items()`; non-`str` values are ignored).
    #[pyo3(signature = (headers, body, *, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
        now: Option<i64>,
    ) -> PyResult<VerifiedWebhook> {
        let mut pairs = Vec::new();
        for item in headers.call_method0("items")?.try_iter()? {
            if let Ok((name, value)) = item?.extract::<(String, String)>() {
                pairs.push((name, value));
            }
        }
        let body = body_bytes(body)?;
        let check = || match now {
            Some(now) => self.inner.verify_at(&pairs, &body, now),
            None => self.inner.verify(&pairs, &body),
        };
        let verified = if body.len() >= DETACH_AT {
            py.detach(check)
        } else {
            check()
        }
        .map_err(|e| to_py(py, e))?;
        let payload = verified.json().map_err(|e| to_py(py, e))?;
        Ok(VerifiedWebhook {
            id: verified.id.to_owned(),
            timestamp: verified.timestamp,
            payload: json_to_py(py, &payload)?.unbind(),
        })
    }

    /// The `webhook-signature` header value for a message.
    fn sign(&self, id: &str, timestamp: i64, body: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(self.inner.sign(id, timestamp, &body_bytes(body)?))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    match value {
        Value::Null => Ok(py.None().into_bound(py)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_bound_py_any(py),
            (None, Some(u)) => u.into_bound_py_any(py),
            _ => n.as_f64().into_bound_py_any(py),
        },
        Value::String(s) => s.into_bound_py_any(py),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            Ok(list.into_any())
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            Ok(dict.into_any())
        }
    }
}
