//! Offline token verification against a JWKS the caller holds, and RFC 9421
//! request signing and verification: the core's stateless functions.

use pyo3::prelude::*;
use serde_json::Value;
use sigil::facade::{offline, RequestInit, VerifyTokenOptions};

use crate::convert::{to_python, Arg, Json};
use crate::to_py;

/// Verifies Sigil tokens against one JWKS, parsed once.
#[pyclass(frozen, module = "sigil")]
pub struct TokenVerifier {
    inner: offline::TokenVerifier,
}

#[pymethods]
impl TokenVerifier {
    /// `jwks`: the JWKS document as a dict, JSON text or bytes.
    #[new]
    #[pyo3(signature = (jwks, options = None))]
    fn new(
        py: Python<'_>,
        jwks: &Bound<'_, PyAny>,
        options: Option<Json<VerifyTokenOptions>>,
    ) -> PyResult<Self> {
        let options = options.map(|o| o.0).unwrap_or_default();
        let bytes = if jwks.is_instance_of::<pyo3::types::PyDict>() {
            let Json(value) = jwks.extract::<Json<Value>>()?;
            serde_json::to_vec(&value).unwrap_or_default()
        } else {
            crate::webhook::body_bytes(jwks)?.into_owned()
        };
        offline::TokenVerifier::new(&bytes, &options)
            .map(|inner| Self { inner })
            .map_err(|e| to_py(py, e))
    }

    /// The token's claims, or a typed error; `now` in UNIX seconds.
    #[pyo3(signature = (token, *, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        token: Arg<pyo3::pybacked::PyBackedStr>,
        now: Option<Arg<i64>>,
    ) -> PyResult<Py<PyAny>> {
        let (Arg(token), now) = (token, now.map(|n| n.0));
        let claims = py.detach(|| self.inner.verify(&token, now));
        to_python(py, claims)
    }
}

/// The headers that sign the request (RFC 9421, with `Content-Digest`).
#[pyfunction]
pub(crate) fn sign_request(
    py: Python<'_>,
    method: Arg<String>,
    url: Arg<String>,
    headers: Arg<Vec<(String, String)>>,
    body: Arg<Vec<u8>>,
    options: Json<offline::SignOptions>,
) -> PyResult<Py<PyAny>> {
    let (Arg(method), Arg(url), Arg(headers), Arg(body)) = (method, url, headers, body);
    let init = RequestInit {
        method,
        url,
        headers,
        body,
    };
    to_python(py, offline::sign_request(&init, &options.0, None))
}

/// Verifies the RFC 9421 signature of the request; returns what it covered.
#[pyfunction]
#[pyo3(signature = (method, url, headers, body, options, now = None))]
pub(crate) fn verify_request(
    py: Python<'_>,
    method: Arg<String>,
    url: Arg<String>,
    headers: Arg<Vec<(String, String)>>,
    body: Arg<Vec<u8>>,
    options: Json<Value>,
    now: Option<Arg<i64>>,
) -> PyResult<Py<PyAny>> {
    let (Arg(method), Arg(url), Arg(headers), Arg(body)) = (method, url, headers, body);
    let now = now.map(|n| n.0);
    let options: offline::VerifyRequestOptions =
        sigil::facade::parse("options", options.0).map_err(|e| to_py(py, e))?;
    let init = RequestInit {
        method,
        url,
        headers,
        body,
    };
    to_python(py, offline::verify_request(&init, &options, now))
}
