//! The OAuth 2.0 endpoints.

pub mod authorize;
pub mod code;
pub mod grants;
pub mod introspect;
pub mod request;
pub mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::app::state::AppState;

/// `/oauth` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize::authorize))
        .route(
            "/oauth/consent",
            get(authorize::consent_form).post(authorize::consent),
        )
        .route("/oauth/token", post(token::token))
        .route("/oauth/introspect", post(introspect::introspect))
        .route("/oauth/revoke", post(introspect::revoke))
}
