//! The SQL side (SQLite and PostgreSQL) of [`PlanStore`] (cached: every agent creation and token
//! issuance reads its holder's plan).

use sqlx::Row;

use super::SqlStore;
use crate::store::changes::Change;
use crate::store::plans::{Holder, Plan, PlanStore};
use crate::store::StoreResult;

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[async_trait::async_trait]
impl PlanStore for SqlStore {
    async fn plan(&self, holder: &Holder) -> StoreResult<Option<Plan>> {
        self.caches
            .plans
            .get_or_load(holder, || async {
                let row = sqlx::query(
                    "SELECT name, max_agents, max_tokens_per_month, updated_at FROM plans \
                     WHERE holder_kind = $1 AND holder_id = $2",
                )
                .bind(holder.kind())
                .bind(holder.id())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok(Plan {
                        name: r.try_get("name")?,
                        max_agents: count(r.try_get("max_agents")?),
                        max_tokens_per_month: count(r.try_get("max_tokens_per_month")?),
                        updated_at: Some(r.try_get("updated_at")?),
                    })
                })
                .transpose()
            })
            .await
    }

    async fn set_plan(&self, holder: &Holder, plan: &Plan) -> StoreResult<()> {
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO plans (holder_kind, holder_id, name, max_agents, max_tokens_per_month, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (holder_kind, holder_id) DO UPDATE SET \
             name = excluded.name, max_agents = excluded.max_agents, \
             max_tokens_per_month = excluded.max_tokens_per_month, updated_at = excluded.updated_at",
        )
        .bind(holder.kind())
        .bind(holder.id())
        .bind(&plan.name)
        .bind(signed(plan.max_agents))
        .bind(signed(plan.max_tokens_per_month))
        .bind(plan.updated_at.unwrap_or_default())
        .execute(&self.writer)
        .await?;
        self.publish(Change::Plans).await;
        Ok(())
    }
}
