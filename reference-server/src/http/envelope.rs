//! The `{data, meta: {requestId, issuedAt}}` envelope of the session and
//! management APIs, and the request id it quotes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Json;
use serde_json::{json, Value};

/// The request's `X-Request-Id` (set by the request-id layer).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get(crate::http::request_id::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        ))
    }
}

/// Wraps `data` in the envelope.
pub fn envelope(data: impl serde::Serialize, request_id: &RequestId, now: i64) -> Json<Value> {
    // A view type always serializes (string keys, no failing `Serialize`).
    let data = serde_json::to_value(data).unwrap_or(Value::Null);
    Json(json!({
        "data": data,
        "meta": { "requestId": request_id.0, "issuedAt": rfc3339(now) },
    }))
}

/// `meta` of every envelope (`#/components/schemas/Meta`).
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // A schema: the envelope is written by [`envelope`].
pub struct Meta {
    /// The `X-Request-Id` of this response.
    request_id: String,
    /// When the server answered (RFC 3339, UTC).
    #[schema(format = DateTime)]
    issued_at: String,
}

/// `meta` of an offset-paginated list.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct PageMeta {
    /// The `X-Request-Id` of this response.
    request_id: String,
    /// When the server answered (RFC 3339, UTC).
    #[schema(format = DateTime)]
    issued_at: String,
    /// The page size used.
    #[schema(minimum = 1, maximum = 100)]
    limit: u32,
    /// Items skipped.
    #[schema(value_type = u64, maximum = 4294967295.0)]
    offset: u32,
    /// Whether more items follow this page.
    has_more: bool,
}

/// `meta` of a cursor-paginated list.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CursorMeta {
    /// The `X-Request-Id` of this response.
    request_id: String,
    /// When the server answered (RFC 3339, UTC).
    #[schema(format = DateTime)]
    issued_at: String,
    /// The `cursor` of the next page; null on the last page.
    #[schema(value_type = Option<crate::core::fields::AuditCursor>, required = true)]
    next_cursor: Option<String>,
}

/// Declares `{data, meta}` envelope schemas (`#/components/schemas/<Name>`):
/// `Name(DataType, MetaType);`. They only describe what [`envelope`] writes.
macro_rules! envelopes {
    ($($(#[$doc:meta])* $name:ident($data:ty, $meta:ty);)*) => {$(
        $(#[$doc])*
        #[derive(Debug, utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            data: $data,
            meta: $meta,
        }
    )*};
}
pub(crate) use envelopes;

/// Timestamps in envelopes and bodies are RFC 3339, as the clock formats them.
pub use crate::core::clock::rfc3339;
