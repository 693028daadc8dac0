//! The Sigil reference server as a library, so tests drive the same router
//! in-process that the binary serves.

pub mod app_api;
pub mod audit;
pub mod auth_api;
pub mod body;
pub mod cap_tokens;
pub mod client_auth;
pub mod clock;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod discovery;
pub mod envelope;
pub mod error;
pub mod fields;
pub mod keys;
pub mod metrics;
pub mod middleware;
pub mod oauth;
pub mod openapi;
pub mod pages;
pub mod policy;
pub mod principal;
pub mod query;
pub mod quota;
pub mod ratelimit;
pub mod request_id;
pub mod scopes;
pub mod seed;
pub mod signin;
pub mod state;
pub mod store;
pub mod test_mode;
pub mod tokens;
pub mod v1;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};

pub use config::Config;
pub use state::AppState;

/// The full HTTP surface over `state`.
pub fn router(state: AppState) -> Router {
    // Sign-in and OAuth endpoints are limited per client IP.
    let per_ip = Router::new()
        .merge(oauth::routes())
        .merge(auth_api::routes())
        .merge(signin::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_per_ip,
        ));
    let mut routes = Router::new();
    if state.config.test_mode {
        routes = routes.merge(test_mode::routes());
    }
    routes
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::export))
        .route("/openapi.json", get(openapi::serve))
        .merge(discovery::routes())
        .merge(per_ip)
        .merge(v1::routes())
        .merge(audit::routes())
        .merge(webhooks::routes())
        .merge(app_api::routes())
        .merge(cap_tokens::routes())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .with_state(state.clone())
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        // Bodies over the limit fail inside the extractor with a typed 413.
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            middleware::request_id_in_problems,
        ))
        .layer(cors::layer(state.store.clone()))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(request_id::layer())
}

/// `GET /healthz`'s answer.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: [`healthz`] writes it.
pub struct Health {
    /// Always `ok`.
    status: String,
}

/// `GET /healthz`: the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "getHealth",
    tag = "operations",
    responses((status = 200, description = "`{status: \"ok\"}`", body = Health))
)]
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}
