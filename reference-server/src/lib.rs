//! The Sigil reference server as a library, so tests drive the same router
//! in-process that the binary serves.

pub mod config;
pub mod discovery;
pub mod request_id;

use axum::routing::get;
use axum::{Json, Router};

pub use config::Config;

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Resolved configuration.
    pub config: std::sync::Arc<Config>,
}

/// The full HTTP surface.
pub fn router(config: Config) -> Router {
    let state = AppState {
        config: std::sync::Arc::new(config),
    };
    Router::new()
        .route("/healthz", get(healthz))
        .merge(discovery::routes())
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(request_id::layer())
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}
