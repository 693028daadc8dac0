//! The SQL side (SQLite and PostgreSQL) of [`TrustStore`]: moderation states (cached: every token
//! issuance and message reads one) and reports.

use sqlx::Row;

use super::SqlStore;
use crate::core::trust::ModerationState;
use crate::store::changes::Change;
use crate::store::trust::{Moderation, Report, TrustStore};
use crate::store::{StoreError, StoreResult};

#[async_trait::async_trait]
impl TrustStore for SqlStore {
    async fn moderation(&self, user_id: &str) -> StoreResult<Option<Moderation>> {
        self.caches.moderation
            .get_or_load(user_id, || async {
                let row = sqlx::query(
                    "SELECT state, reason, automatic, updated_at FROM moderation WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    let state: String = r.try_get("state")?;
                    Ok(Moderation {
                        state: ModerationState::parse(&state).ok_or_else(|| {
                            StoreError::Corrupt(format!("moderation state {state}"))
                        })?,
                        reason: r.try_get("reason")?,
                        automatic: super::flag(&r, "automatic")?,
                        updated_at: r.try_get("updated_at")?,
                    })
                })
                .transpose()
            })
            .await
    }

    async fn set_moderation(&self, user_id: &str, m: &Moderation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO moderation (user_id, state, reason, automatic, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
             state = excluded.state, reason = excluded.reason, \
             automatic = excluded.automatic, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(m.state.as_str())
        .bind(&m.reason)
        .bind(m.automatic)
        .bind(m.updated_at)
        .execute(&self.writer)
        .await?;
        self.publish(Change::Moderation).await;
        Ok(())
    }

    async fn add_report(&self, r: &Report) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO reports (id, user_id, app_id, reporter_account, reason, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&r.id)
        .bind(&r.user_id)
        .bind(&r.app_id)
        .bind(&r.reporter_account)
        .bind(&r.reason)
        .bind(&r.details)
        .bind(r.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn report_counts(&self, user_id: &str, since: i64) -> StoreResult<(u64, u64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT reporter_account) AS accounts \
             FROM reports WHERE user_id = $1 AND created_at >= $2",
        )
        .bind(user_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let count = |name: &str| -> StoreResult<u64> {
            Ok(u64::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
        };
        Ok((count("n")?, count("accounts")?))
    }
}
