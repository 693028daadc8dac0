//! RFC 7662 introspection and RFC 7009 revocation, both client-authenticated.
//! The token may be an access token (JWS), a refresh token or an API key.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use sigil::jws::{TokenType, VerifyOptions};

use super::token::no_store;
use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::crypto;
use crate::error::OAuthError;
use crate::http::body::OAuthBody;
use crate::http::client_auth;
use crate::store::App;

/// RFC 7662 introspection (`#/components/schemas/Introspection`): `{active:
/// false}` for anything unknown, expired or revoked.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: [`inspect`] writes it.
pub struct Introspection {
    /// Whether the token is live.
    active: bool,
    /// `access_token`, `refresh_token` or `api_key`.
    token_type: Option<String>,
    /// Space-separated scopes.
    scope: Option<String>,
    /// The client it was issued to.
    client_id: Option<String>,
    /// Its subject.
    sub: Option<String>,
    /// Its issuer.
    iss: Option<String>,
    /// Its audience.
    aud: Option<Vec<String>>,
    /// Expiry, UNIX seconds.
    exp: Option<i64>,
    /// Issue time, UNIX seconds.
    iat: Option<i64>,
    /// Its id.
    jti: Option<String>,
    /// Its session.
    sid: Option<String>,
    /// `user`, `app` or `agent`.
    session_type: Option<String>,
}

/// Introspection and revocation parameters. `token_type_hint` is ignored:
/// the token's prefix says what it is (RFC 7662 §2.1 makes the hint advisory).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IntrospectOrRevokeRequest)]
pub struct TokenParam {
    /// An access token, refresh token or API key.
    #[schema(required = true, nullable = false)]
    token: Option<String>,
    /// `client_secret_post`.
    client_id: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
}

/// What the server knows of `token`. Only the caller's own refresh tokens are
/// disclosed; everything else unknown is `{"active": false}`.
pub async fn inspect(
    state: &AppState,
    token: &str,
    caller: Option<&App>,
) -> Result<Value, OAuthError> {
    let now = state.clock.now();
    let inactive = json!({ "active": false });
    if token.starts_with(crypto::REFRESH_PREFIX) {
        let Some(r) = state.store.refresh_family(&crypto::hash(token)).await? else {
            return Ok(inactive);
        };
        let usable = r.used_at.is_none()
            && r.expires_at > now
            && caller.is_none_or(|a| a.id == r.app_id)
            && !state.store.is_family_revoked(&r.family_id).await?;
        if !usable {
            return Ok(inactive);
        }
        return Ok(json!({
            "active": true, "token_type": "refresh_token", "client_id": r.app_id,
            "scope": r.scope, "exp": r.expires_at, "sid": r.session_id,
        }));
    }
    if token.starts_with("sgl_") {
        if !crypto::is_well_formed_api_key(token) {
            return Ok(inactive);
        }
        let Some(k) = state.store.api_key_by_hash(&crypto::hash(token)).await? else {
            return Ok(inactive);
        };
        if !k.is_active(now) {
            return Ok(inactive);
        }
        return Ok(json!({
            "active": true, "token_type": "api_key", "sub": k.owner_id,
            "scope": k.scopes.join(" "), "exp": k.expires_at, "iat": k.created_at,
        }));
    }
    let options = VerifyOptions {
        issuer: Some(state.config.issuer()),
        token_type: TokenType::Access,
        leeway_secs: 0,
        ..VerifyOptions::default()
    };
    let Ok(verified) = state.keys.verify(token, &options, now) else {
        return Ok(inactive);
    };
    let c = &verified.claims;
    if c.jti.as_deref().is_some_and(|j| state.denylist.contains(j)) {
        return Ok(inactive);
    }
    let mut out = json!({
        "active": true, "token_type": "access_token", "scope": c.scope.join(" "),
        "client_id": c.client_id, "sub": c.sub, "iss": c.iss, "aud": c.aud,
        "exp": c.exp, "iat": c.iat, "jti": c.jti, "sid": c.sid,
        "session_type": c.session_type,
    });
    if let Some(obj) = out.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
    }
    Ok(out)
}

async fn caller(state: &AppState, body: &OAuthBody<TokenParam>) -> Result<App, OAuthError> {
    let presented = client_auth::presented(
        body.authorization.as_deref(),
        body.params.client_id.as_deref(),
        body.params.client_secret.as_deref(),
    )?
    .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
    client_auth::authenticate(state, &presented).await
}

/// `POST /oauth/introspect`: confidential clients only.
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    operation_id = "introspectToken",
    tag = "oauth",
    request_body(content(
        (TokenParam = "application/x-www-form-urlencoded"),
        (TokenParam = "application/json"),
    )),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "RFC 7662 response: `{active: false}` for anything unknown, expired or revoked, or another client's refresh token", body = Introspection, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`: no `token`, or two client authentication methods"),
        (status = 401, description = "`invalid_client`: client authentication failed, or a public client", headers(("WWW-Authenticate" = String, description = "`Basic realm=\"sigil\"`"))),
    )
)]
pub(crate) async fn introspect(
    State(state): State<AppState>,
    body: OAuthBody<TokenParam>,
) -> Result<Response, OAuthError> {
    let app = caller(&state, &body).await?;
    if app.is_public {
        return Err(OAuthError::invalid_client(
            "introspection requires a confidential client",
        ));
    }
    let token = body
        .params
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    Ok(no_store(inspect(&state, token, Some(&app)).await?))
}

/// `POST /oauth/revoke`: always 200 for tokens the caller may not revoke or
/// that do not exist (RFC 7009 §2.2).
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    operation_id = "revokeToken",
    tag = "oauth",
    request_body(content(
        (TokenParam = "application/x-www-form-urlencoded"),
        (TokenParam = "application/json"),
    )),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "RFC 7009: `{}`, also for tokens that do not exist or are not the client's", body = Object, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`: no `token`, or two client authentication methods"),
        (status = 401, description = "`invalid_client`: client authentication failed", headers(("WWW-Authenticate" = String, description = "`Basic realm=\"sigil\"`"))),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    body: OAuthBody<TokenParam>,
) -> Result<Response, OAuthError> {
    let app = caller(&state, &body).await?;
    let token = body
        .params
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    revoke_token(&state, token, &app.id).await?;
    Ok(no_store(json!({})))
}

/// Revokes a refresh token's family or denylists an access token, when it
/// was issued to `client_id`.
pub async fn revoke_token(
    state: &AppState,
    token: &str,
    client_id: &str,
) -> Result<(), OAuthError> {
    let now = state.clock.now();
    if token.starts_with(crypto::REFRESH_PREFIX) {
        if let Some(r) = state.store.refresh_family(&crypto::hash(token)).await? {
            if r.app_id == client_id {
                state.store.revoke_family(&r.family_id, now).await?;
                let data = json!({ "kind": "refresh_token", "clientId": client_id, "familyId": r.family_id });
                audit_revoked(state, client_id, r.user_id.as_deref(), &r.family_id, data).await?;
            }
        }
        return Ok(());
    }
    let options = VerifyOptions {
        token_type: TokenType::Access,
        require_exp: true,
        leeway_secs: 0,
        ..VerifyOptions::default()
    };
    if let Ok(v) = state.keys.verify(token, &options, now) {
        if let (Some(jti), Some(exp)) = (v.claims.jti.clone(), v.claims.exp) {
            if v.claims.client_id.as_deref() == Some(client_id) {
                state.revoke_jti(&jti, exp).await?;
                let account = v.claims.extra.get("acct").and_then(|a| a.as_str());
                let data = json!({ "kind": "access_token", "clientId": client_id, "jti": jti });
                audit_revoked(state, client_id, account, &jti, data).await?;
            }
        }
    }
    Ok(())
}

/// Records `token.revoked` in `account`'s log, or else the client owner's.
async fn audit_revoked(
    state: &AppState,
    client_id: &str,
    account: Option<&str>,
    subject: &str,
    data: Value,
) -> Result<(), OAuthError> {
    let account = match account {
        Some(a) => Some(a.to_owned()),
        None => state.store.app(client_id).await?.map(|a| a.workspace_id),
    };
    let mut event = Event::new("token.revoked")
        .actor(client_id)
        .subject(subject)
        .data(data);
    if let Some(a) = &account {
        event = event.account(a);
    }
    state.audit.record(event).await?;
    Ok(())
}
