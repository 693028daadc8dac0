//! `GET /healthz`: whether the process serves requests.

use axum::Json;

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
