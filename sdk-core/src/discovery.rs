//! Authorization server metadata (RFC 8414), with the issuer check of §3.3 so
//! a metadata document cannot redirect us to another issuer's endpoints.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::runtime::{expect_success, json_body, Retry, Runtime};

/// The endpoints and capabilities an authorization server publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerMetadata {
    /// The issuer identifier; must equal the URL we discovered from.
    pub issuer: String,
    /// Where browsers are sent to authorize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Where grants are exchanged for tokens.
    pub token_endpoint: String,
    /// RFC 7662 endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// RFC 7009 endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The signing keys of access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// PKCE methods; when present it must include `S256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: when true, callbacks without `iss` are refused.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Grant types the server accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Sigil's API-key exchange (`POST {apiKey}`); defaults to
    /// `{issuer}/auth/token/exchange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigil_api_key_exchange_endpoint: Option<String>,
    /// Every other member, kept for callers.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ServerMetadata {
    /// Metadata for a server at `issuer` using Sigil's paths, for when
    /// discovery is not wanted.
    pub fn sigil(issuer: &str) -> Self {
        let base = issuer.trim_end_matches('/');
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: Some(format!("{base}/oauth/authorize")),
            token_endpoint: format!("{base}/oauth/token"),
            introspection_endpoint: Some(format!("{base}/oauth/introspect")),
            revocation_endpoint: Some(format!("{base}/oauth/revoke")),
            jwks_uri: Some(format!("{base}/.well-known/jwks.json")),
            code_challenge_methods_supported: Some(vec!["S256".into()]),
            authorization_response_iss_parameter_supported: true,
            grant_types_supported: None,
            sigil_api_key_exchange_endpoint: Some(format!("{base}/auth/token/exchange")),
            extra: Default::default(),
        }
    }

    /// The API-key exchange endpoint.
    pub fn api_key_exchange_endpoint(&self) -> String {
        self.sigil_api_key_exchange_endpoint
            .clone()
            .unwrap_or_else(|| format!("{}/auth/token/exchange", self.issuer.trim_end_matches('/')))
    }

    /// Whether PKCE S256 can be used (absent list: assume yes, as RFC 8414
    /// makes the member optional).
    pub fn supports_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_ref()
            .is_none_or(|m| m.iter().any(|m| m == crate::pkce::S256))
    }
}

/// The RFC 8414 §3.1 well-known URL: the suffix goes between host and path.
pub fn well_known_url(issuer: &str, suffix: &str) -> Result<String> {
    let url = url::Url::parse(issuer)
        .map_err(|e| Error::InvalidInput(format!("issuer is not a URL: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::InvalidInput(
            "issuer must not have a query or fragment".into(),
        ));
    }
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    Ok(format!("{origin}/.well-known/{suffix}{path}"))
}

/// Fetches and validates metadata, trying RFC 8414 then OpenID Connect
/// Discovery.
pub async fn discover(runtime: &Runtime, issuer: &str) -> Result<ServerMetadata> {
    let mut last_error = None;
    for suffix in ["oauth-authorization-server", "openid-configuration"] {
        let url = well_known_url(issuer, suffix)?;
        let request = http::Request::get(&url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let response = runtime.send(request, Retry::Allowed).await?;
        if response.status() == http::StatusCode::NOT_FOUND {
            last_error = Some(crate::error_body::from_response(&response, runtime.now()));
            continue;
        }
        let response = expect_success(response, runtime.now())?;
        let metadata: ServerMetadata = json_body(&response, "authorization server metadata")?;
        if metadata.issuer != issuer {
            return Err(Error::InvalidResponse(format!(
                "metadata issuer `{}` does not match `{issuer}`",
                metadata.issuer
            )));
        }
        return Ok(metadata);
    }
    Err(last_error.unwrap_or_else(|| Error::InvalidResponse("no metadata".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_goes_between_host_and_path() {
        assert_eq!(
            well_known_url("https://as.example", "oauth-authorization-server").unwrap(),
            "https://as.example/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            well_known_url("https://as.example/tenant/", "oauth-authorization-server").unwrap(),
            "https://as.example/.well-known/oauth-authorization-server/tenant"
        );
        assert!(well_known_url("not a url", "x").is_err());
        assert!(well_known_url("https://a.example/?q=1", "x").is_err());
    }
}
