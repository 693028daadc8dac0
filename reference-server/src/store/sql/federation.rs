//! The SQL side (SQLite and PostgreSQL) of [`FederationStore`].

use sqlx::Row;

use super::SqlStore;
use crate::store::federation::{CodeUse, FederationStore, PendingLogin, ProviderCode};
use crate::store::StoreResult;

#[async_trait::async_trait]
impl FederationStore for SqlStore {
    async fn insert_pending_login(
        &self,
        state_hash: &[u8],
        login: &PendingLogin,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO provider_logins (state_hash, provider, app_id, redirect_uri, app_state, \
             scope, nonce, code_verifier, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(state_hash)
        .bind(&login.provider)
        .bind(&login.app_id)
        .bind(&login.redirect_uri)
        .bind(&login.app_state)
        .bind(&login.scope)
        .bind(&login.nonce)
        .bind(&login.code_verifier)
        .bind(login.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn take_pending_login(&self, state_hash: &[u8]) -> StoreResult<Option<PendingLogin>> {
        let row = sqlx::query("DELETE FROM provider_logins WHERE state_hash = $1 RETURNING *")
            .bind(state_hash)
            .fetch_optional(&self.writer)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PendingLogin {
            provider: row.try_get("provider")?,
            app_id: row.try_get("app_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            app_state: row.try_get("app_state")?,
            scope: row.try_get("scope")?,
            nonce: row.try_get("nonce")?,
            code_verifier: row.try_get("code_verifier")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    async fn linked_user(&self, issuer: &str, subject: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM federated_identities WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        user_id: &str,
        at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO federated_identities (issuer, subject, user_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(at)
        .execute(&self.writer)
        .await
        .map_err(super::conflict)?;
        Ok(())
    }

    async fn insert_provider_code(&self, hash: &[u8], code: &ProviderCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO provider_codes (code_hash, app_id, user_id, provider, scope, new_user, \
             family_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hash)
        .bind(&code.app_id)
        .bind(&code.user_id)
        .bind(&code.provider)
        .bind(&code.scope)
        .bind(code.new_user)
        .bind(&code.family_id)
        .bind(code.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn use_provider_code(&self, hash: &[u8], at: i64) -> StoreResult<CodeUse> {
        // One statement, so two racing exchanges cannot both find it unspent.
        let row = sqlx::query(
            "UPDATE provider_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL \
             RETURNING *",
        )
        .bind(at)
        .bind(hash)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else {
            let spent: Option<String> =
                sqlx::query_scalar("SELECT family_id FROM provider_codes WHERE code_hash = $1")
                    .bind(hash)
                    .fetch_optional(&self.writer)
                    .await?;
            return Ok(
                spent.map_or(CodeUse::Unknown, |family_id| CodeUse::Replayed {
                    family_id,
                }),
            );
        };
        Ok(CodeUse::Fresh(ProviderCode {
            app_id: row.try_get("app_id")?,
            user_id: row.try_get("user_id")?,
            provider: row.try_get("provider")?,
            scope: row.try_get("scope")?,
            new_user: super::flag(&row, "new_user")?,
            family_id: row.try_get("family_id")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }
}
