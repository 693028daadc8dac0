//! The app API under `/app/v1`, called with access tokens issued to an app:
//! its `client_credentials` tokens (`session_type` `app`, `sub` = the app id)
//! and the user tokens it obtained through the authorization-code flow
//! (`session_type` `user`, `sub` = the user's pairwise id at that app,
//! `client_id` = the app). First-party tokens and API keys are refused.
//!
//! Users are only ever named by their per-app pairwise id (the *slug*): the
//! same value the app's user tokens carry as `sub`. A slug resolves to a user
//! only for the app it was issued to, so two apps can never correlate a user
//! and the global user id is never shown.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sigil::jws::{TokenType, VerifyOptions};

use crate::app::state::AppState;
use crate::core::trust::TrustLevel;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::{App, AppMessage, IdempotentResponse};

pub mod reports;
pub mod webhooks;

/// How long `ai/chat` waits for the upstream.
pub const AI_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest accepted slug.
const MAX_SLUG: usize = 200;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/v1/identity/lookup", post(lookup))
        .route("/app/v1/messages", post(send_message))
        .route("/app/v1/ai/chat", post(chat))
        .route("/app/v1/reports", post(reports::create))
        .merge(webhooks::routes())
}

/// An app calling the app API.
#[derive(Debug, Clone)]
pub struct AppCaller {
    /// The app the token was issued to.
    pub app: App,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The user's pairwise id when the token is a user token.
    pub user_sub: Option<String>,
}

impl AppCaller {
    /// 403 `insufficient_scope` unless `scope` was granted.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }
}

fn not_an_app_token() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "the app API takes access tokens issued to an app",
    )
}

impl FromRequestParts<AppState> for AppCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = crate::http::principal::credential(parts)?;
        if credential.starts_with("sgl_") {
            return Err(not_an_app_token());
        }
        let options = VerifyOptions {
            issuer: Some(state.config.issuer()),
            token_type: TokenType::Access,
            leeway_secs: 0,
            ..VerifyOptions::default()
        };
        let verified = state
            .keys
            .verify(&credential, &options, state.clock.now())
            .map_err(|e| ApiError::invalid_token(e.to_string()))?;
        let claims = &verified.claims;
        if claims
            .jti
            .as_deref()
            .is_some_and(|j| state.denylist.contains(j))
        {
            return Err(ApiError::invalid_token("the token was revoked"));
        }
        let client_id = claims.client_id.as_deref().ok_or_else(not_an_app_token)?;
        let sub = claims.sub.as_deref().unwrap_or_default();
        let first_party = claims.extra.contains_key("acct");
        let user_sub = match claims.session_type.as_deref() {
            Some("app") if sub == client_id => None,
            Some("user") if !first_party && !sub.is_empty() => Some(sub.to_owned()),
            _ => return Err(not_an_app_token()),
        };
        let app = state
            .store
            .app(client_id)
            .await?
            .ok_or_else(|| ApiError::invalid_token("the app no longer exists"))?;
        state
            .limits
            .check_key(&format!("app:{}", app.id))
            .map_err(ApiError::rate_limited)?;
        Ok(AppCaller {
            app,
            scopes: claims.scope.clone(),
            user_sub,
        })
    }
}

fn check_slug(slug: &str, field: &str) -> Result<(), ApiError> {
    if slug.is_empty() || slug.chars().count() > MAX_SLUG {
        return Err(ApiError::validation(format!(
            "`{field}` must be 1-{MAX_SLUG} characters"
        )));
    }
    Ok(())
}

/// `POST /app/v1/identity/lookup`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = IdentityLookup)]
pub(crate) struct LookupBody {
    /// The user as this app knows them: the `sub` of the app's user tokens.
    #[schema(min_length = 1, max_length = 200)]
    user_id: String,
}

/// One of the app's users (`#/components/schemas/Identity`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The user's stable pairwise id at this app.
    slug: String,
    /// The user's alias, when they set one and granted this app
    /// `profile.basic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    alias: Option<String>,
    /// What the user shows this app (`GET /trust-model`): `private` when
    /// this app sees no alias and no verified domain.
    trust_level: TrustLevel,
}

/// A sent message (`#/components/schemas/Message`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Message)]
pub struct MessageView {
    /// `msg_…`.
    id: String,
    /// Always `delivered`: messages are delivered at once.
    #[schema(value_type = Delivered)]
    status: String,
    /// The recipient's slug.
    to: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
}

/// Always `delivered`.
#[derive(Debug)]
pub struct Delivered;

impl utoipa::PartialSchema for Delivered {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(["delivered"], "Always `delivered`").into()
    }
}
impl utoipa::ToSchema for Delivered {}

/// A chat request (`#/components/schemas/ChatRequest`), forwarded as is.
#[derive(Debug)]
pub struct ChatRequest;

impl utoipa::PartialSchema for ChatRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::schema_from_json(json!({
            "type": "object",
            "description": "Forwarded to the upstream as is; other members are passed through",
            "required": ["messages"],
            "properties": {
                "messages": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 200,
                    "items": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": { "type": "string" },
                            "content": { "type": "string" },
                        },
                    },
                },
            },
        }))
    }
}
impl utoipa::ToSchema for ChatRequest {}

envelopes! {
    /// One of the app's users.
    IdentityEnvelope(Identity, Meta);
    /// A sent message.
    MessageEnvelope(MessageView, Meta);
}

/// Looks up one of the app's users.
///
/// `userId` is the only user id an app ever holds: the pairwise `sub` of
/// the user tokens it was issued. The answer is the user's stable slug at
/// this app (that same pairwise id, so slugs and `sub`s can be compared
/// directly) plus the user's alias when they set one and granted this app
/// `profile.basic`. A slug of another app's user, or one never issued to
/// this app, is 404: apps cannot correlate users, and the global user id is
/// never disclosed.
#[utoipa::path(
    post,
    path = "/app/v1/identity/lookup",
    operation_id = "lookupIdentity",
    tag = "app-api",
    request_body = LookupBody,
    security(("app_token" = [])),
    responses(
        (status = 200, description = "`{slug, alias?, trustLevel}`", body = IdentityEnvelope),
        (status = 403, description = "`insufficient_scope`: not an app token, or no `identity.read`"),
        (status = 404, description = "`not_found`: no such user of this app"),
    )
)]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    ApiBody(body): ApiBody<LookupBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require("identity.read")?;
    check_slug(&body.user_id, "userId")?;
    let user = state
        .store
        .app_subject(&caller.app.id, &body.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let alias = user
        .alias
        .filter(|_| user.consented.iter().any(|s| s == "profile.basic"));
    let trust_level = state
        .moderation
        .level(&user.user_id, alias.is_some())
        .await?;
    let data = Identity {
        slug: body.user_id,
        alias,
        trust_level,
    };
    Ok(envelope(data, &rid, state.clock.now()))
}

/// `POST /app/v1/messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SendMessage)]
pub(crate) struct MessageBody {
    /// The recipient's slug at this app.
    #[schema(min_length = 1, max_length = 200)]
    to: String,
    /// Optional subject line (up to 200 characters).
    #[schema(max_length = 200)]
    subject: Option<String>,
    /// The text (1-10000 characters).
    #[schema(min_length = 1, max_length = 10000)]
    body: String,
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get("idempotency-key")
        .filter(|v| !v.as_bytes().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "send an `Idempotency-Key` header",
            )
        })?;
    let key = value.to_str().ok().map(str::trim).unwrap_or_default();
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::bad_request(format!(
            "`Idempotency-Key` must be 1-{MAX_IDEMPOTENCY_KEY} visible ASCII characters"
        )));
    }
    Ok(key.to_owned())
}

fn conflict() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_conflict",
        "this Idempotency-Key was used with a different request body",
    )
}

fn replay(first: IdempotentResponse) -> Response {
    let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK);
    let mut res = (status, first.response).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// Sends a message to one of the app's users.
///
/// `Idempotency-Key` is required and scoped to the app. The first request
/// with a key is stored with its response; a replay with the same key and
/// the same JSON body returns that response byte for byte (with
/// `Idempotent-Replayed: true`), and the same key with a different body is
/// 422 `idempotency_conflict`. Messages are delivered at once, and the
/// first delivery emits `message.delivered` to the app owner's webhooks and
/// the app's own (`/app/v1/webhooks`).
#[utoipa::path(
    post,
    path = "/app/v1/messages",
    operation_id = "sendMessage",
    tag = "app-api",
    request_body = MessageBody,
    params(("Idempotency-Key" = String, Header, pattern = "^[!-~]{1,255}$", description = "Required: 1-255 visible ASCII characters, unique per app and request body")),
    security(("app_token" = [])),
    responses(
        (status = 201, description = "Delivered; or, for a replay of the same key and body, the first response again, byte for byte", body = MessageEnvelope, headers(("Idempotent-Replayed" = String, description = "`true` on a replay"))),
        (status = 400, description = "`idempotency_key_required`, `invalid_request` (a malformed key), or a malformed body"),
        (status = 403, description = "`insufficient_scope` (not an app token, or no `messages.send`), or `account_restricted`: the sender (the user of a user token, else the app's owner) is restricted by moderation"),
        (status = 404, description = "`not_found`: no such user of this app"),
        (status = 422, description = "`idempotency_conflict` (the key was used with another body), or an invalid field"),
    )
)]
pub(crate) async fn send_message(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    headers: HeaderMap,
    ApiBody(raw): ApiBody<Value>,
) -> Result<Response, ApiError> {
    caller.require("messages.send")?;
    let key = idempotency_key(&headers)?;
    // "The same body" is the same JSON value: key order and whitespace
    // do not matter (serde_json's maps are sorted).
    let request_hash = crypto::hash(&raw.to_string());
    if let Some(first) = state
        .store
        .idempotent_response(&caller.app.id, &key)
        .await?
    {
        return if crypto::ct_eq(&first.request_hash, &request_hash) {
            Ok(replay(first))
        } else {
            Err(conflict())
        };
    }
    let body: MessageBody =
        serde_json::from_value(raw).map_err(|e| ApiError::validation(e.to_string()))?;
    check_slug(&body.to, "to")?;
    if body.body.is_empty() || body.body.chars().count() > 10_000 {
        return Err(ApiError::validation("`body` must be 1-10000 characters"));
    }
    if body
        .subject
        .as_ref()
        .is_some_and(|s| s.chars().count() > 200)
    {
        return Err(ApiError::validation("`subject` is at most 200 characters"));
    }
    let user = state
        .store
        .app_subject(&caller.app.id, &body.to)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    refuse_restricted_sender(&state, &caller).await?;
    let now = state.clock.now();
    let message = AppMessage {
        id: crypto::new_id("msg_"),
        app_id: caller.app.id.clone(),
        user_id: user.user_id,
        subject: body.subject,
        body: body.body,
        status: "delivered".into(),
        created_at: now,
        delivered_at: Some(now),
    };
    let data = MessageView {
        id: message.id.clone(),
        status: message.status.clone(),
        to: body.to.clone(),
        created_at: rfc3339(now),
    };
    let first = IdempotentResponse {
        request_hash,
        status: StatusCode::CREATED.as_u16(),
        response: envelope(data, &rid, now).0.to_string(),
    };
    match state.store.send_message(&message, &key, &first).await? {
        // A concurrent request with the same key won the race.
        Some(winner) if crypto::ct_eq(&winner.request_hash, &first.request_hash) => {
            Ok(replay(winner))
        }
        Some(_) => Err(conflict()),
        None => {
            state
                .webhooks
                .emit_in_app(
                    &caller.app.workspace_id,
                    &caller.app.id,
                    "message.delivered",
                    json!({
                        "id": message.id,
                        "appId": caller.app.id,
                        "to": body.to,
                        "deliveredAt": rfc3339(now),
                    }),
                )
                .await?;
            let mut res = replay(first);
            res.headers_mut().remove("idempotent-replayed");
            Ok(res)
        }
    }
}

/// 403 `account_restricted` when the sender is restricted (or disabled):
/// the user behind a user token, or the app's owner for an app token.
async fn refuse_restricted_sender(state: &AppState, caller: &AppCaller) -> Result<(), ApiError> {
    let sender = match &caller.user_sub {
        Some(sub) => state
            .store
            .app_subject(&caller.app.id, sub)
            .await?
            .map(|s| s.user_id),
        None => None,
    }
    .unwrap_or_else(|| caller.app.workspace_id.clone());
    if state.moderation.state(&sender).await?.blocks_messages() {
        return Err(ApiError::account_restricted());
    }
    Ok(())
}

fn upstream_error(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", detail)
}

fn http_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(AI_UPSTREAM_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// Checks a chat request: an object whose `messages` is a non-empty list
/// (at most 200) of `{role, content}` objects with string values.
fn check_chat(body: &Value) -> Result<(), ApiError> {
    let messages = body
        .as_object()
        .and_then(|o| o.get("messages"))
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::validation("`messages` must be a list"))?;
    if messages.is_empty() || messages.len() > 200 {
        return Err(ApiError::validation("`messages` must hold 1-200 messages"));
    }
    for m in messages {
        let ok = ["role", "content"]
            .iter()
            .all(|f| m.get(f).is_some_and(Value::is_string));
        if !ok {
            return Err(ApiError::validation(
                "each message must be an object with string `role` and `content`",
            ));
        }
    }
    Ok(())
}

/// Chat completion through the configured AI upstream.
///
/// The JSON body (`{messages: [{role, content}, ...], ...}`) is forwarded
/// as is to `--ai-upstream-url`, and the upstream's status and JSON body are
/// relayed. Without an upstream this is 503 `not_configured`; an upstream
/// that fails, times out (30 s) or answers something other than JSON is 502
/// `upstream_error`.
#[utoipa::path(
    post,
    path = "/app/v1/ai/chat",
    operation_id = "chat",
    tag = "app-api",
    request_body = ChatRequest,
    security(("app_token" = [])),
    responses(
        (status = 200, description = "The upstream's JSON answer, as is (the upstream's own status is relayed, 200 when it succeeds)", body = Object),
        (status = 403, description = "`insufficient_scope`: not an app token, or no `ai.chat`"),
        (status = 422, description = "`validation_failed`: `messages` is not 1-200 `{role, content}` string pairs"),
        (status = 502, description = "`upstream_error`: the upstream failed, timed out (30 s) or did not answer JSON"),
        (status = 503, description = "`not_configured`: no AI upstream is set"),
    )
)]
pub(crate) async fn chat(
    State(state): State<AppState>,
    caller: AppCaller,
    ApiBody(body): ApiBody<Value>,
) -> Result<Response, ApiError> {
    caller.require("ai.chat")?;
    check_chat(&body)?;
    let Some(upstream) = state.config.ai_upstream_url.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            "no AI upstream is configured on this server",
        ));
    };
    let res = http_client()
        .post(upstream)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "AI upstream failed");
            upstream_error("the AI upstream could not be reached")
        })?;
    let status = res.status();
    let bytes = res
        .bytes()
        .await
        .map_err(|_| upstream_error("the AI upstream's answer was cut short"))?;
    let answer: Value = serde_json::from_slice(&bytes)
        .map_err(|_| upstream_error("the AI upstream did not answer JSON"))?;
    Ok((status, Json(answer)).into_response())
}
