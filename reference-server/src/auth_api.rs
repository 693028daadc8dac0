//! The seed session endpoints under `/auth`: the same grants as
//! `/oauth/token`, in the `{data, meta}` envelope with RFC 9457 errors.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::ApiBody;
use crate::client_auth::{self, Presented};
use crate::envelope::{envelope, RequestId};
use crate::error::{ApiError, OAuthError};
use crate::oauth::grants::{self, Outcome};
use crate::oauth::introspect::inspect;
use crate::principal::Principal;
use crate::state::AppState;

/// `/auth` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/token/exchange", post(exchange))
        .route("/auth/client-token", post(client_token))
        .route("/auth/introspect", post(introspect))
        .route("/auth/refresh", post(refresh))
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        ApiError {
            retry_after: e.retry_after,
            ..ApiError::new(e.status, e.error, e.description)
        }
    }
}

fn scope_param(scopes: &Option<Vec<String>>) -> Option<String> {
    scopes.as_ref().map(|s| s.join(" "))
}

fn tokens(outcome: &Outcome) -> Value {
    let mut data = json!({
        "accessToken": outcome.access.token,
        "tokenType": "Bearer",
        "expiresIn": outcome.access.expires_in,
        "scope": outcome.scopes.join(" "),
    });
    if let Some(rt) = &outcome.refresh_token {
        data["refreshToken"] = rt.as_str().into();
    }
    data
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ExchangeBody {
    api_key: String,
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/auth/token/exchange",
    tag = "session",
    request_body = ExchangeBody,
    responses((status = 200, description = "`{data:{accessToken, expiresIn}, meta}`"), (status = 401, description = "Unknown, revoked or expired key"), (status = 429, description = "Rate limited"))
)]
pub(crate) async fn exchange(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<ExchangeBody>,
) -> Result<Json<Value>, ApiError> {
    let outcome = grants::api_key_exchange(
        &state,
        &body.api_key,
        scope_param(&body.scopes).as_deref(),
        None,
    )
    .await
    .map_err(|e| match e.error {
        // Here the key is the caller's credential, so a bad one is a 401.
        "invalid_grant" => ApiError::invalid_token(e.description),
        _ => e.into(),
    })?;
    Ok(envelope(tokens(&outcome), &rid, state.clock.now()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientTokenBody {
    client_id: String,
    client_secret: String,
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/auth/client-token",
    tag = "session",
    request_body = ClientTokenBody,
    responses((status = 200, description = "`{data:{accessToken, expiresIn}, meta}`"), (status = 401, description = "Client authentication failed"))
)]
pub(crate) async fn client_token(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<ClientTokenBody>,
) -> Result<Json<Value>, ApiError> {
    let app = client_auth::authenticate(
        &state,
        &Presented {
            client_id: body.client_id,
            secret: Some(body.client_secret),
        },
    )
    .await?;
    let outcome =
        grants::client_credentials(&state, &app, scope_param(&body.scopes).as_deref()).await?;
    Ok(envelope(tokens(&outcome), &rid, state.clock.now()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IntrospectBody {
    token: String,
}

#[utoipa::path(
    post,
    path = "/auth/introspect",
    tag = "session",
    request_body = IntrospectBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "RFC 7662 fields in the envelope"), (status = 401, description = "Missing credentials"))
)]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    rid: RequestId,
    _caller: Principal,
    ApiBody(body): ApiBody<IntrospectBody>,
) -> Result<Json<Value>, ApiError> {
    let data = inspect(&state, &body.token, None).await?;
    Ok(envelope(data, &rid, state.clock.now()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshBody {
    refresh_token: String,
    client_id: String,
    client_secret: Option<String>,
}

#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "session",
    request_body = RefreshBody,
    responses((status = 200, description = "Rotated tokens in the envelope"), (status = 400, description = "invalid_grant (reuse revokes the family)"))
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<RefreshBody>,
) -> Result<Json<Value>, ApiError> {
    let app = client_auth::authenticate(
        &state,
        &Presented {
            client_id: body.client_id,
            secret: body.client_secret,
        },
    )
    .await?;
    let outcome = grants::refresh(&state, &app, &body.refresh_token, None).await?;
    Ok(envelope(tokens(&outcome), &rid, state.clock.now()))
}
