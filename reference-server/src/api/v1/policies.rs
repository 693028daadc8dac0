//! `/v1/policies` and `/v1/approvals`: the rules evaluated on every agent
//! token issuance (see [`crate::core::policy`]), and the approvals that a
//! `require_approval` rule holds until the owner grants or rejects them. A
//! granted approval's token is collected once, authenticated exactly like
//! issuance, and minted by the issuance code.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::v1::agent_tokens::{self, Caller, Grant};
use crate::api::v1::approvals::{
    approval_view, ApprovalEnvelope, ApprovalListEnvelope, ApprovalView,
};
use crate::app::state::AppState;
use crate::core::policy::{self, Policy, Rule};
use crate::core::principal::Principal;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::ApprovalStatus;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/policies", post(create).get(list))
        .route("/v1/policies/{id}", get(read).patch(update).delete(remove))
        .route("/v1/approvals", get(approvals))
        .route("/v1/approvals/{id}/grant", post(grant))
        .route("/v1/approvals/{id}/reject", post(reject))
        .route("/v1/approvals/{id}/token", post(collect))
}

/// A policy as the API shows it (`#/components/schemas/Policy`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Policy)]
pub struct PolicyView {
    /// `pol_…`.
    id: String,
    /// Its name.
    name: String,
    /// Its description, if any.
    #[schema(required = true)]
    description: Option<String>,
    /// 0-10000; higher wins.
    #[schema(minimum = 0, maximum = 10000)]
    priority: i64,
    /// The rules, in order.
    rules: Vec<Rule>,
    /// Only active policies are evaluated.
    is_active: bool,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    updated_at: String,
}

envelopes! {
    /// One policy.
    PolicyEnvelope(PolicyView, Meta);
    /// The caller's policies.
    PolicyListEnvelope(Vec<PolicyView>, Meta);
}

/// The public view of a policy.
pub fn view(p: &Policy) -> PolicyView {
    PolicyView {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        priority: p.priority,
        rules: p.rules.clone(),
        is_active: p.is_active,
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    if !fields::NAME.matches(name) {
        return Err(ApiError::validation("name must be 1-100 characters"));
    }
    Ok(name.trim().to_owned())
}

fn check_description(d: Option<String>) -> Result<Option<String>, ApiError> {
    if d.as_deref()
        .is_some_and(|d| !fields::DESCRIPTION.matches(d))
    {
        return Err(ApiError::validation(
            "description is limited to 1000 characters",
        ));
    }
    Ok(d.map(|d| d.trim().to_owned()))
}

fn check_priority(p: i64) -> Result<i64, ApiError> {
    if !policy::PRIORITY_RANGE.contains(&p) {
        return Err(ApiError::validation(format!(
            "priority must be {}-{}",
            policy::PRIORITY_RANGE.start(),
            policy::PRIORITY_RANGE.end()
        )));
    }
    Ok(p)
}

fn check_rules(mut rules: Vec<Rule>) -> Result<Vec<Rule>, ApiError> {
    policy::validate(&mut rules).map_err(ApiError::validation)?;
    Ok(rules)
}

/// `POST /v1/policies`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreatePolicy)]
pub(crate) struct CreateBody {
    #[schema(value_type = fields::Name)]
    name: String,
    #[schema(value_type = Option<fields::Description>)]
    description: Option<String>,
    /// 0-10000, default 100; higher wins.
    #[schema(minimum = 0, maximum = 10000)]
    priority: Option<i64>,
    /// 1-100 rules, in order.
    #[serde(deserialize_with = "crate::core::json::objects")]
    #[schema(min_items = 1, max_items = 100)]
    rules: Vec<Rule>,
    /// Default true.
    is_active: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/v1/policies",
    operation_id = "createPolicy",
    tag = "policies",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created", body = PolicyEnvelope),
        (status = 403, description = "`insufficient_scope`: no `policies.write`"),
        (status = 422, description = "`validation_failed`: an invalid field, rule, time or priority"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("policies.write")?;
    let now = state.clock.now();
    let policy = Policy {
        id: crypto::new_id("pol_"),
        workspace_id: caller.workspace.clone(),
        name: check_name(&body.name)?,
        description: check_description(body.description)?,
        priority: check_priority(body.priority.unwrap_or(policy::DEFAULT_PRIORITY))?,
        rules: check_rules(body.rules)?,
        is_active: body.is_active.unwrap_or(true),
        created_at: now,
        updated_at: now,
    };
    state.store.create_policy(&policy).await?;
    tracing::info!(id = %policy.id, "policy created");
    state
        .webhooks
        .emit(
            &caller.workspace,
            "policy.created",
            json!({ "policyId": policy.id, "name": policy.name, "isActive": policy.is_active }),
        )
        .await?;
    Ok((StatusCode::CREATED, envelope(view(&policy), &rid, now)))
}

#[utoipa::path(
    get,
    path = "/v1/policies",
    operation_id = "listPolicies",
    tag = "policies",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's policies, highest priority first, then newest", body = PolicyListEnvelope),
        (status = 403, description = "`insufficient_scope`: no `policies.read`"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.read")?;
    let policies = state.store.policies_of(&caller.workspace, false).await?;
    let data: Vec<PolicyView> = policies.iter().map(view).collect();
    Ok(envelope(data, &rid, state.clock.now()))
}

async fn owned(state: &AppState, caller: &Principal, id: &str) -> Result<Policy, ApiError> {
    state
        .store
        .policy(id, &caller.workspace)
        .await?
        .ok_or_else(|| ApiError::not_found("policy"))
}

#[utoipa::path(
    get,
    path = "/v1/policies/{id}",
    operation_id = "getPolicy",
    tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One policy", body = PolicyEnvelope),
        (status = 404, description = "`not_found`: no such policy of the caller's"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.read")?;
    let policy = owned(&state, &caller, &id).await?;
    Ok(envelope(view(&policy), &rid, state.clock.now()))
}

/// `PATCH /v1/policies/{id}`: at least one field, not null; what is given
/// replaces what was.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdatePolicy)]
pub(crate) struct UpdateBody {
    #[schema(value_type = Option<fields::Name>)]
    name: Option<String>,
    #[schema(value_type = Option<fields::Description>)]
    description: Option<String>,
    /// 0-10000; higher wins.
    #[schema(minimum = 0, maximum = 10000)]
    priority: Option<i64>,
    /// Replaces every rule (1-100).
    #[serde(default, deserialize_with = "crate::core::json::optional_objects")]
    #[schema(min_items = 1, max_items = 100)]
    rules: Option<Vec<Rule>>,
    is_active: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/v1/policies/{id}",
    operation_id = "updatePolicy",
    tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated; `is_active: false` stops it applying at once", body = PolicyEnvelope),
        (status = 403, description = "`insufficient_scope`: no `policies.write`"),
        (status = 404, description = "`not_found`: no such policy of the caller's"),
        (status = 422, description = "`validation_failed`: an invalid field, or none given"),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.write")?;
    let mut policy = owned(&state, &caller, &id).await?;
    let was_active = policy.is_active;
    if body.name.is_none()
        && body.description.is_none()
        && body.priority.is_none()
        && body.rules.is_none()
        && body.is_active.is_none()
    {
        return Err(ApiError::validation(
            "give at least one of name, description, priority, rules or is_active",
        ));
    }
    if let Some(name) = body.name {
        policy.name = check_name(&name)?;
    }
    if body.description.is_some() {
        policy.description = check_description(body.description)?;
    }
    if let Some(p) = body.priority {
        policy.priority = check_priority(p)?;
    }
    if let Some(rules) = body.rules {
        policy.rules = check_rules(rules)?;
    }
    if let Some(active) = body.is_active {
        policy.is_active = active;
    }
    let now = state.clock.now();
    policy.updated_at = now;
    if !state.store.update_policy(&policy).await? {
        return Err(ApiError::not_found("policy"));
    }
    tracing::info!(id = %policy.id, active = policy.is_active, "policy updated");
    if was_active && !policy.is_active {
        state
            .webhooks
            .emit(
                &caller.workspace,
                "policy.deactivated",
                json!({ "policyId": policy.id, "name": policy.name }),
            )
            .await?;
    }
    Ok(envelope(view(&policy), &rid, now))
}

#[utoipa::path(
    delete,
    path = "/v1/policies/{id}",
    operation_id = "deletePolicy",
    tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`insufficient_scope`: no `policies.write`"),
        (status = 404, description = "`not_found`: no such policy of the caller's"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("policies.write")?;
    if !state.store.delete_policy(&id, &caller.workspace).await? {
        return Err(ApiError::not_found("policy"));
    }
    tracing::info!(id = %id, "policy deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
struct ApprovalParams {
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/approvals",
    operation_id = "listApprovals",
    tag = "policies",
    params(("status" = Option<ApprovalStatus>, Query, description = "Only approvals in this status")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's approvals, newest first", body = ApprovalListEnvelope),
        (status = 403, description = "`insufficient_scope`: no `policies.read`"),
        (status = 422, description = "`validation_failed`: an unknown status"),
    )
)]
pub(crate) async fn approvals(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.read")?;
    let params: ApprovalParams = crate::http::query::parse(query.as_deref())?;
    let status = match params.status.as_deref() {
        None => None,
        Some(s) => Some(ApprovalStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status must be pending, granted, rejected or collected")
        })?),
    };
    let list = state.store.approvals_of(&caller.workspace, status).await?;
    let data: Vec<ApprovalView> = list.iter().map(approval_view).collect();
    Ok(envelope(data, &rid, state.clock.now()))
}

async fn decide(
    state: AppState,
    rid: RequestId,
    caller: Principal,
    id: String,
    to: ApprovalStatus,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.write")?;
    let found = state
        .store
        .approval(&id)
        .await?
        .filter(|a| a.workspace_id == caller.workspace)
        .ok_or_else(|| ApiError::not_found("approval"))?;
    let now = state.clock.now();
    if !state
        .store
        .move_approval(&id, &caller.workspace, ApprovalStatus::Pending, to, now)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "approval_decided",
            format!("the approval is already {}", found.status.as_str()),
        ));
    }
    tracing::info!(id = %id, status = to.as_str(), "approval decided");
    let approval = state
        .store
        .approval(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    Ok(envelope(approval_view(&approval), &rid, now))
}

#[utoipa::path(
    post,
    path = "/v1/approvals/{id}/grant",
    operation_id = "grantApproval",
    tag = "policies",
    params(("id" = String, Path, description = "Approval id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Granted; the agent may collect its token once", body = ApprovalEnvelope),
        (status = 403, description = "`insufficient_scope`: no `policies.write`"),
        (status = 404, description = "`not_found`: no such approval of the caller's"),
        (status = 409, description = "`approval_decided`: it is no longer pending"),
    )
)]
pub(crate) async fn grant(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    decide(state, rid, caller, id, ApprovalStatus::Granted).await
}

#[utoipa::path(
    post,
    path = "/v1/approvals/{id}/reject",
    operation_id = "rejectApproval",
    tag = "policies",
    params(("id" = String, Path, description = "Approval id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Rejected", body = ApprovalEnvelope),
        (status = 403, description = "`insufficient_scope`: no `policies.write`"),
        (status = 404, description = "`not_found`: no such approval of the caller's"),
        (status = 409, description = "`approval_decided`: it is no longer pending"),
    )
)]
pub(crate) async fn reject(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    decide(state, rid, caller, id, ApprovalStatus::Rejected).await
}

#[utoipa::path(
    post,
    path = "/v1/approvals/{id}/token",
    operation_id = "collectApprovedToken",
    tag = "policies",
    params(("id" = String, Path, description = "Approval id")),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "The token for the originally requested scope, ttl, target_service and intent, as from `POST /v1/tokens`. Authenticate as for issuance: the agent's RFC 9421 signature, or a credential with `tokens.issue`", body = crate::api::v1::agent_tokens::AgentTokenEnvelope),
        (status = 401, description = "`missing_credentials`, `invalid_token`, `invalid_signature` or `replayed_nonce`"),
        (status = 402, description = "`quota_exceeded`: the plan's monthly token limit is reached (`limit`, `usage`, `resetsAt`)"),
        (status = 403, description = "`approval_rejected`, `insufficient_scope`, `agent_inactive`, or `account_disabled` (the owner is disabled by moderation)"),
        (status = 404, description = "`not_found`: no such approval of the caller's (or its agent's)"),
        (status = 409, description = "`approval_pending`, or `approval_collected` (already collected)"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB"),
        (status = 429, description = "`rate_limited`: the agent or credential is over its rate limit; see `Retry-After`"),
    )
)]
pub(crate) async fn collect(
    State(state): State<AppState>,
    rid: RequestId,
    Path(id): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (mut parts, bytes) = agent_tokens::read_body(request).await?;
    let caller = agent_tokens::authenticate(&state, &mut parts, &bytes).await?;
    let approval = state
        .store
        .approval(&id)
        .await?
        .filter(|a| match &caller {
            Caller::Agent(agent) => agent.id == a.agent_id,
            Caller::Credential(p) => p.workspace == a.workspace_id,
        })
        .ok_or_else(|| ApiError::not_found("approval"))?;
    match approval.status {
        ApprovalStatus::Granted => {}
        ApprovalStatus::Pending => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "approval_pending",
                "the approval is still pending",
            ))
        }
        ApprovalStatus::Rejected => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "approval_rejected",
                "the approval was rejected",
            ))
        }
        ApprovalStatus::Collected => return Err(already_collected()),
    }
    let agent = state
        .store
        .agent(&approval.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let grant = Grant {
        scope: approval.scope,
        ttl: approval.ttl,
        target_service: approval.target_service,
        intent: approval.intent,
    };
    agent_tokens::check_grant(&state, &caller, &agent, &grant)?;
    let now = state.clock.now();
    if !state
        .store
        .move_approval(
            &id,
            &approval.workspace_id,
            ApprovalStatus::Granted,
            ApprovalStatus::Collected,
            now,
        )
        .await?
    {
        return Err(already_collected());
    }
    agent_tokens::mint(&state, &rid, &agent, &grant).await
}

fn already_collected() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "approval_collected",
        "the approval's token was already collected",
    )
}
