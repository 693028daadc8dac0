//! Query strings. As `/openapi.json` says, an optional parameter sent empty
//! (`?status=`) is the same as one left out: generated clients and form
//! submissions send empty values for unset fields.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The decoded `name=value` pairs of a query, in order, without the empty
/// ones.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// Parses a query into `T`, empty values left out; a malformed or repeated
/// parameter is 422 `validation_failed`.
pub fn parse<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    let kept = serde_urlencoded::to_string(pairs(raw)).map_err(|e| ApiError::internal(&e))?;
    serde_urlencoded::from_str(&kept).map_err(|e| ApiError::validation(e.to_string()))
}

/// A query parsed with [`parse`].
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse(parts.uri.query()).map(Query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct P {
        limit: Option<u32>,
        status: Option<String>,
    }

    #[test]
    fn empty_values_are_absent() {
        let p: P = parse(Some("limit=&status=")).unwrap();
        assert!(p.limit.is_none() && p.status.is_none());
        let p: P = parse(Some("limit=5&status=a%20b&x=")).unwrap();
        assert_eq!((p.limit, p.status.as_deref()), (Some(5), Some("a b")));
        assert!(parse::<P>(Some("limit=x")).is_err());
        assert!(parse::<P>(Some("limit=1&limit=2")).is_err());
        assert_eq!(
            pairs(Some("a=&b=1&a=2")),
            [("b".into(), "1".into()), ("a".into(), "2".into())]
        );
    }
}
