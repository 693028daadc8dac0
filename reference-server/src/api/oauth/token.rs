//! `POST /oauth/token` (RFC 6749 §3.2), JSON or form bodies.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::code;
use super::grants::{self, Outcome};
use crate::app::state::AppState;
use crate::error::OAuthError;
use crate::http::body::OAuthBody;
use crate::http::client_auth;
use crate::http::client_ip::ClientIp;

/// The RFC 8693 grant type.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Subject type of a Sigil API key.
pub const API_KEY_TOKEN_TYPE: &str = "urn:sigil:params:oauth:token-type:api_key";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Token request parameters; unknown ones are ignored, as RFC 6749 requires.
#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    subject_token: Option<String>,
    subject_token_type: Option<String>,
    requested_token_type: Option<String>,
}

/// Adds `Cache-Control: no-store` (RFC 6749 §5.1).
pub fn no_store(body: serde_json::Value) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// A token request (`#/components/schemas/TokenRequest`), RFC 6749 §4 and
/// RFC 8693; unknown parameters are ignored.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: [`TokenParams`] reads the request.
pub struct TokenRequest {
    /// The grant.
    #[schema(value_type = GrantType)]
    grant_type: String,
    /// `authorization_code`: the code.
    code: Option<String>,
    /// `authorization_code`: the redirect URI of the authorization request.
    redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier.
    code_verifier: Option<String>,
    /// `refresh_token`: the refresh token.
    refresh_token: Option<String>,
    /// Space-separated scopes, narrowing what the grant allows.
    scope: Option<String>,
    /// `client_secret_post`, or a public client's id.
    client_id: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
    /// Token exchange: the API key.
    subject_token: Option<String>,
    /// Token exchange: `urn:sigil:params:oauth:token-type:api_key`.
    #[schema(value_type = Option<SubjectTokenType>)]
    subject_token_type: Option<String>,
    /// Token exchange: only `urn:ietf:params:oauth:token-type:access_token`.
    #[schema(value_type = Option<RequestedTokenType>)]
    requested_token_type: Option<String>,
}

/// The grant types of the token endpoint.
#[derive(Debug)]
pub struct GrantType;

impl utoipa::PartialSchema for GrantType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum(
            [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                TOKEN_EXCHANGE,
            ],
            "A grant type this server supports",
        )
        .into()
    }
}
impl utoipa::ToSchema for GrantType {}

/// `subject_token_type` of a token exchange.
#[derive(Debug)]
pub struct SubjectTokenType;

impl utoipa::PartialSchema for SubjectTokenType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum([API_KEY_TOKEN_TYPE], "A Sigil API key").into()
    }
}
impl utoipa::ToSchema for SubjectTokenType {}

/// `requested_token_type` of a token exchange.
#[derive(Debug)]
pub struct RequestedTokenType;

impl utoipa::PartialSchema for RequestedTokenType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::core::fields::string_enum([ACCESS_TOKEN_TYPE], "An access token").into()
    }
}
impl utoipa::ToSchema for RequestedTokenType {}

/// The RFC 6749 §5.1 token response (`#/components/schemas/TokenResponse`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: `tokens::response_body` writes it.
pub struct TokenResponse {
    /// The access token (EdDSA JWS, `at+jwt`).
    access_token: String,
    #[schema(value_type = crate::core::fields::BearerTokenType)]
    token_type: String,
    /// Seconds until it expires.
    expires_in: u64,
    /// The granted scopes, space-separated.
    scope: String,
    /// A rotating refresh token (`sgl_rt_…`), from the code and refresh grants.
    #[schema(nullable = false)]
    refresh_token: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token`.
    #[schema(nullable = false)]
    issued_token_type: Option<String>,
}

/// The token endpoint.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "token",
    tag = "oauth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "RFC 6749 §5.1 token response", body = TokenResponse, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `invalid_scope`, `unauthorized_client` or `unsupported_grant_type`"),
        (status = 401, description = "`invalid_client`: client authentication failed", headers(("WWW-Authenticate" = String, description = "`Basic realm=\"sigil\"`"))),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: OAuthBody<TokenParams>,
) -> Result<Response, OAuthError> {
    let p = &body.params;
    let presented = client_auth::presented(
        body.authorization.as_deref(),
        p.client_id.as_deref(),
        p.client_secret.as_deref(),
    )?;
    let grant_type = p
        .grant_type
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let outcome: Outcome = match grant_type {
        "client_credentials" => {
            let presented = presented
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
            let app = client_auth::authenticate(&state, &presented).await?;
            grants::client_credentials(&state, &app, p.scope.as_deref()).await?
        }
        "authorization_code" => {
            let presented =
                presented.ok_or_else(|| OAuthError::invalid_client("client_id is required"))?;
            let app = client_auth::authenticate(&state, &presented).await?;
            let c = required(&p.code, "code")?;
            code::exchange(
                &state,
                &app,
                c,
                p.redirect_uri.as_deref(),
                p.code_verifier.as_deref(),
            )
            .await?
        }
        "refresh_token" => {
            let presented =
                presented.ok_or_else(|| OAuthError::invalid_client("client_id is required"))?;
            let app = client_auth::authenticate(&state, &presented).await?;
            let rt = required(&p.refresh_token, "refresh_token")?;
            grants::refresh(&state, &app, rt, p.scope.as_deref()).await?
        }
        TOKEN_EXCHANGE => {
            let client = match &presented {
                Some(c) => Some(client_auth::authenticate(&state, c).await?),
                None => None,
            };
            let subject = required(&p.subject_token, "subject_token")?;
            match p.subject_token_type.as_deref() {
                Some(API_KEY_TOKEN_TYPE) => {}
                Some(other) => {
                    return Err(OAuthError::invalid_request(format!(
                        "subject_token_type `{other}` is not supported; use `{API_KEY_TOKEN_TYPE}`"
                    )))
                }
                None => {
                    return Err(OAuthError::invalid_request(
                        "subject_token_type is required",
                    ))
                }
            }
            if let Some(t) = p.requested_token_type.as_deref() {
                if t != ACCESS_TOKEN_TYPE {
                    return Err(OAuthError::invalid_request(format!(
                        "requested_token_type `{t}` is not supported"
                    )));
                }
            }
            let mut outcome =
                grants::api_key_exchange(&state, subject, p.scope.as_deref(), client.as_ref(), ip)
                    .await?;
            outcome.refresh_token = None;
            let mut body =
                crate::http::tokens::response_body(&outcome.access, &outcome.scopes, None);
            body["issued_token_type"] = ACCESS_TOKEN_TYPE.into();
            return Ok(no_store(body));
        }
        other => {
            return Err(OAuthError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type `{}` is not supported", truncate(other)),
            ))
        }
    };
    Ok(no_store(crate::http::tokens::response_body(
        &outcome.access,
        &outcome.scopes,
        outcome.refresh_token.as_deref(),
    )))
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

/// Echoed input, bounded so an error message cannot be used to reflect a
/// large payload.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}
