//! Who is calling the management API, resolved to a [`Principal`] in one
//! place: an API key (`Authorization: Bearer sgl_…` or `X-API-Key`), a
//! first-party access token, or, with neither, the first-party browser
//! session cookie. Keys and app tokens are bound to one workspace; a signed-in
//! user picks one of its workspaces with `X-Sigil-Workspace` (its personal
//! one by default) and holds there at most its role's scopes. Rate limits
//! apply per credential.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use sigil::jws::{TokenType, VerifyOptions};

use std::net::IpAddr;

use crate::app::state::AppState;
use crate::core::crypto;
use crate::core::principal::Principal;
use crate::core::scopes;
use crate::error::ApiError;
use crate::http::client_ip::ClientIp;
use crate::http::cookies::{cookie, SESSION_COOKIE};
use crate::services::key_use::{self, KeyRefusal};

/// The header naming the workspace a user acts in, as `Stripe-Account` does.
pub const WORKSPACE_HEADER: &str = "x-sigil-workspace";

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

/// The workspace named by `X-Sigil-Workspace`, if any.
fn named_workspace(parts: &Parts) -> Result<Option<&str>, ApiError> {
    match parts.headers.get(WORKSPACE_HEADER) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_workspace",
                    "X-Sigil-Workspace must name a workspace id",
                )
            }),
    }
}

/// 404 `workspace_not_found`: the same answer whether the workspace does not
/// exist or the caller is not in it.
pub fn workspace_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "workspace_not_found",
        "no such workspace for this caller",
    )
}

/// A credential bound to `workspace`: a header naming another is refused.
fn bound(
    parts: &Parts,
    workspace: String,
    user: Option<String>,
    scopes: Vec<String>,
    key_id: Option<String>,
    project: Option<String>,
) -> Result<Principal, ApiError> {
    if named_workspace(parts)?.is_some_and(|w| w != workspace) {
        return Err(workspace_not_found());
    }
    Ok(Principal {
        workspace,
        user,
        role: None,
        scopes,
        key_id,
        project,
    })
}

/// A signed-in user acting as a member of the workspace the request names
/// (its personal one by default), with `scopes` narrowed to its role.
async fn member(
    state: &AppState,
    parts: &Parts,
    user: &str,
    scopes: &[String],
) -> Result<Principal, ApiError> {
    let workspace = named_workspace(parts)?.unwrap_or(user).to_owned();
    let member = state
        .store
        .member(&workspace, user)
        .await?
        .ok_or_else(workspace_not_found)?;
    Ok(Principal {
        workspace,
        user: Some(user.to_owned()),
        role: Some(member.role),
        scopes: member.role.narrow(scopes),
        key_id: None,
        project: None,
    })
}

/// Resolves a credential presented from `ip` to a principal: 401
/// `invalid_token`, or 403 `ip_not_allowed` for a key used from outside its
/// allowlist.
pub async fn resolve(
    state: &AppState,
    parts: &Parts,
    credential: &str,
    ip: IpAddr,
) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    if credential.starts_with("sgl_") {
        let key = key_use::present(state.store.as_ref(), &state.audit, credential, ip, now)
            .await?
            .map_err(|refusal| match refusal {
                KeyRefusal::IpNotAllowed => {
                    ApiError::new(StatusCode::FORBIDDEN, "ip_not_allowed", refusal.detail())
                }
                _ => ApiError::invalid_token(refusal.detail()),
            })?;
        return bound(
            parts,
            key.workspace_id,
            Some(key.owner_id),
            key.scopes,
            Some(key.id),
            key.app_id,
        );
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
    let claim = |name: &str| verified.claims.extra.get(name).and_then(|v| v.as_str());
    if let Some(user) = claim("usr") {
        return member(state, parts, user, &verified.claims.scope).await;
    }
    let account = claim("acct").ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "this token is not valid for the management API",
        )
    })?;
    bound(
        parts,
        account.to_owned(),
        None,
        verified.claims.scope.clone(),
        None,
        None,
    )
}

/// The origin (`scheme://host[:port]`) of the issuer, this server's own.
fn own_origin(state: &AppState) -> String {
    let issuer = state.config.issuer();
    let rest = issuer.find("://").map_or(0, |i| i + 3);
    match issuer[rest..].find('/') {
        Some(slash) => issuer[..rest + slash].to_owned(),
        None => issuer,
    }
}

/// 403 `cross_site_request`.
fn cross_site(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site_request",
        detail.to_owned(),
    )
}

/// The signed-in browser's user, when the request carries a live session
/// cookie and comes from this server's own pages: an `Origin` (or
/// `Sec-Fetch-Site`) naming another site is refused, and unsafe methods
/// must carry this server's `Origin`, so no cross-site page can use it.
async fn cookie_user(state: &AppState, parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(user) = state
        .store
        .browser_session_user(&crypto::hash(value), state.clock.now())
        .await?
    else {
        return Ok(None);
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
        return Err(cross_site(
            "the session cookie is accepted only from this site's pages",
        ));
    }
    let origin = header("origin");
    if origin.is_some_and(|o| o != own_origin(state)) {
        return Err(cross_site(
            "the session cookie is accepted only from this site's pages",
        ));
    }
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && origin.is_none() {
        return Err(cross_site(
            "a cookie-authenticated change needs this site's Origin header",
        ));
    }
    Ok(Some(user))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let has_credential =
            parts.headers.contains_key("authorization") || parts.headers.contains_key("x-api-key");
        let principal = if has_credential {
            let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
                .await
                .unwrap_or_else(|never| match never {});
            resolve(state, parts, &credential(parts)?, ip).await?
        } else {
            let user = cookie_user(state, parts)
                .await?
                .ok_or_else(ApiError::missing_credentials)?;
            member(
                state,
                parts,
                &user,
                &scopes::preset("full").unwrap_or_default(),
            )
            .await?
        };
        let limit_key = principal
            .key_id
            .clone()
            .unwrap_or_else(|| format!("acct:{}", principal.workspace));
        state
            .limits
            .check_key(&limit_key)
            .map_err(ApiError::rate_limited)?;
        Ok(principal)
    }
}

/// `caller` acting in `workspace` (a path's `{id}`): itself when it already
/// acts there; a signed-in user in another of its workspaces with its role
/// there; for anyone else, and for a workspace the user is not in, 404
/// `workspace_not_found`.
pub async fn in_workspace(
    state: &AppState,
    caller: &Principal,
    workspace: &str,
) -> Result<Principal, ApiError> {
    if caller.workspace == workspace {
        return Ok(caller.clone());
    }
    let (Some(user), Some(_)) = (&caller.user, caller.role) else {
        return Err(workspace_not_found());
    };
    let member = state
        .store
        .member(workspace, user)
        .await?
        .ok_or_else(workspace_not_found)?;
    Ok(Principal {
        workspace: workspace.to_owned(),
        user: Some(user.clone()),
        role: Some(member.role),
        scopes: member.role.narrow(&caller.scopes),
        key_id: None,
        project: None,
    })
}
