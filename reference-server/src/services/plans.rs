//! Plans: the limits behind 402 `quota_exceeded`, per holder (an account
//! today, a workspace once they exist: a new [`Holder`] variant). A holder
//! without a plan of its own has the server's configured defaults. A
//! change is audited and sent as `billing.plan_upgraded` (or
//! `billing.plan_downgraded` when any limit went down).

use std::sync::Arc;

use serde_json::json;

use crate::core::audit::Event;
use crate::core::clock::Clock;
use crate::services::audit::AuditLog;
use crate::services::webhooks::Webhooks;
use crate::store::plans::{Holder, Plan};
use crate::store::{Store, StoreResult};

/// The event a change that lowers no limit sends.
pub const UPGRADED: &str = "billing.plan_upgraded";
/// The event a change that lowers a limit sends.
pub const DOWNGRADED: &str = "billing.plan_downgraded";

/// The plan service, on `AppState::plans` (cheap to clone).
#[derive(Debug, Clone)]
pub struct Plans {
    store: Arc<dyn Store>,
    audit: AuditLog,
    webhooks: Webhooks,
    clock: Arc<Clock>,
    defaults: Arc<Plan>,
}

impl Plans {
    /// The service; `defaults` applies to holders without a plan.
    pub fn new(
        store: Arc<dyn Store>,
        audit: AuditLog,
        webhooks: Webhooks,
        clock: Arc<Clock>,
        defaults: Plan,
    ) -> Self {
        Self {
            store,
            audit,
            webhooks,
            clock,
            defaults: Arc::new(defaults),
        }
    }

    /// `holder`'s plan (cached in the store).
    pub async fn of(&self, holder: &Holder) -> StoreResult<Plan> {
        Ok(self
            .store
            .plan(holder)
            .await?
            .unwrap_or_else(|| (*self.defaults).clone()))
    }

    /// The account whose log and webhooks hear about `holder`.
    fn account(holder: &Holder) -> &str {
        match holder {
            Holder::Account(id) => id,
        }
    }

    /// Sets `holder`'s plan to `name` with these limits, done by `actor`;
    /// returns the plan before and after.
    pub async fn change(
        &self,
        holder: &Holder,
        name: &str,
        max_agents: u64,
        max_tokens_per_month: u64,
        actor: &str,
    ) -> StoreResult<(Plan, Plan)> {
        let before = self.of(holder).await?;
        let after = Plan {
            name: name.to_owned(),
            max_agents,
            max_tokens_per_month,
            updated_at: Some(self.clock.now()),
        };
        self.store.set_plan(holder, &after).await?;
        let limits =
            |p: &Plan| json!({ "agents": p.max_agents, "tokensPerMonth": p.max_tokens_per_month });
        let data = json!({
            "holder": { "kind": holder.kind(), "id": holder.id() },
            "from": { "plan": before.name, "limits": limits(&before) },
            "to": { "plan": after.name, "limits": limits(&after) },
        });
        let account = Self::account(holder);
        self.audit
            .record(
                Event::new("billing.plan_changed")
                    .account(account)
                    .actor(actor)
                    .subject(holder.id())
                    .data(data.clone()),
            )
            .await?;
        let lowered = after.max_agents < before.max_agents
            || after.max_tokens_per_month < before.max_tokens_per_month;
        let event = if lowered { DOWNGRADED } else { UPGRADED };
        self.webhooks.emit(account, event, data).await?;
        Ok((before, after))
    }
}
