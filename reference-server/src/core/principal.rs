//! Who is calling the management API, once authenticated: the account, the
//! granted scopes and the API key if one was used. Scopes are checked per
//! route with [`Principal::require`]; [`crate::http::principal`] extracts it
//! from a request.

use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user whose resources the caller manages.
    pub account: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Set when the caller used an API key.
    pub key_id: Option<String>,
}

impl Principal {
    /// 403 `insufficient_scope` unless `scope` was granted.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }
}
