//! `/app/v1/webhooks`: the same API as `/v1/webhooks` (one implementation,
//! [`crate::api::webhooks`]), for endpoints an app registers with its own
//! `client_credentials` token. They receive the events that happen in that
//! app's context (`message.delivered` of its messages, `permission.changed`
//! of its scopes), never the account's other events or another app's; and
//! neither side can see or change the other's endpoints (404).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::AppCaller;
use crate::api::webhooks::Manager;
use crate::api::webhooks::{
    self, CreateBody, DeliveriesQuery, WebhookDeliveryEnvelope, WebhookDeliveryListEnvelope,
    WebhookEnvelope, WebhookListEnvelope, WebhookWithSecretEnvelope,
};
use crate::app::state::AppState;
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::RequestId;
use crate::http::query::Query;

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
    operation_id = "createAppWebhook",
    tag = "app-api",
    request_body = CreateBody,
    security(("app_token" = [])),
    responses(
        (status = 201, description = "Registered; `data.secret` (`whsec_…`) is shown once", body = WebhookWithSecretEnvelope),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.write`"),
        (status = 422, description = "`validation_failed`: an invalid URL (or, outside dev and test mode, one that resolves to a non-public address), event type or description"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    webhooks::create_in(&state, &rid, Manager::app(&caller)?, body).await
}

#[utoipa::path(
    get,
    path = "/app/v1/webhooks",
    operation_id = "listAppWebhooks",
    tag = "app-api",
    security(("app_token" = [])),
    responses(
        (status = 200, description = "The app's endpoints (no secrets)", body = WebhookListEnvelope),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.read`"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
) -> Result<Json<Value>, ApiError> {
    webhooks::list_in(&state, &rid, Manager::app(&caller)?).await
}

#[utoipa::path(
    get,
    path = "/app/v1/webhooks/{id}",
    operation_id = "getAppWebhook",
    tag = "app-api",
    params(("id" = String, Path, description = "Webhook id")),
    security(("app_token" = [])),
    responses(
        (status = 200, description = "One endpoint (no secret)", body = WebhookEnvelope),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.read`"),
        (status = 404, description = "`not_found`: no such endpoint of the app's"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    webhooks::read_in(&state, &rid, Manager::app(&caller)?, &id).await
}

#[utoipa::path(
    delete,
    path = "/app/v1/webhooks/{id}",
    operation_id = "deleteAppWebhook",
    tag = "app-api",
    params(("id" = String, Path, description = "Webhook id")),
    security(("app_token" = [])),
    responses(
        (status = 204, description = "Deleted with its deliveries"),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.write`"),
        (status = 404, description = "`not_found`: no such endpoint of the app's"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: AppCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::remove_in(&state, Manager::app(&caller)?, &id).await
}

#[utoipa::path(
    post,
    path = "/app/v1/webhooks/{id}/rotate",
    operation_id = "rotateAppWebhookSecret",
    tag = "app-api",
    params(("id" = String, Path, description = "Webhook id")),
    security(("app_token" = [])),
    responses(
        (status = 200, description = "New secret in `data.secret`, shown once; the previous one keeps signing alongside until `data.previousSecretExpiresAt`", body = WebhookWithSecretEnvelope),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.write`"),
        (status = 404, description = "`not_found`: no such endpoint of the app's"),
    )
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    webhooks::rotate_in(&state, &rid, Manager::app(&caller)?, &id).await
}

#[utoipa::path(
    get,
    path = "/app/v1/webhooks/{id}/deliveries",
    operation_id = "listAppWebhookDeliveries",
    tag = "app-api",
    params(("id" = String, Path, description = "Webhook id"), DeliveriesQuery),
    security(("app_token" = [])),
    responses(
        (status = 200, description = "Deliveries, newest first: status, attempts, last status code or error, next attempt", body = WebhookDeliveryListEnvelope),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.read`"),
        (status = 404, description = "`not_found`: no such endpoint of the app's"),
        (status = 422, description = "`validation_failed`: `limit` is not 1-500"),
    )
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Value>, ApiError> {
    webhooks::deliveries_in(&state, &rid, Manager::app(&caller)?, &id, q).await
}

#[utoipa::path(
    post,
    path = "/app/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    operation_id = "redeliverAppWebhookDelivery",
    tag = "app-api",
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    security(("app_token" = [])),
    responses(
        (status = 202, description = "Queued again with the same `webhook-id` and body; the schedule restarts", body = WebhookDeliveryEnvelope),
        (status = 403, description = "`insufficient_scope`: not the app's own client_credentials token, or no `webhooks.write`"),
        (status = 404, description = "`not_found`: no such endpoint or delivery"),
        (status = 409, description = "`webhook_disabled`: the endpoint is disabled"),
    )
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    webhooks::redeliver_in(&state, &rid, Manager::app(&caller)?, &id, &delivery_id).await
}
