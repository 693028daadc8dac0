//! The SQL side (SQLite and PostgreSQL) of [`WorkspaceStore`]: workspaces and their members. Role
//! changes and removals check the owner count in the same write
//! transaction, so two concurrent demotions cannot leave no owner.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::dialect::Lock;
use super::{conflict, SqlStore};
use crate::core::roles::Role;
use crate::store::workspaces::{Member, MemberChange, Workspace, WorkspaceStore};
use crate::store::{StoreError, StoreResult};

const WORKSPACE_COLUMNS: &str = "w.id, w.name, w.owner_id, w.personal, w.created_at, w.updated_at";
const MEMBER_SELECT: &str = "SELECT m.workspace_id, m.user_id, u.email, m.role, m.created_at, \
     m.updated_at FROM workspace_members m JOIN users u ON u.id = m.user_id";

fn workspace_from(row: &AnyRow) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner_id: row.try_get("owner_id")?,
        personal: super::flag(row, "personal")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn role_from(row: &AnyRow) -> StoreResult<Role> {
    let role: String = row.try_get("role")?;
    Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("member role {role:?}")))
}

fn member_from(row: &AnyRow) -> StoreResult<Member> {
    Ok(Member {
        workspace_id: row.try_get("workspace_id")?,
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        role: role_from(row)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a workspace and its creator as owner, inside `tx`.
pub(super) async fn insert_workspace(
    tx: &mut sqlx::AnyConnection,
    ws: &Workspace,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, name, owner_id, personal, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&ws.id)
    .bind(&ws.name)
    .bind(&ws.owner_id)
    .bind(ws.personal)
    .bind(ws.created_at)
    .bind(ws.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(conflict)?;
    sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, role, created_at, updated_at) \
         VALUES ($1, $2, 'owner', $3, $4)",
    )
    .bind(&ws.id)
    .bind(&ws.owner_id)
    .bind(ws.created_at)
    .bind(ws.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(conflict)?;
    Ok(())
}

impl SqlStore {
    /// The member and, when it is an owner, whether it is the only one.
    async fn member_in(
        tx: &mut sqlx::AnyConnection,
        workspace_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<(Member, bool)>> {
        let Some(row) = sqlx::query(&format!(
            "{MEMBER_SELECT} WHERE m.workspace_id = $1 AND m.user_id = $2"
        ))
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let member = member_from(&row)?;
        let owners: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = $1 AND role = 'owner'",
        )
        .bind(workspace_id)
        .fetch_one(&mut *tx)
        .await?;
        let last_owner = member.role == Role::Owner && owners <= 1;
        Ok(Some((member, last_owner)))
    }
}

#[async_trait::async_trait]
impl WorkspaceStore for SqlStore {
    async fn create_workspace(&self, ws: &Workspace) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        insert_workspace(&mut tx, ws).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn workspace(&self, id: &str) -> StoreResult<Option<Workspace>> {
        self.row(
            &format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1"),
            &[id],
            workspace_from,
        )
        .await
    }

    async fn rename_workspace(&self, id: &str, name: &str, at: i64) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE workspaces SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn workspaces_of(&self, user_id: &str) -> StoreResult<Vec<(Workspace, Role)>> {
        sqlx::query(&format!(
            "SELECT {WORKSPACE_COLUMNS}, m.role FROM workspaces w \
             JOIN workspace_members m ON m.workspace_id = w.id WHERE m.user_id = $1 \
             ORDER BY w.personal DESC, w.created_at, w.id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((workspace_from(row)?, role_from(row)?)))
        .collect()
    }

    async fn member(&self, workspace_id: &str, user_id: &str) -> StoreResult<Option<Member>> {
        self.row(
            &format!("{MEMBER_SELECT} WHERE m.workspace_id = $1 AND m.user_id = $2"),
            &[workspace_id, user_id],
            member_from,
        )
        .await
    }

    async fn members(&self, workspace_id: &str) -> StoreResult<Vec<Member>> {
        self.rows(
            &format!("{MEMBER_SELECT} WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id"),
            &[workspace_id],
            member_from,
        )
        .await
    }

    async fn add_member(&self, member: &Member) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&member.workspace_id)
        .bind(&member.user_id)
        .bind(member.role.as_str())
        .bind(member.created_at)
        .bind(member.updated_at)
        .execute(&self.writer)
        .await
        .map_err(conflict)?;
        Ok(())
    }

    async fn set_member_role(
        &self,
        workspace_id: &str,
        user_id: &str,
        role: Role,
        at: i64,
    ) -> StoreResult<MemberChange> {
        let mut tx = self.serialized_tx(Lock::Members).await?;
        let Some((member, last_owner)) = Self::member_in(&mut tx, workspace_id, user_id).await?
        else {
            return Ok(MemberChange::NotFound);
        };
        if last_owner && role != Role::Owner {
            return Ok(MemberChange::LastOwner);
        }
        sqlx::query(
            "UPDATE workspace_members SET role = $1, updated_at = $2 \
             WHERE workspace_id = $3 AND user_id = $4",
        )
        .bind(role.as_str())
        .bind(at)
        .bind(workspace_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(MemberChange::Done(member))
    }

    async fn remove_member(&self, workspace_id: &str, user_id: &str) -> StoreResult<MemberChange> {
        let mut tx = self.serialized_tx(Lock::Members).await?;
        let Some((member, last_owner)) = Self::member_in(&mut tx, workspace_id, user_id).await?
        else {
            return Ok(MemberChange::NotFound);
        };
        if last_owner {
            return Ok(MemberChange::LastOwner);
        }
        sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(MemberChange::Done(member))
    }
}
