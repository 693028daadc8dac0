//! Token sets and introspection results, parsed from RFC 6749 / RFC 7662
//! bodies and from Sigil's `{data, meta}` envelope.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The JSON object of a response: the `data` member of Sigil's `{data,
/// meta}` envelope when there is one, else the whole body (RFC shapes).
fn unwrap_envelope(body: &[u8], what: &str) -> Result<Value> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| Error::InvalidResponse(format!("{what}: {e}")))?;
    match value.get_mut("data") {
        Some(data) if data.is_object() => Ok(data.take()),
        _ => Ok(value),
    }
}

/// Tokens from one grant, with an absolute expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: Secret,
    /// Usually `Bearer`.
    pub token_type: String,
    /// UNIX seconds after which the access token is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Present for user sessions; rotates on every refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// OpenID Connect ID token, when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 `issued_token_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
}

impl TokenSet {
    /// Whether the access token is still good `skew` from `now`.
    pub fn is_fresh(&self, now: Duration, skew: Duration) -> bool {
        self.expires_at
            .is_none_or(|at| now.as_secs().saturating_add(skew.as_secs()) < at)
    }

    /// Seconds until expiry, if known.
    pub fn expires_in(&self, now: Duration) -> Option<u64> {
        self.expires_at.map(|at| at.saturating_sub(now.as_secs()))
    }

    /// Reads an RFC 6749 token response, or Sigil's `{data:{accessToken,...}}`
    /// envelope (camelCase or snake_case members).
    pub fn from_json(body: &[u8], now: Duration) -> Result<Self> {
        let obj = &unwrap_envelope(body, "token response")?;
        let text = |snake: &str, camel: &str| {
            obj.get(snake)
                .or_else(|| obj.get(camel))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let access_token = text("access_token", "accessToken")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::InvalidResponse("token response has no access_token".into()))?;
        let token_type = text("token_type", "tokenType").unwrap_or_else(|| "Bearer".into());
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(Error::InvalidResponse(format!(
                "unsupported token_type `{token_type}`"
            )));
        }
        let expires_in = obj
            .get("expires_in")
            .or_else(|| obj.get("expiresIn"))
            .map(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .ok_or_else(|| Error::InvalidResponse("expires_in is not a number".into()))
            })
            .transpose()?;
        Ok(Self {
            access_token: Secret::new(access_token),
            token_type,
            expires_at: expires_in.map(|s| now.as_secs().saturating_add(s)),
            refresh_token: text("refresh_token", "refreshToken").map(Secret::new),
            scope: text("scope", "scope"),
            id_token: text("id_token", "idToken"),
            issued_token_type: text("issued_token_type", "issuedTokenType"),
        })
    }
}

/// An RFC 7662 introspection answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Introspection {
    /// Whether the token is currently active; nothing else is meaningful if not.
    pub active: bool,
    /// Space-separated scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry, UNIX seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at, UNIX seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Token type hint (`access_token`, `refresh_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Everything else (`aud`, `session_type`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl Introspection {
    /// Reads RFC 7662 JSON or Sigil's `{data:{...}}` envelope.
    pub fn from_json(body: &[u8]) -> Result<Self> {
        crate::json::from_value(&unwrap_envelope(body, "introspection response")?)
            .map_err(|e| Error::InvalidResponse(format!("introspection response: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1000);

    #[test]
    fn rfc6749_response() {
        let t = TokenSet::from_json(
            br#"{"access_token":"at","token_type":"bearer","expires_in":600,"refresh_token":"rt","scope":"a b"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(t.access_token.expose(), "at");
        assert_eq!(t.expires_at, Some(1600));
        assert_eq!(t.refresh_token.unwrap().expose(), "rt");
        assert!(!format!(
            "{:?}",
            TokenSet::from_json(br#"{"access_token":"at-secret-value-0123456789"}"#, NOW).unwrap()
        )
        .contains("0123456789"));
    }

    #[test]
    fn sigil_envelope_camel_case() {
        let t = TokenSet::from_json(
            br#"{"data":{"accessToken":"at","expiresIn":600,"tokenType":"Bearer"},"meta":{"requestId":"r"}}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(t.access_token.expose(), "at");
        assert_eq!(t.expires_at, Some(1600));
    }

    #[test]
    fn freshness_with_skew() {
        let t = TokenSet::from_json(br#"{"access_token":"a","expires_in":100}"#, NOW).unwrap();
        assert!(t.is_fresh(NOW, Duration::from_secs(60)));
        assert!(!t.is_fresh(NOW + Duration::from_secs(40), Duration::from_secs(60)));
        assert_eq!(t.expires_in(NOW), Some(100));
    }

    #[test]
    fn bad_token_responses() {
        for body in [
            &b"not json"[..],
            br#"{"token_type":"Bearer"}"#,
            br#"{"access_token":""}"#,
            br#"{"access_token":"a","token_type":"mac"}"#,
            br#"{"access_token":"a","expires_in":"soon"}"#,
        ] {
            assert_eq!(
                TokenSet::from_json(body, NOW).unwrap_err().code(),
                "invalid_response"
            );
        }
    }

    #[test]
    fn introspection_shapes() {
        let i = Introspection::from_json(br#"{"active":true,"scope":"a","aud":"x"}"#).unwrap();
        assert!(i.active);
        assert_eq!(i.extra["aud"], "x");
        let i = Introspection::from_json(br#"{"data":{"active":false}}"#).unwrap();
        assert!(!i.active);
        assert!(Introspection::from_json(br#"{"scope":"a"}"#).is_err());
    }
}
