//! Request bodies as JSON or `application/x-www-form-urlencoded`, with one
//! size limit and typed errors for every way a body can be wrong: too large,
//! unsupported media type, malformed syntax, wrong types, missing or unknown
//! fields. Management APIs answer RFC 9457 problems, OAuth endpoints RFC 6749.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, OAuthError};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a body was refused.
#[derive(Debug)]
pub enum BodyError {
    /// Over [`MAX_BODY_BYTES`].
    TooLarge,
    /// Neither JSON nor a form.
    UnsupportedMediaType,
    /// Not parseable at all.
    Syntax(String),
    /// Parseable, but the wrong shape (types, missing or unknown fields).
    Shape(String),
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<(bool, Bytes), BodyError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_json = content_type.starts_with("application/json")
        || (content_type.starts_with("application/") && content_type.contains("+json"));
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|_| BodyError::TooLarge)?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    match (is_json, is_form) {
        (true, _) => Ok((true, bytes)),
        (_, true) => Ok((false, bytes)),
        // An empty body with no type is an empty form (`POST /x` with no
        // fields); anything else must say what it is.
        _ if bytes.is_empty() => Ok((false, bytes)),
        _ => Err(BodyError::UnsupportedMediaType),
    }
}

/// Parses a JSON or form body into `T`.
pub fn parse<T: DeserializeOwned>(json: bool, bytes: &[u8]) -> Result<T, BodyError> {
    if json {
        // Every body is a JSON object, but serde fills a struct from an
        // array too (positionally), so `[]` would pass as `{}`.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(BodyError::Shape("the body must be a JSON object".into()));
        }
        serde_json::from_slice(bytes).or_else(|e| match e.classify() {
            // JSON (and JSON Schema) has one number type: `5.0` and `5e0`
            // are the integer 5. serde only fills integer fields from
            // integer literals, so a shape error is retried once with
            // integral numbers written as integers.
            serde_json::error::Category::Data => {
                integral_numbers(bytes).ok_or_else(|| BodyError::Shape(e.to_string()))
            }
            _ => Err(BodyError::Syntax(e.to_string())),
        })
    } else {
        if std::str::from_utf8(bytes).is_err() {
            return Err(BodyError::Syntax("form body is not UTF-8".into()));
        }
        serde_urlencoded::from_bytes(bytes).map_err(|e| BodyError::Shape(e.to_string()))
    }
}

/// `bytes` parsed with every integral number (`5.0`, `5e0`, `-0.0`) that
/// fits an `i64` or `u64` made an integer, when that fills `T`.
fn integral_numbers<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    fn normalize(v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
                let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) else {
                    return false;
                };
                // Within ±2^63 (i64) or [0, 2^64) (u64); the bounds are exact in f64.
                if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
                    *v = (f as i64).into();
                    true
                } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                    *v = (f as u64).into();
                    true
                } else {
                    false
                }
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |c, i| normalize(i) | c)
            }
            serde_json::Value::Object(map) => map.values_mut().fold(false, |c, i| normalize(i) | c),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if !normalize(&mut value) {
        return None;
    }
    serde_json::from_value(value).ok()
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
            ),
            BodyError::UnsupportedMediaType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send application/json or application/x-www-form-urlencoded",
            ),
            BodyError::Syntax(d) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", d),
            BodyError::Shape(d) => ApiError::validation(d),
        }
    }
}

impl From<BodyError> for OAuthError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => OAuthError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("bodies are limited to {MAX_BODY_BYTES} bytes"),
            ),
            BodyError::UnsupportedMediaType => OAuthError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                "send application/x-www-form-urlencoded or application/json",
            ),
            BodyError::Syntax(d) | BodyError::Shape(d) => OAuthError::invalid_request(d),
        }
    }
}

/// A management-API body (RFC 9457 errors). The body is required: an empty
/// one is 400 (`invalid_json` when it claims to be JSON, `invalid_request`
/// otherwise), never an empty form that fills a struct of optional fields.
#[derive(Debug)]
pub struct ApiBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (json, bytes) = read(req, state).await?;
        if bytes.is_empty() && !json {
            return Err(ApiError::bad_request(
                "this operation needs a request body (JSON)",
            ));
        }
        Ok(ApiBody(parse(json, &bytes)?))
    }
}

/// An OAuth endpoint body (RFC 6749 errors), with the raw `Authorization`
/// header kept for client authentication.
#[derive(Debug)]
pub struct OAuthBody<T> {
    /// The parsed parameters.
    pub params: T,
    /// `Authorization` header, if any.
    pub authorization: Option<String>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OAuthBody<T> {
    type Rejection = OAuthError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (json, bytes) = read(req, state).await?;
        Ok(OAuthBody {
            params: parse(json, &bytes)?,
            authorization,
        })
    }
}
