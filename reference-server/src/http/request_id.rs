//! `X-Request-Id` on every response: taken from the request when a proxy set
//! one, generated otherwise, so SDK errors can quote it.

use axum::http::HeaderName;
use tower::layer::util::Stack;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The header name.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Sets (when absent) and propagates the request id.
pub fn layer() -> Stack<PropagateRequestIdLayer, SetRequestIdLayer<MakeRequestUuid>> {
    // The outer layer (second argument) runs first: set, then propagate.
    Stack::new(
        PropagateRequestIdLayer::new(HEADER),
        SetRequestIdLayer::new(HEADER, MakeRequestUuid),
    )
}
