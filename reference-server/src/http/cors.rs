//! CORS for the origins apps registered, and no others: a browser app may
//! call the token and API endpoints from its own origin only.

use std::sync::Arc;

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::store::Store;

/// The CORS layer, asking the store whether an origin is registered.
pub fn layer(store: Arc<dyn Store>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(
            move |origin: HeaderValue, _parts| {
                let store = store.clone();
                async move {
                    match origin.to_str() {
                        Ok(o) => store.origin_allowed(o).await.unwrap_or(false),
                        Err(_) => false,
                    }
                }
            },
        ))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
}
