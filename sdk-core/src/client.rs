//! The OAuth 2.0 client: every grant, introspection and revocation, with
//! client authentication by `client_secret_basic`, `client_secret_post` or
//! none.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::authorize::{self, AuthorizationRequest, PendingAuthorization};
use crate::discovery::{self, ServerMetadata};
use crate::error::{Error, Result};
use crate::runtime::{expect_success, Retry, Runtime};
use crate::secret::Secret;
use crate::tokens::{Introspection, TokenSet};

/// How the client proves its identity to the token endpoint.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A public client (browser, mobile, CLI): `client_id` in the body only.
    None,
    /// `client_secret_basic`: HTTP Basic with form-encoded id and secret.
    Basic(Secret),
    /// `client_secret_post`: id and secret in the body.
    Post(Secret),
}

/// RFC 8693 token types the SDK names.
pub mod token_type {
    /// An OAuth access token.
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    /// A refresh token.
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    /// A JWT.
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
    /// A Sigil API key or personal access token (`sgl_…`).
    pub const SIGIL_API_KEY: &str = "urn:sigil:params:oauth:token-type:api_key";
}

/// The RFC 8693 grant type.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// An RFC 8693 token exchange.
#[derive(Debug, Clone)]
pub struct TokenExchangeRequest {
    /// The token being exchanged.
    pub subject_token: Secret,
    /// Its type (see [`token_type`]).
    pub subject_token_type: String,
    /// Who acts on the subject's behalf, for delegation.
    pub actor_token: Option<(Secret, String)>,
    /// Desired token type.
    pub requested_token_type: Option<String>,
    /// Target service.
    pub audience: Option<String>,
    /// Target resource URI.
    pub resource: Option<String>,
    /// Requested scopes.
    pub scopes: Vec<String>,
}

/// An OAuth 2.0 client bound to one authorization server.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    metadata: ServerMetadata,
    client_id: String,
    auth: ClientAuth,
    runtime: Runtime,
}

impl OAuthClient {
    /// A client for known metadata.
    pub fn new(
        metadata: ServerMetadata,
        client_id: impl Into<String>,
        auth: ClientAuth,
        runtime: Runtime,
    ) -> Self {
        Self {
            metadata,
            client_id: client_id.into(),
            auth,
            runtime,
        }
    }

    /// Discovers `issuer`'s metadata (RFC 8414) and builds a client for it.
    pub async fn discover(
        issuer: &str,
        client_id: impl Into<String>,
        auth: ClientAuth,
        runtime: Runtime,
    ) -> Result<Self> {
        let metadata = discovery::discover(&runtime, issuer).await?;
        Ok(Self::new(metadata, client_id, auth, runtime))
    }

    /// The server's metadata.
    pub fn metadata(&self) -> &ServerMetadata {
        &self.metadata
    }

    /// The runtime requests go through.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The authorization URL and the transaction to keep until the callback.
    pub fn authorization_url(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<(String, PendingAuthorization)> {
        authorize::authorization_url(&self.metadata, &self.client_id, request)
    }

    /// Checks the callback and exchanges its code.
    pub async fn handle_callback(
        &self,
        callback_url: &str,
        pending: PendingAuthorization,
    ) -> Result<TokenSet> {
        if pending.issuer != self.metadata.issuer {
            return Err(Error::InvalidInput(
                "pending authorization belongs to another issuer".into(),
            ));
        }
        let code = authorize::parse_callback(
            callback_url,
            &pending,
            self.metadata.authorization_response_iss_parameter_supported,
        )?;
        self.exchange_code(&code, &pending).await
    }

    /// `authorization_code` grant. Sent exactly once: a code is single-use
    /// and a replay makes the server revoke what it issued.
    pub async fn exchange_code(
        &self,
        code: &str,
        pending: &PendingAuthorization,
    ) -> Result<TokenSet> {
        self.token_request(
            vec![
                ("grant_type", "authorization_code".into()),
                ("code", code.into()),
                ("redirect_uri", pending.redirect_uri.clone()),
                ("code_verifier", pending.verifier.expose().into()),
            ],
            Retry::Never,
        )
        .await
    }

    /// `refresh_token` grant. When the server rotates, the new refresh
    /// token is returned; when it does not, the old one is kept.
    pub async fn refresh(&self, refresh_token: &Secret, scopes: &[String]) -> Result<TokenSet> {
        let mut form = vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh_token.expose().into()),
        ];
        push_scope(&mut form, scopes);
        let mut tokens = self.token_request(form, Retry::Allowed).await?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        Ok(tokens)
    }

    /// `client_credentials` grant.
    pub async fn client_credentials(&self, scopes: &[String]) -> Result<TokenSet> {
        if matches!(self.auth, ClientAuth::None) {
            return Err(Error::InvalidInput(
                "client_credentials needs a confidential client".into(),
            ));
        }
        let mut form = vec![("grant_type", "client_credentials".into())];
        push_scope(&mut form, scopes);
        self.token_request(form, Retry::Allowed).await
    }

    /// RFC 8693 token exchange.
    pub async fn token_exchange(&self, request: &TokenExchangeRequest) -> Result<TokenSet> {
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT.into()),
            ("subject_token", request.subject_token.expose().into()),
            ("subject_token_type", request.subject_token_type.clone()),
        ];
        if let Some((token, kind)) = &request.actor_token {
            form.push(("actor_token", token.expose().into()));
            form.push(("actor_token_type", kind.clone()));
        }
        for (name, value) in [
            ("requested_token_type", &request.requested_token_type),
            ("audience", &request.audience),
            ("resource", &request.resource),
        ] {
            if let Some(v) = value {
                form.push((name, v.clone()));
            }
        }
        push_scope(&mut form, &request.scopes);
        self.token_request(form, Retry::Allowed).await
    }

    /// Sigil's API-key exchange: a long-lived `sgl_…` key becomes a
    /// short-lived access token (`POST /auth/token/exchange {apiKey}`).
    pub async fn exchange_api_key(&self, api_key: &Secret, scopes: &[String]) -> Result<TokenSet> {
        let mut body = serde_json::json!({ "apiKey": api_key.expose() });
        if !scopes.is_empty() {
            body["scopes"] = scopes.into();
        }
        let request = http::Request::post(self.metadata.api_key_exchange_endpoint())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(serde_json::to_vec(&body).map_err(|e| Error::InvalidInput(e.to_string()))?)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let response = self.runtime.send(request, Retry::Allowed).await?;
        let response = expect_success(response, self.runtime.now())?;
        TokenSet::from_json(response.body(), self.runtime.now())
    }

    /// RFC 7662 introspection (client-authenticated).
    pub async fn introspect(&self, token: &str, hint: Option<&str>) -> Result<Introspection> {
        let endpoint = self.endpoint(&self.metadata.introspection_endpoint, "introspection")?;
        let mut form = vec![("token", token.to_owned())];
        if let Some(h) = hint {
            form.push(("token_type_hint", h.to_owned()));
        }
        let response = self.form_post(endpoint, form, Retry::Allowed).await?;
        Introspection::from_json(response.body())
    }

    /// RFC 7009 revocation. Revoking an unknown or already revoked token
    /// succeeds, as the RFC specifies.
    pub async fn revoke(&self, token: &str, hint: Option<&str>) -> Result<()> {
        let endpoint = self.endpoint(&self.metadata.revocation_endpoint, "revocation")?;
        let mut form = vec![("token", token.to_owned())];
        if let Some(h) = hint {
            form.push(("token_type_hint", h.to_owned()));
        }
        self.form_post(endpoint, form, Retry::Allowed).await?;
        Ok(())
    }

    fn endpoint<'a>(&self, endpoint: &'a Option<String>, name: &str) -> Result<&'a str> {
        endpoint
            .as_deref()
            .ok_or_else(|| Error::InvalidInput(format!("server has no {name} endpoint")))
    }

    async fn token_request(
        &self,
        form: Vec<(&'static str, String)>,
        retry: Retry,
    ) -> Result<TokenSet> {
        let endpoint = self.metadata.token_endpoint.clone();
        let response = self.form_post(&endpoint, form, retry).await?;
        TokenSet::from_json(response.body(), self.runtime.now())
    }

    async fn form_post(
        &self,
        endpoint: &str,
        mut form: Vec<(&'static str, String)>,
        retry: Retry,
    ) -> Result<crate::HttpResponse> {
        let mut builder = http::Request::post(endpoint)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json");
        match &self.auth {
            ClientAuth::None => form.push(("client_id", self.client_id.clone())),
            ClientAuth::Post(secret) => {
                form.push(("client_id", self.client_id.clone()));
                form.push(("client_secret", secret.expose().into()));
            }
            ClientAuth::Basic(secret) => {
                builder = builder.header(
                    http::header::AUTHORIZATION,
                    basic_auth(&self.client_id, secret.expose()),
                );
            }
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let request = builder
            .body(body.into_bytes())
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let response = self.runtime.send(request, retry).await?;
        expect_success(response, self.runtime.now())
    }
}

fn push_scope(form: &mut Vec<(&'static str, String)>, scopes: &[String]) {
    if !scopes.is_empty() {
        form.push(("scope", scopes.join(" ")));
    }
}

/// RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
fn basic_auth(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_form_encodes_first() {
        assert_eq!(
            basic_auth("app 1", "s:e/c"),
            format!("Basic {}", STANDARD.encode("app+1:s%3Ae%2Fc"))
        );
    }
}
