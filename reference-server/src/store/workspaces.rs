//! Workspace persistence: workspaces, their members and roles. The tenancy
//! rule itself is in the other stores' queries, which all filter on
//! `workspace_id`; this trait says who belongs where.

use crate::core::roles::Role;
use crate::store::StoreResult;

/// A workspace: the tenant that owns apps, keys, agents, policies, webhooks
/// and an audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `ws_…`, or the user's id for a personal workspace.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The user who created it.
    pub owner_id: String,
    /// A user's personal workspace, made with the user; it has one member.
    pub personal: bool,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

impl Workspace {
    /// The personal workspace of `user`: the user's own id, made with it.
    pub fn personal(user: &super::User) -> Self {
        Self {
            id: user.id.clone(),
            name: "Personal".into(),
            owner_id: user.id.clone(),
            personal: true,
            created_at: user.created_at,
            updated_at: user.created_at,
        }
    }
}

/// A user's membership in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The workspace.
    pub workspace_id: String,
    /// The user.
    pub user_id: String,
    /// The user's sign-in address.
    pub email: String,
    /// What the member may do.
    pub role: Role,
    /// UNIX seconds.
    pub created_at: i64,
    /// UNIX seconds.
    pub updated_at: i64,
}

/// What changing or removing a member did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Done; the member as it was before the change.
    Done(Member),
    /// No such member.
    NotFound,
    /// Refused: the workspace would be left with no owner.
    LastOwner,
}

/// Workspace storage.
#[async_trait::async_trait]
pub trait WorkspaceStore {
    /// Stores `ws` with its creator as its owner member.
    async fn create_workspace(&self, ws: &Workspace) -> StoreResult<()>;
    /// One workspace.
    async fn workspace(&self, id: &str) -> StoreResult<Option<Workspace>>;
    /// Renames a workspace; false when there is none.
    async fn rename_workspace(&self, id: &str, name: &str, at: i64) -> StoreResult<bool>;
    /// The workspaces `user_id` belongs to, with its role in each, oldest
    /// first (the personal one first).
    async fn workspaces_of(&self, user_id: &str) -> StoreResult<Vec<(Workspace, Role)>>;
    /// `user_id`'s membership in `workspace_id`.
    async fn member(&self, workspace_id: &str, user_id: &str) -> StoreResult<Option<Member>>;
    /// The members of a workspace, oldest first.
    async fn members(&self, workspace_id: &str) -> StoreResult<Vec<Member>>;
    /// Adds a member; `Conflict` when the user already is one.
    async fn add_member(&self, member: &Member) -> StoreResult<()>;
    /// Changes a member's role, refusing to leave the workspace ownerless.
    async fn set_member_role(
        &self,
        workspace_id: &str,
        user_id: &str,
        role: Role,
        at: i64,
    ) -> StoreResult<MemberChange>;
    /// Removes a member, refusing to remove the last owner.
    async fn remove_member(&self, workspace_id: &str, user_id: &str) -> StoreResult<MemberChange>;
}
