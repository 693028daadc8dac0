//! `/v1/policies` and `/v1/approvals`: rules evaluated on every agent token
//! issuance, and the requests a `require_approval` rule holds.

use serde::{Deserialize, Serialize};

use super::tokens::AgentToken;
use super::{args, ops, Core};
use crate::error::Result;

/// What a matching rule does to the issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Issue.
    Allow,
    /// Refuse with 403 `policy_denied`.
    Deny,
    /// Issue up to `limit.count` per `limit.window_secs` per agent.
    Throttle,
    /// Hold the request until the owner grants or rejects it.
    RequireApproval,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

/// A daily UTC window, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOfDay {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// Only `UTC`.
    pub tz: String,
}

/// What a rule applies to; every given criterion must hold, and an empty
/// match applies to every issuance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    /// Agent ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<String>>,
    /// Owner account ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<String>>,
    /// Scope names or `resource.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Exact `target_service` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_services: Option<Vec<String>>,
    /// A daily UTC window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_of_day: Option<TimeOfDay>,
}

/// A throttle's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleLimit {
    /// Issuances allowed per window.
    pub count: u32,
    /// Window length, seconds.
    pub window_secs: u64,
}

/// One rule of a policy (snake_case both ways, as the server stores it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// What happens when it matches.
    pub effect: Effect,
    /// When it matches.
    #[serde(rename = "match", default)]
    pub matcher: RuleMatch,
    /// Required for `throttle`, refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<RuleLimit>,
}

/// A policy as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInfo {
    /// `pol_…`.
    pub id: String,
    /// Human label.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// 0–10000; higher wins.
    pub priority: i64,
    /// Its rules.
    pub rules: Vec<Rule>,
    /// Inactive policies are not evaluated.
    pub is_active: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// What to create. The server's request fields are snake_case.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    /// 1–100 characters.
    pub name: String,
    /// Up to 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 0–10000 (server default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The rules.
    pub rules: Vec<Rule>,
    /// Server default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Replaces every rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    /// `false` stops the policy applying at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
}

/// `/v1/policies`.
#[derive(Debug, Clone, Copy)]
pub struct Policies<'a>(pub(super) &'a Core);

impl Policies<'_> {
    /// Creates a policy.
    pub async fn create(&self, policy: &NewPolicy) -> Result<PolicyInfo> {
        self.0.data(&ops::POLICIES_CREATE, args![policy]).await
    }

    /// Your policies, highest priority first.
    pub async fn list(&self) -> Result<Vec<PolicyInfo>> {
        self.0.data(&ops::POLICIES_LIST, args![]).await
    }

    /// One policy.
    pub async fn get(&self, id: &str) -> Result<PolicyInfo> {
        self.0.data(&ops::POLICIES_GET, args![id]).await
    }

    /// Changes a policy.
    pub async fn update(&self, id: &str, update: &PolicyUpdate) -> Result<PolicyInfo> {
        self.0.data(&ops::POLICIES_UPDATE, args![id, update]).await
    }

    /// Deletes a policy.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.no_content(&ops::POLICIES_DELETE, args![id]).await
    }
}

/// Where a held token request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApprovalStatus {
    /// Waiting for the owner.
    Pending,
    /// The token may be collected once.
    Granted,
    /// Refused.
    Rejected,
    /// The token was collected.
    Collected,
    /// A value this SDK version does not know yet (from a newer server).
    #[serde(other)]
    Unknown,
}

impl ApprovalStatus {
    /// The wire name, as the `status` filter takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Granted => "granted",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Collected => "collected",
            // Not a filter the server knows: it answers 422.
            ApprovalStatus::Unknown => "unknown",
        }
    }
}

/// A token request held by a `require_approval` rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// `apv_…`.
    pub id: String,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// The requesting agent.
    pub agent_id: String,
    /// The policy that held it.
    pub policy_id: String,
    /// Requested scopes.
    pub scope: Vec<String>,
    /// Requested lifetime, seconds.
    pub ttl: i64,
    /// Requested audience.
    pub target_service: String,
    /// Stated intent.
    pub intent: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub decided_at: Option<String>,
    /// RFC 3339.
    pub collected_at: Option<String>,
}

/// `/v1/approvals`.
#[derive(Debug, Clone, Copy)]
pub struct Approvals<'a>(pub(super) &'a Core);

impl Approvals<'_> {
    /// Your approvals, newest first, optionally in one status.
    pub async fn list(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        let status = status.map(ApprovalStatus::as_str);
        self.0.data(&ops::APPROVALS_LIST, args![status]).await
    }

    /// Grants a pending approval; the agent may then collect its token once.
    pub async fn grant(&self, id: &str) -> Result<Approval> {
        self.0.data(&ops::APPROVALS_GRANT, args![id]).await
    }

    /// Rejects a pending approval.
    pub async fn reject(&self, id: &str) -> Result<Approval> {
        self.0.data(&ops::APPROVALS_REJECT, args![id]).await
    }

    /// Collects a granted approval's token (once), with the session's
    /// credential (it needs `tokens.issue`).
    pub async fn collect(&self, id: &str) -> Result<AgentToken> {
        self.0.data(&ops::APPROVALS_COLLECT, args![id]).await
    }
}
