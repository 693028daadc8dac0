//! Authorization codes: made when the user approves, exchanged once at
//! `/oauth/token`. Random, stored as SHA-256, 60 s, bound to the client, the
//! redirect URI, the user, the scope and the PKCE challenge. A replay is
//! treated as theft: it fails and revokes what the first exchange issued
//! (RFC 9700 §4.5.3 / RFC 6749 §4.1.2).

use super::grants::Outcome;
use super::request::Authorization;
use crate::app::state::AppState;
use crate::core::crypto;
use crate::error::OAuthError;
use crate::http::tokens::{self, Grant};
use crate::store::{App, AuthorizationCode, CodeIssue, StoreResult};

/// How long a code can be exchanged.
pub const CODE_TTL_SECS: i64 = 60;
/// Codes are `sgl_ac_` + 43 base62 characters (~256 bits).
const CODE_PREFIX: &str = "sgl_ac_";

/// Creates and stores a code for an approved authorization.
pub async fn issue(state: &AppState, auth: &Authorization, user_id: &str) -> StoreResult<String> {
    let code = crypto::new_secret(CODE_PREFIX);
    let record = AuthorizationCode {
        app_id: auth.app.id.clone(),
        user_id: user_id.to_owned(),
        redirect_uri: auth.redirect_uri.clone(),
        code_challenge: Some(auth.code_challenge.clone()),
        scope: auth.scopes.join(" "),
        expires_at: state.clock.now() + CODE_TTL_SECS,
        used_at: None,
        issued: None,
    };
    state
        .store
        .insert_authorization_code(&crypto::hash(&code), &record)
        .await?;
    Ok(code)
}

/// PKCE at the token endpoint. Downgrades are refused both ways: a code
/// issued with a challenge needs a verifier, and a verifier for a code that
/// had no challenge means the request was tampered with (RFC 9700 §4.8.2).
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = sigil::pkce::challenge(verifier)
                .map_err(|e| OAuthError::invalid_request(format!("code_verifier: {e}")))?;
            if crypto::ct_eq(computed.as_bytes(), challenge.as_bytes()) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "code_verifier is required: the code was issued with a code_challenge",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but the code was issued without a code_challenge",
        )),
        (None, None) => Err(OAuthError::invalid_grant(
            "the code was issued without PKCE, which this server requires",
        )),
    }
}

/// Revokes the refresh family and the access token a code issued.
async fn revoke_issued(state: &AppState, issued: Option<&CodeIssue>) -> StoreResult<()> {
    let Some(i) = issued else { return Ok(()) };
    state
        .store
        .revoke_family(&i.family_id, state.clock.now())
        .await?;
    state.revoke_jti(&i.access_jti, i.access_expires_at).await?;
    tracing::warn!(family = %i.family_id, "authorization code replay: what it issued is revoked");
    Ok(())
}

fn replayed() -> OAuthError {
    OAuthError::invalid_grant("authorization code was already used; what it issued is revoked")
}

/// The `authorization_code` grant for an authenticated client.
pub async fn exchange(
    state: &AppState,
    app: &App,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<Outcome, OAuthError> {
    let now = state.clock.now();
    let hash = crypto::hash(code);
    let record = state
        .store
        .authorization_code(&hash)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("unknown authorization code"))?;
    if record.used_at.is_some() {
        revoke_issued(state, record.issued.as_ref()).await?;
        return Err(replayed());
    }
    if record.app_id != app.id {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    if redirect_uri != Some(record.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri must be the one sent to the authorization endpoint",
        ));
    }
    check_pkce(record.code_challenge.as_deref(), code_verifier)?;
    super::grants::refuse_disabled(state, &record.user_id).await?;

    let scopes: Vec<String> = record.scope.split_whitespace().map(str::to_owned).collect();
    let sid = crypto::new_id("sid_");
    let sub = crypto::pairwise_sub(&state.pairwise_secret, &app.id, &record.user_id);
    // The app API resolves this subject back to the user, for this app only.
    state
        .store
        .remember_subject(&app.id, &sub, &record.user_id, now)
        .await?;
    let access = tokens::access_token(
        state,
        &Grant {
            sub: &sub,
            client_id: &app.id,
            scopes: &scopes,
            session_type: "user",
            sid: &sid,
            account: None,
            user: None,
        },
    );
    // The code is marked used together with what it issues, so a replay,
    // even one racing this exchange, always finds something to revoke.
    let issued = CodeIssue {
        family_id: crypto::new_id("fam_"),
        access_jti: access.jti.clone(),
        access_expires_at: now + access.expires_in as i64,
    };
    if !state
        .store
        .claim_authorization_code(&hash, now, &issued)
        .await?
    {
        let winner = state.store.authorization_code(&hash).await?;
        revoke_issued(state, winner.as_ref().and_then(|w| w.issued.as_ref())).await?;
        return Err(replayed());
    }
    let refresh = tokens::refresh_token(
        state,
        &issued.family_id,
        &app.id,
        Some(&record.user_id),
        &record.scope,
        &sid,
    )
    .await?;
    let outcome = Outcome {
        access,
        scopes,
        refresh_token: Some(refresh),
    };
    let event = crate::core::audit::Event::new("token.issued")
        .account(&record.user_id)
        .actor(&app.id);
    super::grants::audited(state, event, "authorization_code", &app.id, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_is_s256_and_refuses_downgrades_both_ways() {
        let verifier = "a".repeat(43);
        let challenge = sigil::pkce::challenge(&verifier).unwrap();
        assert!(check_pkce(Some(&challenge), Some(&verifier)).is_ok());
        let other = "b".repeat(43);
        assert_eq!(
            check_pkce(Some(&challenge), Some(&other))
                .unwrap_err()
                .error,
            "invalid_grant"
        );
        // `plain`: the verifier itself as the challenge.
        assert!(check_pkce(Some(&verifier), Some(&verifier)).is_err());
        assert_eq!(
            check_pkce(Some(&challenge), None).unwrap_err().error,
            "invalid_grant"
        );
        assert_eq!(
            check_pkce(None, Some(&verifier)).unwrap_err().error,
            "invalid_grant"
        );
        assert!(check_pkce(None, None).is_err());
    }
}
