//! `/app/v1/webhooks`: the same API as `/v1/webhooks` (one implementation,
//! [`crate::webhooks::http`]), for endpoints an app registers with its own
//! `client_credentials` token. They receive the events that happen in that
//! app's context (`message.delivered` of its messages, `permission.changed`
//! of its scopes), never the account's other events or another app's; and
//! neither side can see or change the other's endpoints (404).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::AppCaller;
use crate::body::ApiBody;
use crate::envelope::RequestId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::http::{self, CreateBody, DeliveriesQuery};
use crate::webhooks::Manager;

/// Routes of `/app/v1/webhooks`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/v1/webhooks", post(create).get(list))
        .route("/app/v1/webhooks/{id}", get(read).delete(remove))
        .route("/app/v1/webhooks/{id}/rotate", post(rotate))
        .route("/app/v1/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/app/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(redeliver),
        )
}

#[utoipa::path(
    post,
    path = "/app/v1/webhooks",
    tag = "app-api",
    request_body = CreateBody,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered; `data.secret` (`whsec_…`) is shown once"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"), (status = 422, description = "Invalid URL (or a non-public target outside dev and test mode) or event type", content_type = "application/problem+json"))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    http::create_in(&state, &rid, Manager::app(&caller)?, body).await
}

#[utoipa::path(
    get,
    path = "/app/v1/webhooks",
    tag = "app-api",
    security(("bearer" = [])),
    responses((status = 200, description = "Endpoints (no secrets)"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
) -> Result<Json<Value>, ApiError> {
    http::list_in(&state, &rid, Manager::app(&caller)?).await
}

#[utoipa::path(
    get,
    path = "/app/v1/webhooks/{id}",
    tag = "app-api",
    params(("id" = String, Path, description = "Resource id")),
    security(("bearer" = [])),
    responses((status = 200, description = "One endpoint (no secret)"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"))
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    http::read_in(&state, &rid, Manager::app(&caller)?, &id).await
}

#[utoipa::path(
    delete,
    path = "/app/v1/webhooks/{id}",
    tag = "app-api",
    params(("id" = String, Path, description = "Resource id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted with its deliveries"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: AppCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    http::remove_in(&state, Manager::app(&caller)?, &id).await
}

#[utoipa::path(
    post,
    path = "/app/v1/webhooks/{id}/rotate",
    tag = "app-api",
    params(("id" = String, Path, description = "Resource id")),
    security(("bearer" = [])),
    responses((status = 200, description = "New secret in `data.secret`, shown once; the previous one keeps signing alongside until `data.previousSecretExpiresAt`"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"))
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    http::rotate_in(&state, &rid, Manager::app(&caller)?, &id).await
}

#[utoipa::path(
    get,
    path = "/app/v1/webhooks/{id}/deliveries",
    tag = "app-api",
    params(("id" = String, Path, description = "Resource id"), DeliveriesQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "Deliveries, newest first: status, attempts, last status code or error, next attempt"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"))
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Value>, ApiError> {
    http::deliveries_in(&state, &rid, Manager::app(&caller)?, &id, q).await
}

#[utoipa::path(
    post,
    path = "/app/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    tag = "app-api",
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    security(("bearer" = [])),
    responses((status = 202, description = "Queued again with the same `webhook-id` and body; the schedule restarts"), (status = 404, description = "Not found"), (status = 409, description = "The endpoint is disabled", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Not the app's own token, or insufficient scope"))
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    http::redeliver_in(&state, &rid, Manager::app(&caller)?, &id, &delivery_id).await
}
