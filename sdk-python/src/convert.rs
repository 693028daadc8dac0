//! Python objects to the facade's serde types and back, with pythonize: a
//! wrong type or an unknown member is an `InvalidInputError` naming the
//! argument, never a panic.

use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{invalid_input, to_py};

/// An argument extracted as `T`; a value of the wrong type (or out of
/// range) is an `InvalidInputError`, with pyo3's message and its note naming
/// the argument, instead of a bare `TypeError`. Errors that already are
/// `sigil` errors pass through.
pub(crate) struct Arg<T>(pub(crate) T);

impl<'a, 'py, T: FromPyObject<'a, 'py>> FromPyObject<'a, 'py> for Arg<T> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        T::extract(obj).map(Arg).map_err(|e| {
            let e: PyErr = e.into();
            let is_sigil = py
                .import("sigil._errors")
                .and_then(|m| m.getattr("SigilError"))
                .is_ok_and(|cls| e.value(py).is_instance(&cls).unwrap_or(false));
            if is_sigil {
                return e;
            }
            let err = invalid_input(py, e.value(py).to_string());
            err.set_cause(py, Some(e));
            err
        })
    }
}

/// A Python value deserialized into `T` (a dict into a facade struct).
pub(crate) struct Json<T>(pub(crate) T);

impl<'a, 'py, T: DeserializeOwned> FromPyObject<'a, 'py> for Json<T> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        pythonize::depythonize(&obj.to_owned())
            .map(Json)
            .map_err(|e| invalid_input(obj.py(), e.to_string()))
    }
}

/// The result of a facade call as a Python object, or its typed exception.
pub(crate) fn to_python<T: Serialize>(
    py: Python<'_>,
    result: sigil::Result<T>,
) -> PyResult<Py<PyAny>> {
    let value = result.map_err(|e| to_py(py, e))?;
    pythonize::pythonize(py, &value)
        .map(Bound::unbind)
        .map_err(|e| invalid_input(py, e.to_string()))
}
