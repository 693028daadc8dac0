//! The public view of an approval: a token request a `require_approval`
//! policy held. Issuance (`/v1/tokens`) answers with one, and `/v1/approvals`
//! lists and decides them.

use serde::Serialize;

use crate::core::fields;
use crate::http::envelope::{envelopes, rfc3339, Meta};
use crate::store::{Approval, ApprovalStatus};

/// A token request held by a `require_approval` rule
/// (`#/components/schemas/Approval`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Approval)]
pub struct ApprovalView {
    /// `apv_…`.
    id: String,
    /// Where it stands.
    status: ApprovalStatus,
    /// The agent that asked.
    agent_id: String,
    /// The policy that held it.
    policy_id: String,
    /// The scopes asked for.
    #[schema(value_type = Vec<fields::Scope>)]
    scope: Vec<String>,
    /// The lifetime asked for, seconds.
    ttl: i64,
    /// The audience asked for.
    target_service: String,
    /// The stated intent.
    #[schema(required = true)]
    intent: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339; null while pending.
    #[schema(format = DateTime, required = true)]
    decided_at: Option<String>,
    /// RFC 3339; null until the token is collected.
    #[schema(format = DateTime, required = true)]
    collected_at: Option<String>,
}

envelopes! {
    /// One approval.
    ApprovalEnvelope(ApprovalView, Meta);
    /// The caller's approvals.
    ApprovalListEnvelope(Vec<ApprovalView>, Meta);
}

/// The public view of an approval.
pub fn approval_view(a: &Approval) -> ApprovalView {
    ApprovalView {
        id: a.id.clone(),
        status: a.status,
        agent_id: a.agent_id.clone(),
        policy_id: a.policy_id.clone(),
        scope: a.scope.clone(),
        ttl: a.ttl,
        target_service: a.target_service.clone(),
        intent: a.intent.clone(),
        created_at: rfc3339(a.created_at),
        decided_at: a.decided_at.map(rfc3339),
        collected_at: a.collected_at.map(rfc3339),
    }
}
