//! RFC 8414 authorization server metadata (also served as
//! `openid-configuration`, which several standard clients look for).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::AppState;

/// Discovery routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/.well-known/jwks.json", get(jwks))
}

/// A JSON Web Key Set (RFC 7517), `#/components/schemas/Jwks`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: the keyring writes the document.
pub struct Jwks {
    /// The current signing key and the previous one.
    keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Jwk {
    /// `OKP`.
    kty: String,
    /// `Ed25519`.
    crv: String,
    /// The public key, base64url.
    x: String,
    /// The key id tokens name in their header.
    kid: String,
    /// `EdDSA`.
    alg: String,
    /// `sig`.
    r#use: String,
}

/// RFC 8414 authorization server metadata (`#/components/schemas/ServerMetadata`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: [`metadata`] writes the document.
pub struct ServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    jwks_uri: String,
    response_types_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    introspection_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    /// `POST /auth/token/exchange`.
    sigil_api_key_exchange_endpoint: String,
}

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "getJwks",
    tag = "oauth",
    responses((status = 200, description = "Current and previous signing keys", body = Jwks))
)]
pub(crate) async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.keys.current().jwks().clone())
}

#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    operation_id = "getServerMetadata",
    tag = "oauth",
    responses((status = 200, description = "RFC 8414 metadata (also at /.well-known/openid-configuration)", body = ServerMetadata))
)]
pub(crate) async fn metadata(State(state): State<AppState>) -> Json<Value> {
    let issuer = state.config.issuer();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": true,
        "sigil_api_key_exchange_endpoint": format!("{issuer}/auth/token/exchange"),
    }))
}

#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "getOpenIdConfiguration",
    tag = "oauth",
    responses((status = 200, description = "The same metadata as `/.well-known/oauth-authorization-server`, for clients that look here", body = ServerMetadata))
)]
pub(crate) async fn openid_configuration(state: State<AppState>) -> Json<Value> {
    metadata(state).await
}
