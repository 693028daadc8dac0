//! The two error shapes of SYSTEM.md: RFC 6749 `{error, error_description}`
//! on OAuth endpoints, RFC 9457 problem details with `code` and `requestId`
//! everywhere else. A client's mistake is always a 4xx with a code; a 500
//! means the server itself failed, and its detail never leaks internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::error::StoreError;

/// A problem-details error for the management and session APIs.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// snake_case code.
    pub code: &'static str,
    /// Human-readable detail.
    pub detail: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// Extra problem members (RFC 9457 extensions), e.g. `policyId`.
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// Any status and code.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            extensions: serde_json::Map::new(),
        }
    }
    /// Adds an extension member to the problem.
    pub fn with(mut self, member: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(member.to_owned(), value.into());
        self
    }
    /// 400 `invalid_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
    }
    /// 422 `validation_failed`.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            detail,
        )
    }
    /// 401 `missing_credentials`.
    pub fn missing_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
            "send an access token or API key as `Authorization: Bearer` or `X-API-Key`",
        )
    }
    /// 401 `invalid_token`.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_token", detail)
    }
    /// 403 `insufficient_scope`.
    pub fn insufficient_scope(needed: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this call needs the `{needed}` scope"),
        )
    }
    /// 404 `not_found`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    /// 429 `rate_limited`.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests",
            )
        }
    }
    /// 403 `account_disabled`: moderation disabled the account, which gets
    /// no new token.
    /// 403 `project_scoped_key`: a key scoped to one app used beyond it.
    pub fn project_scoped() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "project_scoped_key",
            "this key is scoped to one app: it manages that app and its keys only",
        )
    }

    pub fn account_disabled() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "account_disabled",
            "the account is disabled and gets no new tokens",
        )
    }
    /// 403 `account_restricted`: moderation restricted the account, which
    /// sends no messages.
    pub fn account_restricted() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "account_restricted",
            "the account is restricted and may not send messages",
        )
    }
    /// 500 with a fixed message; the cause is logged, not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed; the request id identifies it in the logs",
        )
    }
    /// 503 `unavailable` with `Retry-After: 1`: the database cannot be
    /// reached (a restart, a failover); the cause is logged, not sent.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "database unavailable");
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unavailable; retry shortly",
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::new(StatusCode::CONFLICT, "conflict", "already exists"),
            e if e.is_unavailable() => Self::unavailable(&e),
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let Some(after) = self.retry_after {
            body["retryAfter"] = after.into();
        }
        for (member, value) in self.extensions {
            body[member] = value;
        }
        let mut res = (self.status, body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(after) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(after));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = format!("Bearer realm=\"sigil\", error=\"{}\"", self.code);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        res
    }
}

/// An RFC 6749 error for OAuth endpoints.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// RFC 6749 code.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// How the session API (`/auth/*`, problem documents) shows it, when
    /// not as `status` and `error`.
    pub problem: Option<Box<ApiError>>,
}

impl OAuthError {
    /// Any status and code.
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            retry_after: None,
            problem: None,
        }
    }
    /// 400 `invalid_grant` for a disabled account (RFC 6749 has no better
    /// code); the session API shows it as 403 `account_disabled`.
    pub fn account_disabled() -> Self {
        Self {
            problem: Some(Box::new(ApiError::account_disabled())),
            ..Self::invalid_grant("the account is disabled and gets no new tokens")
        }
    }
    /// 400 `invalid_request`.
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    /// 400 `invalid_grant`.
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    /// 401 `invalid_client`.
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }
    /// 400 `invalid_scope`.
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }
    /// 400 `unauthorized_client`.
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }
    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                "too many requests",
            )
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            let api = ApiError::unavailable(&e);
            return Self {
                retry_after: api.retry_after,
                ..Self::new(api.status, "temporarily_unavailable", api.detail)
            };
        }
        let api = ApiError::internal(&e);
        Self::new(api.status, "server_error", api.detail)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error, "error_description": self.description });
        if let Some(after) = self.retry_after {
            body["retryAfter"] = after.into();
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(after) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(after));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"sigil\""),
            );
        }
        res
    }
}

/// An RFC 9457 problem document (`application/problem+json`), the error body
/// of every API but `/oauth/*`; `code` says what went wrong. Some problems
/// carry more members (`limit` and `usage` on 402, `policyId` on a policy
/// denial, `expected` and `found` on a failed domain verification).
// The schema (`#/components/schemas/Problem`) of what `ApiError` writes.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = Problem, rename_all = "camelCase")]
#[allow(dead_code)] // A schema: `ApiError::into_response` writes the body.
pub struct ProblemSchema {
    /// Always `about:blank`: `code` says what went wrong.
    r#type: String,
    /// The status's reason phrase.
    title: String,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What went wrong, for a person.
    detail: String,
    /// What went wrong, for a program: a stable snake_case code.
    #[schema(pattern = "^[a-z][a-z0-9_]*$")]
    code: String,
    /// The `X-Request-Id` of this response.
    request_id: String,
    /// Seconds to wait, on 429 (as in `Retry-After`).
    retry_after: Option<u64>,
}

/// An RFC 6749 §5.2 error, the error body of `/oauth/*`.
// The schema (`#/components/schemas/OAuthError`) of what `OAuthError` writes.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = OAuthError)]
#[allow(dead_code)]
pub struct OAuthErrorSchema {
    /// The RFC 6749 error code.
    #[schema(value_type = OAuthErrorCode)]
    error: String,
    /// What went wrong, for a person.
    error_description: String,
    /// Seconds to wait, on 429 (as in `Retry-After`).
    #[schema(rename = "retryAfter")]
    retry_after: Option<u64>,
}

/// The RFC 6749 error codes this server sends.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// The code, refresh token or API key is invalid, expired or used.
    InvalidGrant,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// Not a grant type this server supports.
    UnsupportedGrantType,
    /// Not a response type this server supports.
    UnsupportedResponseType,
    /// A scope is unknown or beyond what the client may have.
    InvalidScope,
    /// The user denied the request.
    AccessDenied,
    /// Too many requests; see `Retry-After`.
    SlowDown,
    /// The server failed.
    ServerError,
}
