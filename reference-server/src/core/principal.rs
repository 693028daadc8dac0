//! Who is calling the management API, once authenticated: the workspace it
//! acts in, the user behind it, its role there, the granted scopes and the
//! API key if one was used. Scopes are checked per route with
//! [`Principal::require`]; [`crate::http::principal`] extracts it from a
//! request.

use crate::core::roles::Role;
use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The workspace whose resources the caller manages. A user's personal
    /// workspace has the user's id.
    pub workspace: String,
    /// The user acting: the signed-in user, or the user who made the key.
    /// None for an app's own token.
    pub user: Option<String>,
    /// The user's role in the workspace when a user acts as a member (a
    /// session token or cookie); None for keys and tokens bound to one
    /// workspace, whose scopes alone decide.
    pub role: Option<Role>,
    /// Granted scopes (already narrowed to the role).
    pub scopes: Vec<String>,
    /// Set when the caller used an API key.
    pub key_id: Option<String>,
    /// The app (project) a key is scoped to: it manages that app and its
    /// keys, and nothing else of the workspace.
    pub project: Option<String>,
}

impl Principal {
    /// 403 `insufficient_scope` unless `scope` was granted.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.project.is_some() && !(scope.starts_with("apps.") || scope.starts_with("keys.")) {
            return Err(ApiError::project_scoped());
        }
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }

    /// Whether a resource of `app` (None: of no app) is within the caller's
    /// project; everything is, for a caller without one.
    pub fn sees_app(&self, app: Option<&str>) -> bool {
        self.project.as_deref().is_none_or(|p| app == Some(p))
    }

    /// Who the audit chain names as the actor: the key, else the user, else
    /// the workspace.
    pub fn actor(&self) -> &str {
        self.key_id
            .as_deref()
            .or(self.user.as_deref())
            .unwrap_or(&self.workspace)
    }
}
