//! Reading cookies, and the first-party session cookie the sign-in pages set
//! and the `/v1` fallback in [`crate::http::principal`] accepts.

use axum::http::{header, HeaderMap};

/// The session cookie.
pub const SESSION_COOKIE: &str = "sigil_session";

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}
