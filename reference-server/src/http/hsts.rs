//! `Strict-Transport-Security` on every answer when the issuer is https, so
//! a browser that reached the server once never falls back to plain HTTP.

use axum::http::{header, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// Two years, subdomains included (the preload list's minimum is one).
const POLICY: &str = "max-age=63072000; includeSubDomains";

/// The header layer.
pub fn layer() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(POLICY),
    )
}
