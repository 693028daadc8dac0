//! `POST /auth/oauth/exchange`: the code a provider login returned to the
//! app becomes a session (access token, refresh token, the user).

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;
use crate::secret::Secret;

/// Who signed in, as this app sees them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderUser {
    /// The user's id for this app (the access token's `sub`).
    pub id: String,
    /// Their email, when a provider verified one.
    pub email: Option<String>,
    /// The provider they came through.
    pub provider: String,
    /// Whether this login created them.
    pub is_new_user: bool,
}

/// A session from a provider login.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSession {
    /// The access token.
    pub access_token: Secret,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The refresh token (`/auth/refresh` rotates it).
    pub refresh_token: Secret,
    /// Who signed in.
    pub user: ProviderUser,
}

/// Provider login's app side.
#[derive(Debug, Clone, Copy)]
pub struct ProviderLogin<'a>(pub(super) &'a Core);

impl ProviderLogin<'_> {
    /// Exchanges the single-use code from the login's redirect. Needs no
    /// session: the request carries no `Authorization` header and the
    /// session's tokens are neither read nor renewed (nor replaced: store
    /// the answer where the app keeps its tokens).
    pub async fn exchange(&self, code: &str) -> Result<ProviderSession> {
        self.0
            .data(&ops::PROVIDER_LOGIN_EXCHANGE, args![code])
            .await
    }
}
