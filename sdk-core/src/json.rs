//! One JSON decode path: bytes become a [`Value`], and a typed value is read
//! from `&Value`. Every type's `Deserialize` is then compiled for one
//! deserializer, not once per input kind (slice, string, owned value): that
//! is a large share of the browser module's size, and a response is small
//! enough that the intermediate `Value` costs nothing that shows. A `Value`
//! keeps the last of duplicate members, so a JWS header or claims set, where
//! a duplicate must be refused, is parsed from its bytes instead (`jws`).

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A typed value from JSON bytes.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    from_value(&serde_json::from_slice::<Value>(bytes)?)
}

/// A typed value from a JSON value.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> serde_json::Result<T> {
    T::deserialize(value)
}
