//! Python bindings of the Sigil SDK (`sigil-sdk` on PyPI, imported as `sigil`).
//!
//! Thin by design: every function converts Python values to Rust, calls the
//! core facade ([`sigil::facade`]) or a hot-path function, and converts the
//! result (or the error) back. The exception classes are defined in
//! `python/sigil/_errors.py`; errors are raised as instances of the class the
//! core's [`sigil::ErrorInfo`] names, with its fields.

mod client;
mod convert;
mod offline;
mod storage;
mod webhook;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Converts a core error into an instance of the matching `sigil` exception.
pub(crate) fn to_py(py: Python<'_>, err: impl Into<sigil::Error>) -> PyErr {
    info_to_py(py, &err.into().info())
}

/// The `sigil` exception an [`sigil::ErrorInfo`] names, with its fields.
pub(crate) fn info_to_py(py: Python<'_>, info: &sigil::ErrorInfo) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("sigil._errors")?.getattr(info.class)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", &info.code)?;
        kwargs.set_item("status", info.status)?;
        kwargs.set_item("request_id", &info.request_id)?;
        kwargs.set_item("retry_after", info.retry_after)?;
        if let Some(error) = &info.error {
            kwargs.set_item("error", error)?;
            kwargs.set_item("error_description", &info.error_description)?;
        }
        Ok(PyErr::from_value(
            cls.call((&info.message,), Some(&kwargs))?,
        ))
    };
    build().unwrap_or_else(|e| e)
}

/// An `InvalidInputError` with `message`.
pub(crate) fn invalid_input(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py(py, sigil::Error::InvalidInput(message.into()))
}

/// A PKCE verifier with its S256 challenge.
#[pyclass(frozen, get_all, module = "sigil")]
pub struct Pkce {
    verifier: String,
    challenge: String,
    method: &'static str,
}

#[pymethods]
impl Pkce {
    fn __repr__(&self) -> String {
        // The verifier stays out of logs, as in the core's Debug.
        format!(
            "Pkce(verifier=<redacted>, challenge={:?}, method={:?})",
            self.challenge, self.method
        )
    }
}

/// A fresh PKCE verifier and its S256 challenge.
#[pyfunction]
fn pkce() -> Pkce {
    let p = sigil::pkce();
    Pkce {
        verifier: p.verifier.expose().to_owned(),
        challenge: p.challenge.clone(),
        method: p.method(),
    }
}

/// The S256 challenge of `verifier`; raises `InvalidInputError` when invalid.
#[pyfunction]
fn pkce_challenge(
    py: Python<'_>,
    verifier: convert::Arg<pyo3::pybacked::PyBackedStr>,
) -> PyResult<String> {
    sigil::pkce::challenge(&verifier.0).map_err(|e| to_py(py, e))
}

/// Every typed API operation, `resource.method`.
#[pyfunction]
fn operations() -> Vec<&'static str> {
    sigil::facade::operation_names()
}

/// Does nothing: the benchmark's measure of one binding call's cost.
#[pyfunction]
fn noop() {}

#[pymodule]
#[pyo3(name = "_native")]
fn sigil_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pkce, m)?)?;
    m.add_function(wrap_pyfunction!(pkce_challenge, m)?)?;
    m.add_function(wrap_pyfunction!(operations, m)?)?;
    m.add_function(wrap_pyfunction!(noop, m)?)?;
    m.add_function(wrap_pyfunction!(offline::sign_request, m)?)?;
    m.add_function(wrap_pyfunction!(offline::verify_request, m)?)?;
    m.add_class::<Pkce>()?;
    m.add_class::<webhook::VerifiedWebhook>()?;
    m.add_class::<webhook::Webhook>()?;
    m.add_class::<offline::TokenVerifier>()?;
    m.add_class::<client::NativeClient>()?;
    Ok(())
}
