//! `/v1/workspaces`: workspaces and their members (owner, admin, member,
//! read_only). A key acts in its own workspace; a signed-in user's session
//! picks one with `X-Sigil-Workspace`.

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;

/// A workspace as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInfo {
    /// `ws_…`, or the user's id for a personal workspace.
    pub id: String,
    /// Display name.
    pub name: String,
    /// A user's personal workspace.
    pub personal: bool,
    /// The caller's role; none for a key or app token.
    pub role: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A member of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceMember {
    /// `usr_…`.
    pub user_id: String,
    /// The user's sign-in address.
    pub email: String,
    /// `owner`, `admin`, `member` or `read_only`.
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// Whom to add, with which role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspaceMember {
    /// The address the user signed in with.
    pub email: String,
    /// `owner`, `admin`, `member` or `read_only`.
    pub role: String,
}

/// `/v1/workspaces`.
#[derive(Debug, Clone, Copy)]
pub struct Workspaces<'a>(pub(super) &'a Core);

impl Workspaces<'_> {
    /// The caller's workspaces (a key: its own).
    pub async fn list(&self) -> Result<Vec<WorkspaceInfo>> {
        self.0.data(&ops::WORKSPACES_LIST, args![]).await
    }

    /// Creates a workspace owned by the signed-in user.
    pub async fn create(&self, name: &str) -> Result<WorkspaceInfo> {
        self.0.data(&ops::WORKSPACES_CREATE, args![name]).await
    }

    /// One workspace.
    pub async fn get(&self, id: &str) -> Result<WorkspaceInfo> {
        self.0.data(&ops::WORKSPACES_GET, args![id]).await
    }

    /// Renames a workspace.
    pub async fn rename(&self, id: &str, name: &str) -> Result<WorkspaceInfo> {
        self.0.data(&ops::WORKSPACES_RENAME, args![id, name]).await
    }

    /// Its members.
    pub async fn members(&self, id: &str) -> Result<Vec<WorkspaceMember>> {
        self.0.data(&ops::WORKSPACES_MEMBERS, args![id]).await
    }

    /// Adds a user who has signed in before.
    pub async fn add_member(
        &self,
        id: &str,
        member: &NewWorkspaceMember,
    ) -> Result<WorkspaceMember> {
        self.0
            .data(&ops::WORKSPACES_ADD_MEMBER, args![id, member])
            .await
    }

    /// Changes a member's role.
    pub async fn set_role(&self, id: &str, user_id: &str, role: &str) -> Result<WorkspaceMember> {
        self.0
            .data(&ops::WORKSPACES_SET_ROLE, args![id, user_id, role])
            .await
    }

    /// Removes a member.
    pub async fn remove_member(&self, id: &str, user_id: &str) -> Result<()> {
        self.0
            .no_content(&ops::WORKSPACES_REMOVE_MEMBER, args![id, user_id])
            .await
    }
}
