//! The Sigil reference server as a library, so tests drive the same router
//! in-process that the binary serves.
//!
//! Layers, each depending only on those below it: [`api`] (the endpoints)
//! and [`http`] (their plumbing) over [`services`], over [`store`] and
//! [`core`]; [`app`] wires them together. Only `api`, `http` and `app` name
//! [`AppState`].

pub mod api;
pub mod app;
pub mod core;
pub mod error;
pub mod http;
pub mod services;
pub mod store;

// The paths the tests, tools and binary import, as they were before the
// layers above.
pub use crate::api::{oauth, test_mode, v1};
pub use crate::app::{seed, AppState, Config};
pub use crate::core::{audit, crypto, scopes};
pub use crate::http::{body, tokens};

/// The webhook delivery worker, where the tests and the binary start it.
pub mod webhooks {
    use crate::AppState;

    /// Starts the delivery worker for `state`: [`AppState::spawn_webhook_worker`].
    pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
        state.spawn_webhook_worker()
    }
}

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;

/// The full HTTP surface over `state`.
pub fn router(state: AppState) -> Router {
    // Sign-in and OAuth endpoints are limited per client IP.
    let per_ip = Router::new()
        .merge(api::oauth::routes())
        .merge(api::auth_api::routes())
        .merge(api::provider_login::routes())
        .merge(api::signin::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::middleware::limit_per_ip,
        ));
    let mut routes = Router::new();
    if state.config.test_mode {
        routes = routes.merge(api::test_mode::routes());
    }
    let hsts = state.config.issuer().starts_with("https://");
    let routes = routes
        .route("/healthz", get(api::health::healthz))
        .route("/metrics", get(http::metrics::export))
        .route("/openapi.json", get(api::openapi::serve))
        .merge(api::discovery::routes())
        .merge(per_ip)
        .merge(api::v1::routes())
        .merge(api::trust::routes())
        .merge(api::audit::routes())
        .merge(api::webhooks::routes())
        .merge(api::app_api::routes())
        .merge(api::cap_tokens::routes())
        .fallback(http::middleware::not_found)
        .method_not_allowed_fallback(http::middleware::method_not_allowed)
        .with_state(state.clone())
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            http::metrics::record,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::client_ip::layer,
        ))
        // Bodies over the limit fail inside the extractor with a typed 413.
        .layer(DefaultBodyLimit::max(http::body::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            http::middleware::request_id_in_problems,
        ))
        .layer(http::cors::layer(state.store.clone()))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(http::request_id::layer());
    if hsts {
        routes.layer(http::hsts::layer())
    } else {
        routes
    }
}
