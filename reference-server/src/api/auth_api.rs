//! The seed session endpoints under `/auth`: the same grants as
//! `/oauth/token`, in the `{data, meta}` envelope with RFC 9457 errors.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::oauth::grants::{self, Outcome};
use crate::api::oauth::introspect::{inspect, Introspection};
use crate::app::state::AppState;
use crate::core::fields;
use crate::core::principal::Principal;
use crate::error::{ApiError, OAuthError};
use crate::http::body::ApiBody;
use crate::http::client_auth::{self, Presented};
use crate::http::client_ip::ClientIp;
use crate::http::envelope::{envelope, envelopes, Meta, RequestId};

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
        if let Some(problem) = e.problem {
            return *problem;
        }
        ApiError {
            retry_after: e.retry_after,
            ..ApiError::new(e.status, e.error, e.description)
        }
    }
}

fn scope_param(scopes: &Option<Vec<String>>) -> Option<String> {
    scopes.as_ref().map(|s| s.join(" "))
}

/// Tokens from a session endpoint (`#/components/schemas/SessionTokens`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionTokens {
    /// The access token (EdDSA JWS, `at+jwt`).
    access_token: String,
    #[schema(value_type = fields::BearerTokenType)]
    token_type: &'static str,
    /// Seconds until it expires.
    expires_in: u64,
    /// The granted scopes, space-separated.
    scope: String,
    /// The rotated refresh token (`sgl_rt_…`), from `/auth/refresh` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

envelopes! {
    /// Session tokens.
    SessionTokensEnvelope(SessionTokens, Meta);
    /// An introspection.
    IntrospectionEnvelope(Introspection, Meta);
}

fn tokens(outcome: &Outcome) -> SessionTokens {
    SessionTokens {
        access_token: outcome.access.token.clone(),
        token_type: "Bearer",
        expires_in: outcome.access.expires_in,
        scope: outcome.scopes.join(" "),
        refresh_token: outcome.refresh_token.clone(),
    }
}

/// `POST /auth/token/exchange`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ExchangeApiKey)]
pub(crate) struct ExchangeBody {
    /// The API key (`sgl_live_…` or `sgl_test_…`).
    api_key: String,
    /// A subset of the key's scopes; all of them by default.
    #[schema(value_type = Option<Vec<fields::Scope>>)]
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/auth/token/exchange",
    operation_id = "exchangeApiKey",
    tag = "session",
    request_body = ExchangeBody,
    responses(
        (status = 200, description = "A short-lived access token for the key's account", body = SessionTokensEnvelope),
        (status = 400, description = "`invalid_scope`: a scope beyond the key's; or a malformed body"),
        (status = 401, description = "`invalid_token`: the key is malformed, unknown, revoked or expired", headers(("WWW-Authenticate" = String, description = "The Bearer challenge"))),
        (status = 403, description = "`ip_not_allowed`: the key has an IP allowlist and this request comes from elsewhere"),
    )
)]
pub(crate) async fn exchange(
    State(state): State<AppState>,
    rid: RequestId,
    ClientIp(ip): ClientIp,
    ApiBody(body): ApiBody<ExchangeBody>,
) -> Result<Json<Value>, ApiError> {
    let outcome = grants::api_key_exchange(
        &state,
        &body.api_key,
        scope_param(&body.scopes).as_deref(),
        None,
        ip,
    )
    .await
    .map_err(|e| match e.error {
        // Here the key is the caller's credential, so a bad one is a 401.
        "invalid_grant" if e.problem.is_none() => ApiError::invalid_token(e.description),
        _ => e.into(),
    })?;
    Ok(envelope(tokens(&outcome), &rid, state.clock.now()))
}

/// `POST /auth/client-token`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ClientTokenRequest)]
pub(crate) struct ClientTokenBody {
    /// A confidential app's id.
    client_id: String,
    /// Its secret.
    client_secret: String,
    /// A subset of the app's scopes; all of them by default.
    #[schema(value_type = Option<Vec<fields::Scope>>)]
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/auth/client-token",
    operation_id = "createClientToken",
    tag = "session",
    request_body = ClientTokenBody,
    responses(
        (status = 200, description = "An app token (client_credentials)", body = SessionTokensEnvelope),
        (status = 400, description = "`invalid_scope` (beyond the app's scopes), `unauthorized_client` (a public app), or a malformed body"),
        (status = 401, description = "`invalid_client`: unknown client or wrong secret", headers(("WWW-Authenticate" = String, description = "The Bearer challenge"))),
    )
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

/// `POST /auth/introspect`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IntrospectSessionToken)]
pub(crate) struct IntrospectBody {
    /// An access token, refresh token or API key.
    token: String,
}

#[utoipa::path(
    post,
    path = "/auth/introspect",
    operation_id = "introspectSessionToken",
    tag = "session",
    request_body = IntrospectBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "RFC 7662 fields in the envelope", body = IntrospectionEnvelope))
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

/// `POST /auth/refresh`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefreshSession)]
pub(crate) struct RefreshBody {
    /// The refresh token (`sgl_rt_…`).
    refresh_token: String,
    /// The app it was issued to.
    client_id: String,
    /// Its secret (confidential apps only).
    client_secret: Option<String>,
}

#[utoipa::path(
    post,
    path = "/auth/refresh",
    operation_id = "refreshSession",
    tag = "session",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "Rotated tokens: a new access token and refresh token", body = SessionTokensEnvelope),
        (status = 400, description = "`invalid_grant`: unknown, used (reuse revokes the family), revoked or expired refresh token, or another client's; or a malformed body"),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret, or a secret for a public client", headers(("WWW-Authenticate" = String, description = "The Bearer challenge"))),
    )
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
