//! The grants, shared by `/oauth/token` (RFC 6749 shapes) and the seed
//! endpoints under `/auth` (envelope shapes).

use crate::services::key_use::{self, KeyRefusal};
use serde_json::json;

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::crypto;
use crate::core::scopes;
use crate::error::OAuthError;
use crate::http::tokens::{self, Grant, Issued};
use crate::store::{App, RefreshUse};

/// An issued grant: the access token, its scopes and maybe a refresh token.
#[derive(Debug)]
pub struct Outcome {
    /// The access token.
    pub access: Issued,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// A rotated or new refresh token.
    pub refresh_token: Option<String>,
}

/// Records `token.issued` for `outcome` (`event` already names the account
/// and actor): the grant type, client and `jti`, never the token itself.
/// Queued for the next group commit rather than awaited: issuance is the
/// highest-volume path and must not wait on the audit writer.
pub async fn audited(
    state: &AppState,
    event: Event,
    grant_type: &str,
    client_id: &str,
    outcome: Outcome,
) -> Result<Outcome, OAuthError> {
    state
        .audit
        .enqueue(event.subject(&outcome.access.jti).data(json!({
            "grantType": grant_type,
            "clientId": client_id,
            "jti": outcome.access.jti,
            "scope": outcome.scopes.join(" "),
            "refreshToken": outcome.refresh_token.is_some(),
        })))
        .await?;
    Ok(outcome)
}

/// Refuses a new token for `account` when moderation disabled it.
pub async fn refuse_disabled(state: &AppState, account: &str) -> Result<(), OAuthError> {
    if state.moderation.state(account).await?.blocks_tokens() {
        return Err(OAuthError::account_disabled());
    }
    Ok(())
}

/// Narrows `requested` (a `scope` parameter) to what `allowed` permits;
/// no parameter means everything allowed.
pub fn narrow(requested: Option<&str>, allowed: &[String]) -> Result<Vec<String>, OAuthError> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(allowed.to_vec()),
        Some(param) => {
            let wanted = scopes::parse_param(param).map_err(OAuthError::invalid_scope)?;
            if scopes::is_subset(&wanted, allowed) {
                Ok(wanted)
            } else {
                Err(OAuthError::invalid_scope(
                    "requested scope exceeds what this client may be granted",
                ))
            }
        }
    }
}

/// `client_credentials` for an authenticated confidential app.
pub async fn client_credentials(
    state: &AppState,
    app: &App,
    scope: Option<&str>,
) -> Result<Outcome, OAuthError> {
    if app.is_public {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    refuse_disabled(state, &app.workspace_id).await?;
    let scopes = narrow(scope, &app.scopes)?;
    let access = tokens::access_token(
        state,
        &Grant {
            sub: &app.id,
            client_id: &app.id,
            scopes: &scopes,
            session_type: "app",
            sid: &crypto::new_id("sid_"),
            account: Some(&app.workspace_id),
            user: None,
        },
    );
    let outcome = Outcome {
        access,
        scopes,
        refresh_token: None,
    };
    let event = Event::new("token.issued")
        .account(&app.workspace_id)
        .actor(&app.id);
    audited(state, event, "client_credentials", &app.id, outcome).await
}

/// API key → short-lived access token (RFC 8693 and `/auth/token/exchange`).
/// `client` is the authenticated client, when one authenticated; `ip` the
/// address the key was presented from (its allowlist applies).
pub async fn api_key_exchange(
    state: &AppState,
    api_key: &str,
    scope: Option<&str>,
    client: Option<&App>,
    ip: std::net::IpAddr,
) -> Result<Outcome, OAuthError> {
    let now = state.clock.now();
    let key = key_use::present(state.store.as_ref(), &state.audit, api_key, ip, now)
        .await?
        .map_err(|refusal| match refusal {
            KeyRefusal::IpNotAllowed => OAuthError::new(
                axum::http::StatusCode::FORBIDDEN,
                "ip_not_allowed",
                refusal.detail(),
            ),
            _ => OAuthError::invalid_grant(refusal.detail()),
        })?;
    if let (Some(bound), Some(app)) = (&key.app_id, client) {
        if bound != &app.id {
            return Err(OAuthError::invalid_grant(
                "the API key belongs to another project",
            ));
        }
    }
    refuse_disabled(state, &key.owner_id).await?;
    let scopes = narrow(scope, &key.scopes)?;
    let client_id = client.map_or(key.id.as_str(), |a| a.id.as_str());
    let access = tokens::access_token(
        state,
        &Grant {
            sub: &key.owner_id,
            client_id,
            scopes: &scopes,
            session_type: "user",
            sid: &key.id,
            account: Some(&key.workspace_id),
            user: None,
        },
    );
    let outcome = Outcome {
        access,
        scopes,
        refresh_token: None,
    };
    let event = Event::new("token.issued")
        .account(&key.workspace_id)
        .actor(&key.id);
    audited(state, event, "token_exchange", client_id, outcome).await
}

/// `refresh_token`: rotates within the family; a second use of any member
/// revokes the whole family (RFC 9700 §4.14.2).
pub async fn refresh(
    state: &AppState,
    app: &App,
    presented: &str,
    scope: Option<&str>,
) -> Result<Outcome, OAuthError> {
    let now = state.clock.now();
    let hash = crypto::hash(presented);
    let record = match state.store.use_refresh_token(&hash, now).await? {
        RefreshUse::Fresh(r) => r,
        RefreshUse::Reused { family_id } => {
            state.store.revoke_family(&family_id, now).await?;
            tracing::warn!(family = %family_id, "refresh token reuse: family revoked");
            return Err(OAuthError::invalid_grant("refresh token was already used"));
        }
        RefreshUse::Revoked => return Err(OAuthError::invalid_grant("refresh token was revoked")),
        RefreshUse::Unknown => return Err(OAuthError::invalid_grant("unknown refresh token")),
    };
    if record.app_id != app.id {
        return Err(OAuthError::invalid_grant(
            "refresh token was issued to another client",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant("refresh token expired"));
    }
    refuse_disabled(
        state,
        record.user_id.as_deref().unwrap_or(&app.workspace_id),
    )
    .await?;
    let granted: Vec<String> = record.scope.split_whitespace().map(str::to_owned).collect();
    let scopes = narrow(scope, &granted)?;
    let sub = match &record.user_id {
        Some(user) => crypto::pairwise_sub(&state.pairwise_secret, &app.id, user),
        None => app.id.clone(),
    };
    if let Some(user) = &record.user_id {
        state
            .store
            .remember_subject(&app.id, &sub, user, now)
            .await?;
    }
    let access = tokens::access_token(
        state,
        &Grant {
            sub: &sub,
            client_id: &app.id,
            scopes: &scopes,
            session_type: if record.user_id.is_some() {
                "user"
            } else {
                "app"
            },
            sid: &record.session_id,
            account: None,
            user: None,
        },
    );
    // The new refresh token keeps the originally granted scope.
    let rotated = tokens::refresh_token(
        state,
        &record.family_id,
        &app.id,
        record.user_id.as_deref(),
        &record.scope,
        &record.session_id,
    )
    .await?;
    let outcome = Outcome {
        access,
        scopes,
        refresh_token: Some(rotated),
    };
    let event = Event::new("token.issued")
        .account(record.user_id.as_deref().unwrap_or(&app.workspace_id))
        .actor(&app.id);
    audited(state, event, "refresh_token", &app.id, outcome).await
}
