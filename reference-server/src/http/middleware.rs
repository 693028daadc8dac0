//! Cross-cutting request handling: per-IP rate limits, the request id in
//! problem bodies, and JSON answers for unknown routes and methods.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::state::AppState;
use crate::error::{ApiError, OAuthError};
use crate::http::client_ip::ClientIp;

/// Largest problem body rewritten to carry the request id.
const MAX_PROBLEM_BYTES: usize = 16 * 1024;

/// 429 with `Retry-After` when the client IP is over its quota.
/// The client IP is [`ClientIp`]: behind a trusted proxy, the forwarded one.
pub async fn limit_per_ip(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if let Err(wait) = state.limits.check_ip(ip) {
        return if req.uri().path().starts_with("/oauth/") {
            OAuthError::rate_limited(wait).into_response()
        } else {
            ApiError::rate_limited(wait).into_response()
        };
    }
    next.run(req).await
}

/// Adds `requestId` to RFC 9457 bodies, so error handlers need not thread it.
pub async fn request_id_in_problems(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(crate::http::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = plain_rejection_as_problem(next.run(req).await).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let Some(request_id) = request_id.filter(|_| is_problem) else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PROBLEM_BYTES).await else {
        return ApiError::internal(&"problem body unreadable").into_response();
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) => {
            v["requestId"] = request_id.into();
            v.to_string().into_bytes()
        }
        Err(_) => bytes.to_vec(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// axum's own extractor rejections (a path segment that is not UTF-8, say)
/// are `text/plain`; outside `/oauth` every error is a problem, so these are
/// rewritten as one, keeping their status and message.
async fn plain_rejection_as_problem(res: Response) -> Response {
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain || !res.status().is_client_error() {
        return res;
    }
    let status = res.status();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        _ => "invalid_request",
    };
    let detail = match axum::body::to_bytes(res.into_body(), MAX_PROBLEM_BYTES).await {
        Ok(b) => String::from_utf8_lossy(&b).chars().take(200).collect(),
        Err(_) => String::new(),
    };
    ApiError::new(status, code, detail).into_response()
}

/// 404 for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// 405 for known paths with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not accept that method",
    )
}
