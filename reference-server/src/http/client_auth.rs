//! OAuth client authentication: `client_secret_basic`, `client_secret_post`,
//! or none for public clients. Secrets are compared as SHA-256 hashes in
//! constant time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::app::state::AppState;
use crate::core::crypto;
use crate::error::OAuthError;
use crate::store::App;

/// How a client presented itself.
#[derive(Debug)]
pub struct Presented {
    /// The claimed client id.
    pub client_id: String,
    /// The secret, when one was sent (basic or post).
    pub secret: Option<String>,
}

/// Reads the client's credentials from the `Authorization` header or the
/// body; using both methods at once is refused (RFC 6749 §2.3).
pub fn presented(
    authorization: Option<&str>,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<Option<Presented>, OAuthError> {
    if let Some(auth) = authorization {
        let Some(encoded) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
        else {
            return Err(OAuthError::invalid_client(
                "only HTTP Basic client authentication is accepted in Authorization",
            ));
        };
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let client_id = dec(id);
        if body_client_id.is_some_and(|b| b != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Basic credentials",
            ));
        }
        return Ok(Some(Presented {
            client_id,
            secret: Some(dec(secret)),
        }));
    }
    Ok(body_client_id.map(|id| Presented {
        client_id: id.to_owned(),
        secret: body_secret.map(str::to_owned),
    }))
}

/// Authenticates the presented client: confidential clients must prove their
/// secret; public clients must not send one.
pub async fn authenticate(state: &AppState, presented: &Presented) -> Result<App, OAuthError> {
    let app = state
        .store
        .app(&presented.client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    match (&app.secret_hash, &presented.secret) {
        (Some(stored), Some(secret)) if crypto::ct_eq(stored, &crypto::hash(secret)) => Ok(app),
        (Some(_), _) => Err(OAuthError::invalid_client("client authentication failed")),
        (None, None) => Ok(app),
        (None, Some(_)) => Err(OAuthError::invalid_client("public clients have no secret")),
    }
}
