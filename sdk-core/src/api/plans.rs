//! Plans: the limits behind 402 `quota_exceeded`. The caller's own plan
//! (`/v1/account/plan`) and the operator API that changes an account's
//! (`/v1/admin/accounts/{id}/plan`, with a key holding `operator.billing`).

use serde::{Deserialize, Serialize};

use super::{args, ops, Core};
use crate::error::Result;

/// Whose plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PlanHolder {
    /// `account`.
    pub kind: String,
    /// The holder's id.
    pub id: String,
}

/// A plan's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanLimits {
    /// Agents that are not revoked.
    pub agents: u64,
    /// Agent tokens per calendar month (UTC).
    pub tokens_per_month: u64,
}

/// What is used of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanUsage {
    /// Agents that are not revoked.
    pub agents: u64,
    /// Agent tokens issued this month.
    pub tokens_this_month: u64,
}

/// A holder's plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanInfo {
    /// Whose plan.
    pub holder: PlanHolder,
    /// The plan's label (`default` for the server's limits).
    pub plan: String,
    /// The limits.
    pub limits: PlanLimits,
    /// What is used.
    pub usage: PlanUsage,
    /// RFC 3339 of the last change; `None` for the defaults.
    pub updated_at: Option<String>,
}

/// An operator's change of a plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanChange {
    /// The label: 1-40 lowercase letters, digits, `_` or `-`.
    pub plan: String,
    /// Agents that are not revoked (at most 1,000,000).
    pub max_agents: u64,
    /// Agent tokens per month (at most 1,000,000,000).
    pub max_tokens_per_month: u64,
}

/// Plans.
#[derive(Debug, Clone, Copy)]
pub struct Plans<'a>(pub(super) &'a Core);

impl Plans<'_> {
    /// The caller's plan, limits and usage.
    pub async fn mine(&self) -> Result<PlanInfo> {
        self.0.data(&ops::PLANS_MINE, args![]).await
    }

    /// An account's plan (`operator.billing`).
    pub async fn get(&self, account_id: &str) -> Result<PlanInfo> {
        self.0.data(&ops::PLANS_GET, args![account_id]).await
    }

    /// Sets an account's plan (`operator.billing`); the account's webhooks
    /// get `billing.plan_upgraded` (or `billing.plan_downgraded`).
    pub async fn set(&self, account_id: &str, change: &PlanChange) -> Result<PlanInfo> {
        self.0
            .data(&ops::PLANS_SET, args![account_id, change])
            .await
    }
}
