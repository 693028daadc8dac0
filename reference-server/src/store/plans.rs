//! Plan persistence: the limits behind 402 `quota_exceeded` that an
//! operator set for one holder. A holder is an account today; workspaces
//! add a [`Holder`] variant and nothing else here changes.

use crate::store::StoreResult;

/// Whose plan it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Holder {
    /// An account (`usr_…`), or a workspace: plans are keyed by workspace
    /// id, and an account's personal workspace has the account's id.
    Account(String),
}

impl Holder {
    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Holder::Account(_) => "account",
        }
    }
    /// The stored id.
    pub fn id(&self) -> &str {
        match self {
            Holder::Account(id) => id,
        }
    }
}

/// A plan's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// A label (`free`, `pro`, …); `default` for the server's defaults.
    pub name: String,
    /// Agents that are not revoked.
    pub max_agents: u64,
    /// Agent tokens issued per calendar month (UTC).
    pub max_tokens_per_month: u64,
    /// UNIX seconds of the last change; `None` for the defaults.
    pub updated_at: Option<i64>,
}

/// Storage of per-holder plans.
#[async_trait::async_trait]
pub trait PlanStore: Send + Sync {
    /// The plan set for `holder`; `None` when it has the defaults.
    async fn plan(&self, holder: &Holder) -> StoreResult<Option<Plan>>;
    /// Sets `holder`'s plan.
    async fn set_plan(&self, holder: &Holder, plan: &Plan) -> StoreResult<()>;
}
