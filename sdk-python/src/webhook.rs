//! Standard Webhooks. `verify` borrows the body bytes and releases the GIL
//! while a large body is hashed and checked, so other threads run meanwhile.
//!
//! The payload is checked to be JSON during verification (in Rust, without
//! building anything), and turned into Python objects only when `.payload`
//! is first read, by the standard library's `json.loads` (C), which builds
//! them several times faster than a conversion through pyo3 could. A handler
//! that only needs `event.id` (deduplication) never pays for it.

use std::borrow::Cow;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};

use crate::convert::Arg;
use crate::{invalid_input, to_py};

/// Bodies at least this long are verified with the GIL released; below it
/// the release costs more than it frees.
const DETACH_AT: usize = 8 * 1024;

/// A verified webhook message.
#[pyclass(frozen, module = "sigil")]
pub struct VerifiedWebhook {
    /// `webhook-id`: stable across retries, for deduplication.
    #[pyo3(get)]
    id: String,
    /// `webhook-timestamp`, UNIX seconds.
    #[pyo3(get)]
    timestamp: i64,
    /// The verified raw body (the caller's own `bytes` object when it gave one).
    #[pyo3(get)]
    body: Py<PyBytes>,
    payload: PyOnceLock<Py<PyAny>>,
}

#[pymethods]
impl VerifiedWebhook {
    /// The JSON payload, parsed (`json.loads`) on first access and kept.
    #[getter]
    fn payload(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        self.payload
            .get_or_try_init(py, || {
                let loads = LOADS.import(py, "json", "loads")?;
                loads.call1((self.body.bind(py),)).map(Bound::unbind)
            })
            .map(|payload| payload.clone_ref(py))
    }

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
        let kind = body
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        Err(invalid_input(
            body.py(),
            format!("body must be bytes, bytearray or str, not {kind}"),
        ))
    }
}

/// The body as a `bytes` object: the caller's own when it is one (no copy).
fn raw_body<'py>(body: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(bytes) = body.cast::<PyBytes>() {
        return Ok(bytes.clone());
    }
    let data = body_bytes(body)?;
    Ok(PyBytes::new(body.py(), &data))
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
    fn new(py: Python<'_>, secrets: Arg<Secrets>, tolerance: Option<Arg<f64>>) -> PyResult<Self> {
        let (Arg(secrets), tolerance) = (secrets, tolerance.map(|t| t.0));
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
        now: Option<Arg<i64>>,
    ) -> PyResult<VerifiedWebhook> {
        let now = now.map(|n| n.0);
        let items = headers
            .call_method0("items")
            .and_then(|items| items.try_iter())
            .map_err(|_| invalid_input(py, "headers must be a mapping (anything with .items())"))?;
        let mut pairs = Vec::new();
        for item in items {
            if let Ok((name, value)) = item?.extract::<(String, String)>() {
                pairs.push((name, value));
            }
        }
        let body = raw_body(body)?;
        let data = body.as_bytes();
        let check = || -> sigil::Result<(String, i64)> {
            let verified = self.inner.verify_as_of(&pairs, data, now)?;
            // The payload must be JSON; it is parsed into Python objects lazily.
            serde_json::from_slice::<serde::de::IgnoredAny>(data)
                .map_err(|e| sigil::WebhookError::InvalidPayload(e.to_string()))?;
            Ok((verified.id.to_owned(), verified.timestamp))
        };
        let (id, timestamp) = if data.len() >= DETACH_AT {
            py.detach(check)
        } else {
            check()
        }
        .map_err(|e| to_py(py, e))?;
        Ok(VerifiedWebhook {
            id,
            timestamp,
            body: body.unbind(),
            payload: PyOnceLock::new(),
        })
    }

    /// The `webhook-signature` header value for a message.
    fn sign(
        &self,
        id: Arg<String>,
        timestamp: Arg<i64>,
        body: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        Ok(self.inner.sign(&id.0, timestamp.0, &body_bytes(body)?))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}
