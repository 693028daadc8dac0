//! Who is calling the management API: an API key (`Authorization: Bearer
//! sgl_…` or `X-API-Key`) or a first-party access token, resolved to a
//! [`Principal`]. Rate limits apply per credential.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use sigil::jws::{TokenType, VerifyOptions};

use std::net::IpAddr;

use crate::app::state::AppState;
use crate::core::crypto;
use crate::core::principal::Principal;
use crate::error::ApiError;
use crate::http::client_ip::ClientIp;
use crate::services::ip_allowlist;

/// The presented credential, from `Authorization: Bearer` or `X-API-Key`.
pub fn credential(parts: &Parts) -> Result<String, ApiError> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(auth) = header("authorization") {
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::invalid_token("Authorization must be `Bearer <token>`"))?;
        return Ok(token.to_owned());
    }
    header("x-api-key")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(ApiError::missing_credentials)
}

/// Resolves a credential presented from `ip` to a principal: 401
/// `invalid_token`, or 403 `ip_not_allowed` for a key used from outside its
/// allowlist.
pub async fn resolve(
    state: &AppState,
    credential: &str,
    ip: IpAddr,
) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    if credential.starts_with("sgl_") {
        if !crypto::is_well_formed_api_key(credential) {
            return Err(ApiError::invalid_token("malformed API key"));
        }
        let key = state
            .store
            .api_key_by_hash(&crypto::hash(credential))
            .await?
            .filter(|k| k.is_active(now))
            .ok_or_else(|| ApiError::invalid_token("the API key is unknown, revoked or expired"))?;
        if !ip_allowlist::admits(&state.audit, &key, ip).await? {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ip_not_allowed",
                ip_allowlist::REFUSAL,
            ));
        }
        return Ok(Principal {
            account: key.owner_id,
            scopes: key.scopes,
            key_id: Some(key.id),
        });
    }
    let options = VerifyOptions {
        issuer: Some(state.config.issuer()),
        token_type: TokenType::Access,
        leeway_secs: 0,
        ..VerifyOptions::default()
    };
    let verified = state
        .keys
        .verify(credential, &options, now)
        .map_err(|e| ApiError::invalid_token(e.to_string()))?;
    if verified
        .claims
        .jti
        .as_deref()
        .is_some_and(|j| state.denylist.contains(j))
    {
        return Err(ApiError::invalid_token("the token was revoked"));
    }
    let account = verified
        .claims
        .extra
        .get("acct")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "this token is not valid for the management API",
            )
        })?;
    Ok(Principal {
        account: account.to_owned(),
        scopes: verified.claims.scope.clone(),
        key_id: None,
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = credential(parts)?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let principal = resolve(state, &credential, ip).await?;
        let limit_key = principal
            .key_id
            .clone()
            .unwrap_or_else(|| format!("acct:{}", principal.account));
        state
            .limits
            .check_key(&limit_key)
            .map_err(ApiError::rate_limited)?;
        Ok(principal)
    }
}
