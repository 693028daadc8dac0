//! The HTTP API for endpoints, one implementation for both kinds of owner: an
//! account's own endpoints under `/v1/webhooks` (this module's handlers) and
//! an app's under `/app/v1/webhooks` (`crate::api::app_api::webhooks`). Each
//! operation takes a [`Manager`], which fixes the [`Owner`], the scope
//! check and the audit actor, so the two APIs cannot drift apart.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::app_api::AppCaller;
use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::fields;
use crate::core::principal::Principal;
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::http::query::Query;
use crate::services::webhooks::{check_url, now_ms, EVENT_TYPES};
use crate::store::webhooks::{status, Delivery, Endpoint, Owner};

/// Routes of `/v1/webhooks`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", post(create).get(list))
        .route("/v1/webhooks/{id}", get(read).delete(remove))
        .route("/v1/webhooks/{id}/rotate", post(rotate))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(redeliver),
        )
}

/// Who manages endpoints: an account (its own) or an app (its own).
#[derive(Debug, Clone, Copy)]
pub enum Manager<'a> {
    /// An API key or first-party token on `/v1/webhooks`.
    Account(&'a Principal),
    /// An app's own token on `/app/v1/webhooks`.
    App(&'a AppCaller),
}

impl<'a> Manager<'a> {
    /// An app managing its endpoints. Only the app itself may (its
    /// `client_credentials` token), not a user token it was issued: a public
    /// client's user token sits in the user's browser, and its holder could
    /// otherwise point the app's events, other users' included, anywhere.
    pub fn app(caller: &'a AppCaller) -> Result<Self, ApiError> {
        if caller.user_sub.is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "an app's webhooks are managed with its own client_credentials token",
            ));
        }
        Ok(Manager::App(caller))
    }

    fn owner(self) -> Owner<'a> {
        match self {
            Manager::Account(p) => Owner {
                workspace: &p.workspace,
                app: None,
            },
            Manager::App(c) => Owner {
                workspace: &c.app.workspace_id,
                app: Some(&c.app.id),
            },
        }
    }

    fn require(self, scope: &str) -> Result<(), ApiError> {
        match self {
            Manager::Account(p) => p.require(scope),
            Manager::App(c) => c.require(scope),
        }
    }

    /// An audit event in the account's log, naming the key, user or app.
    fn event(self, kind: &str) -> Event {
        match self {
            Manager::Account(p) => Event::by(kind, p),
            Manager::App(c) => Event::new(kind)
                .account(&c.app.workspace_id)
                .actor(&c.app.id),
        }
    }
}

/// Whether an endpoint receives deliveries.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    /// It receives deliveries.
    Active,
    /// It answered 410 Gone; register it again to receive deliveries.
    Disabled,
}

/// An endpoint as the API shows it (`#/components/schemas/Webhook`): never
/// a secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Webhook)]
pub struct WebhookView {
    /// `whk_…`.
    id: String,
    /// Where deliveries are POSTed.
    url: String,
    /// The event types it receives (`*` for all).
    #[schema(value_type = Vec<EventType>)]
    events: Vec<String>,
    /// Its description, if any.
    #[schema(required = true)]
    description: Option<String>,
    /// Whether it receives deliveries.
    status: WebhookStatus,
    /// RFC 3339; null while active.
    #[schema(format = DateTime, required = true)]
    disabled_at: Option<String>,
    /// Why it was disabled.
    #[schema(required = true)]
    disabled_reason: Option<String>,
    /// RFC 3339: until then the previous secret signs alongside the new one.
    #[schema(format = DateTime, required = true)]
    previous_secret_expires_at: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    updated_at: String,
}

/// An endpoint with its signing secret (`#/components/schemas/WebhookWithSecret`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: WebhookView,
    /// The signing secret (`whsec_…`, Standard Webhooks), shown only here.
    secret: String,
}

/// Where a delivery stands.
#[derive(Debug)]
pub struct DeliveryStatus;

impl utoipa::PartialSchema for DeliveryStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(
            [status::PENDING, status::DELIVERED, status::FAILED, status::STOPPED],
            "`pending` (waiting for its next attempt, or in flight), `delivered` (a 2xx acknowledged it), `failed` (every attempt failed) or `stopped` (its endpoint was disabled first)",
        )
        .into()
    }
}
impl utoipa::ToSchema for DeliveryStatus {}

/// One event's delivery to one endpoint (`#/components/schemas/WebhookDelivery`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    /// `dlv_…`.
    id: String,
    /// The `webhook-id` header (`msg_…`), shared by every endpoint's copy.
    webhook_id: String,
    /// The event type.
    event_type: String,
    /// Where it stands.
    #[schema(value_type = DeliveryStatus)]
    status: String,
    /// Attempts made.
    attempts: i64,
    /// The receiver's HTTP status on the last attempt.
    #[schema(required = true)]
    last_status_code: Option<i64>,
    /// The transport error of the last attempt.
    #[schema(required = true)]
    last_error: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime, required = true)]
    last_attempt_at: Option<String>,
    /// RFC 3339, while pending.
    #[schema(format = DateTime, required = true)]
    next_attempt_at: Option<String>,
    /// RFC 3339, once delivered.
    #[schema(format = DateTime, required = true)]
    delivered_at: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
}

envelopes! {
    /// One endpoint.
    WebhookEnvelope(WebhookView, Meta);
    /// An endpoint with its signing secret.
    WebhookWithSecretEnvelope(WebhookWithSecret, Meta);
    /// Endpoints, newest first.
    WebhookListEnvelope(Vec<WebhookView>, Meta);
    /// Deliveries, newest first.
    WebhookDeliveryListEnvelope(Vec<DeliveryView>, Meta);
    /// The delivery queued again (null if it vanished meanwhile).
    WebhookDeliveryEnvelope(Option<DeliveryView>, Meta);
}

/// The public view of an endpoint (never a secret).
pub fn view(e: &Endpoint, now: i64) -> WebhookView {
    WebhookView {
        id: e.id.clone(),
        url: e.url.clone(),
        events: e.events.clone(),
        description: e.description.clone(),
        status: if e.disabled_at.is_some() {
            WebhookStatus::Disabled
        } else {
            WebhookStatus::Active
        },
        disabled_at: e.disabled_at.map(rfc3339),
        disabled_reason: e.disabled_reason.clone(),
        previous_secret_expires_at: e.previous_expires_at.filter(|t| *t > now).map(rfc3339),
        created_at: rfc3339(e.created_at),
        updated_at: rfc3339(e.updated_at),
    }
}

fn ms(t: i64) -> String {
    rfc3339(t.div_euclid(1000))
}

/// The public view of a delivery.
pub fn delivery_view(d: &Delivery) -> DeliveryView {
    DeliveryView {
        id: d.id.clone(),
        webhook_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status.clone(),
        attempts: d.attempts,
        last_status_code: d.last_status,
        last_error: d.last_error.clone(),
        last_attempt_at: d.last_attempt_ms.map(ms),
        next_attempt_at: d
            .next_attempt_ms
            .filter(|_| d.status == status::PENDING)
            .map(ms),
        delivered_at: d.delivered_at_ms.map(ms),
        created_at: rfc3339(d.created_at),
    }
}

/// `POST /v1/webhooks` and `POST /app/v1/webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateWebhook)]
pub(crate) struct CreateBody {
    /// http(s) URL deliveries are POSTed to.
    #[schema(value_type = fields::WebhookUrl)]
    url: String,
    /// 1-50 event types (see SYSTEM.md), or `["*"]` for all.
    #[schema(value_type = Vec<EventType>, min_items = 1, max_items = 50)]
    events: Vec<String>,
    #[schema(value_type = Option<fields::WebhookDescription>)]
    description: Option<String>,
}

fn check_events(events: &[String]) -> Result<Vec<String>, ApiError> {
    if events.is_empty() || events.len() > 50 {
        return Err(ApiError::validation("events must list 1-50 event types"));
    }
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if e != "*" && !EVENT_TYPES.contains(&e.as_str()) {
            return Err(ApiError::validation(format!(
                "unknown event type `{e}`; use one of {} or `*`",
                EVENT_TYPES.join(", ")
            )));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

/// The endpoint `id` when it is owned by `by`; 404 otherwise, also when
/// it belongs to the same account under the other API.
async fn owned(state: &AppState, id: &str, by: Manager<'_>) -> Result<Endpoint, ApiError> {
    state
        .store
        .webhook(id)
        .await?
        .filter(|e| by.owner().holds(e))
        .ok_or_else(|| ApiError::not_found("webhook"))
}

/// Registers an endpoint; its secret is in the answer, and only there.
pub(crate) async fn create_in(
    state: &AppState,
    rid: &RequestId,
    by: Manager<'_>,
    body: CreateBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    by.require("webhooks.write")?;
    let events = check_events(&body.events)?;
    if body
        .description
        .as_deref()
        .is_some_and(|d| !fields::WEBHOOK_DESCRIPTION.matches(d))
    {
        return Err(ApiError::validation(
            "description must be at most 500 characters",
        ));
    }
    let description = match body.description.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(d) => Some(d.to_owned()),
    };
    if !fields::WEBHOOK_URL.matches(&body.url) {
        return Err(ApiError::validation(
            "url must be an http(s) URL with a lowercase host, in printable ASCII, without credentials or a fragment, of at most 2048 characters",
        ));
    }
    let allow_private = state.config.dev || state.config.test_mode;
    let url = check_url(&body.url, allow_private)
        .await
        .map_err(ApiError::validation)?;
    let now = state.clock.now();
    let secret = sigil::webhook::generate_secret();
    let owner = by.owner();
    let endpoint = Endpoint {
        id: crate::core::crypto::new_id("whk_"),
        workspace_id: owner.workspace.to_owned(),
        app_id: owner.app.map(str::to_owned),
        url: url.to_string(),
        events,
        description,
        secret: secret.clone(),
        previous_secret: None,
        previous_expires_at: None,
        disabled_at: None,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    state.store.create_webhook(&endpoint).await?;
    state
        .audit
        .record(by.event("webhook.created").subject(&endpoint.id).data(
            json!({ "url": endpoint.url, "events": endpoint.events, "appId": endpoint.app_id }),
        ))
        .await?;
    let data = WebhookWithSecret {
        webhook: view(&endpoint, now),
        secret,
    };
    Ok((StatusCode::CREATED, envelope(data, rid, now)))
}

/// `by`'s endpoints, newest first.
pub(crate) async fn list_in(
    state: &AppState,
    rid: &RequestId,
    by: Manager<'_>,
) -> Result<Json<Value>, ApiError> {
    by.require("webhooks.read")?;
    let now = state.clock.now();
    let all = state.store.webhooks_of(by.owner()).await?;
    let data: Vec<WebhookView> = all.iter().map(|e| view(e, now)).collect();
    Ok(envelope(data, rid, now))
}

/// One of `by`'s endpoints.
pub(crate) async fn read_in(
    state: &AppState,
    rid: &RequestId,
    by: Manager<'_>,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    by.require("webhooks.read")?;
    let now = state.clock.now();
    let endpoint = owned(state, id, by).await?;
    Ok(envelope(view(&endpoint, now), rid, now))
}

/// Deletes one of `by`'s endpoints with its deliveries.
pub(crate) async fn remove_in(
    state: &AppState,
    by: Manager<'_>,
    id: &str,
) -> Result<StatusCode, ApiError> {
    by.require("webhooks.write")?;
    if !state.store.delete_webhook(id, by.owner()).await? {
        return Err(ApiError::not_found("webhook"));
    }
    state
        .audit
        .record(by.event("webhook.deleted").subject(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret, shown once; the previous one keeps signing for the overlap.
pub(crate) async fn rotate_in(
    state: &AppState,
    rid: &RequestId,
    by: Manager<'_>,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    by.require("webhooks.write")?;
    let now = state.clock.now();
    let secret = sigil::webhook::generate_secret();
    let overlap = i64::try_from(state.config.webhook_secret_overlap_secs).unwrap_or(i64::MAX / 2);
    if !state
        .store
        .rotate_webhook_secret(id, by.owner(), &secret, now + overlap, now)
        .await?
    {
        return Err(ApiError::not_found("webhook"));
    }
    state
        .audit
        .record(
            by.event("webhook.secret_rotated")
                .subject(id)
                .data(json!({ "overlapSeconds": overlap })),
        )
        .await?;
    let endpoint = owned(state, id, by).await?;
    let data = WebhookWithSecret {
        webhook: view(&endpoint, now),
        secret,
    };
    Ok(envelope(data, rid, now))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveriesQuery {
    /// At most this many, newest first (1-500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// An endpoint's deliveries, newest first.
pub(crate) async fn deliveries_in(
    state: &AppState,
    rid: &RequestId,
    by: Manager<'_>,
    id: &str,
    q: DeliveriesQuery,
) -> Result<Json<Value>, ApiError> {
    by.require("webhooks.read")?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::validation("limit must be 1-500"));
    }
    let endpoint = owned(state, id, by).await?;
    let rows = state.store.webhook_deliveries(&endpoint.id, limit).await?;
    let data: Vec<DeliveryView> = rows.iter().map(delivery_view).collect();
    Ok(envelope(data, rid, state.clock.now()))
}

/// Queues a delivery again: same `webhook-id` and body, schedule restarted.
pub(crate) async fn redeliver_in(
    state: &AppState,
    rid: &RequestId,
    by: Manager<'_>,
    id: &str,
    delivery_id: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    by.require("webhooks.write")?;
    let endpoint = owned(state, id, by).await?;
    if endpoint.disabled_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "webhook_disabled",
            "the endpoint is disabled; register it again to receive deliveries",
        ));
    }
    if !state
        .store
        .redeliver_webhook(delivery_id, &endpoint.id, now_ms())
        .await?
    {
        return Err(ApiError::not_found("delivery"));
    }
    state.webhooks.wake();
    state
        .audit
        .record(
            by.event("webhook.redelivered")
                .subject(id)
                .data(json!({ "delivery": delivery_id })),
        )
        .await?;
    let rows = state.store.webhook_deliveries(&endpoint.id, 500).await?;
    let data = rows.iter().find(|d| d.id == delivery_id).map(delivery_view);
    Ok((StatusCode::ACCEPTED, envelope(data, rid, state.clock.now())))
}

// ---------------------------------------------------------------------------
// /v1/webhooks

#[utoipa::path(
    post,
    path = "/v1/webhooks",
    operation_id = "createWebhook",
    tag = "webhooks",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Registered; `data.secret` (`whsec_…`) is shown once", body = WebhookWithSecretEnvelope),
        (status = 403, description = "`insufficient_scope`: no `webhooks.write`"),
        (status = 422, description = "`validation_failed`: an invalid URL (or, outside dev and test mode, one that resolves to a non-public address), event type or description"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create_in(&state, &rid, Manager::Account(&caller), body).await
}

#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "listWebhooks",
    tag = "webhooks",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Endpoints (no secrets)", body = WebhookListEnvelope),
        (status = 403, description = "`insufficient_scope`: no `webhooks.read`"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    list_in(&state, &rid, Manager::Account(&caller)).await
}

#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    operation_id = "getWebhook",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One endpoint (no secret)", body = WebhookEnvelope),
        (status = 403, description = "`insufficient_scope`: no `webhooks.read`"),
        (status = 404, description = "`not_found`: no such endpoint of the account's"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    read_in(&state, &rid, Manager::Account(&caller), &id).await
}

#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    operation_id = "deleteWebhook",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted with its deliveries"),
        (status = 403, description = "`insufficient_scope`: no `webhooks.write`"),
        (status = 404, description = "`not_found`: no such endpoint of the account's"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_in(&state, Manager::Account(&caller), &id).await
}

#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/rotate",
    operation_id = "rotateWebhookSecret",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "New secret in `data.secret`, shown once; the previous one keeps signing alongside until `data.previousSecretExpiresAt`", body = WebhookWithSecretEnvelope),
        (status = 403, description = "`insufficient_scope`: no `webhooks.write`"),
        (status = 404, description = "`not_found`: no such endpoint of the account's"),
    )
)]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    rotate_in(&state, &rid, Manager::Account(&caller), &id).await
}

#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries",
    operation_id = "listWebhookDeliveries",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), DeliveriesQuery),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Deliveries, newest first: status, attempts, last status code or error, next attempt", body = WebhookDeliveryListEnvelope),
        (status = 403, description = "`insufficient_scope`: no `webhooks.read`"),
        (status = 404, description = "`not_found`: no such endpoint of the account's"),
        (status = 422, description = "`validation_failed`: `limit` is not 1-500"),
    )
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Value>, ApiError> {
    deliveries_in(&state, &rid, Manager::Account(&caller), &id, q).await
}

#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    operation_id = "redeliverWebhookDelivery",
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 202, description = "Queued again with the same `webhook-id` and body; the schedule restarts", body = WebhookDeliveryEnvelope),
        (status = 403, description = "`insufficient_scope`: no `webhooks.write`"),
        (status = 404, description = "`not_found`: no such endpoint or delivery"),
        (status = 409, description = "`webhook_disabled`: the endpoint is disabled"),
    )
)]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    redeliver_in(&state, &rid, Manager::Account(&caller), &id, &delivery_id).await
}

/// A webhook event type, or `*` for all.
#[derive(Debug)]
pub struct EventType;

impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(
            std::iter::once("*").chain(EVENT_TYPES.iter().copied()),
            "An event type, or `*` for every event",
        )
        .into()
    }
}
impl utoipa::ToSchema for EventType {}
