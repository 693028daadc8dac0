//! Issuing access tokens (EdDSA `at+jwt`, RFC 9068) and refresh tokens
//! (opaque, hashed, rotating within a family).

use serde_json::json;

use crate::app::state::AppState;
use crate::core::crypto;
use crate::store::{RefreshToken, StoreResult};

/// Who a token is for.
#[derive(Debug)]
pub struct Grant<'a> {
    /// `sub`: a pairwise id for third-party apps, the user or app id otherwise.
    pub sub: &'a str,
    /// `client_id`.
    pub client_id: &'a str,
    /// Granted scopes.
    pub scopes: &'a [String],
    /// `user`, `app` or `agent`.
    pub session_type: &'a str,
    /// `sid`: shared by every token of one sign-in or grant family.
    pub sid: &'a str,
    /// The workspace the token may manage through `/v1` (first-party tokens
    /// only), or the default one of [`Grant::user`].
    pub account: Option<&'a str>,
    /// A signed-in user's own session: `usr`, the user who may act in any of
    /// its workspaces (`X-Sigil-Workspace`) with its role there.
    pub user: Option<&'a str>,
}

/// A signed access token.
#[derive(Debug)]
pub struct Issued {
    /// The compact JWS.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// Signs an access token for `grant`.
pub fn access_token(state: &AppState, grant: &Grant<'_>) -> Issued {
    let now = state.clock.now();
    let ttl = state.config.access_token_ttl;
    let jti = crypto::new_id("at_");
    let mut claims = json!({
        "iss": state.config.issuer(),
        "sub": grant.sub,
        "aud": state.config.issuer(),
        "client_id": grant.client_id,
        "scope": grant.scopes.join(" "),
        "iat": now,
        "exp": now + ttl as i64,
        "jti": jti,
        "sid": grant.sid,
        "session_type": grant.session_type,
    });
    if let Some(account) = grant.account {
        claims["acct"] = account.into();
    }
    if let Some(user) = grant.user {
        claims["usr"] = user.into();
    }
    Issued {
        token: state.keys.current().sign("at+jwt", &claims),
        jti,
        expires_in: ttl,
    }
}

/// Creates and stores a refresh token in `family_id`.
pub async fn refresh_token(
    state: &AppState,
    family_id: &str,
    app_id: &str,
    user_id: Option<&str>,
    scope: &str,
    session_id: &str,
) -> StoreResult<String> {
    let secret = crypto::new_secret(crypto::REFRESH_PREFIX);
    let record = RefreshToken {
        family_id: family_id.to_owned(),
        app_id: app_id.to_owned(),
        user_id: user_id.map(str::to_owned),
        scope: scope.to_owned(),
        session_id: session_id.to_owned(),
        expires_at: state.clock.now() + state.config.refresh_token_ttl as i64,
        used_at: None,
    };
    state
        .store
        .insert_refresh_token(&crypto::hash(&secret), &record)
        .await?;
    Ok(secret)
}

/// The RFC 6749 token response body.
pub fn response_body(
    issued: &Issued,
    scopes: &[String],
    refresh_token: Option<&str>,
) -> serde_json::Value {
    let mut body = json!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": scopes.join(" "),
    });
    if let Some(rt) = refresh_token {
        body["refresh_token"] = rt.into();
    }
    body
}
