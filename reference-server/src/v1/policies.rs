//! `/v1/policies` and `/v1/approvals`: the rules evaluated on every agent
//! token issuance (see [`crate::policy`]), and the approvals that a
//! `require_approval` rule holds until the owner grants or rejects them. A
//! granted approval's token is collected once, authenticated exactly like
//! issuance, and minted by the issuance code.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::ApiBody;
use crate::crypto;
use crate::envelope::{envelope, rfc3339, RequestId};
use crate::error::ApiError;
use crate::policy::{self, Policy, Rule};
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::{Approval, ApprovalStatus};
use crate::v1::agent_tokens::{self, Caller, Grant};

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

/// The public view of a policy.
pub fn view(p: &Policy) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "priority": p.priority,
        "rules": p.rules,
        "isActive": p.is_active,
        "createdAt": rfc3339(p.created_at),
        "updatedAt": rfc3339(p.updated_at),
    })
}

/// The public view of an approval.
pub fn approval_view(a: &Approval) -> Value {
    json!({
        "id": a.id,
        "status": a.status.as_str(),
        "agentId": a.agent_id,
        "policyId": a.policy_id,
        "scope": a.scope,
        "ttl": a.ttl,
        "targetService": a.target_service,
        "intent": a.intent,
        "createdAt": rfc3339(a.created_at),
        "decidedAt": a.decided_at.map(rfc3339),
        "collectedAt": a.collected_at.map(rfc3339),
    })
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name must be 1-100 characters"));
    }
    Ok(name.to_owned())
}

fn check_description(d: Option<String>) -> Result<Option<String>, ApiError> {
    let d = d.map(|d| d.trim().to_owned());
    if d.as_ref().is_some_and(|d| d.chars().count() > 1000) {
        return Err(ApiError::validation(
            "description is limited to 1000 characters",
        ));
    }
    Ok(d)
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    name: String,
    description: Option<String>,
    /// 0-10000, default 100; higher wins.
    priority: Option<i64>,
    /// `[{effect: allow|deny|throttle|require_approval, match: {agents?, owners?, scopes? (names or `resource.*`), target_services?, time_of_day?: {start: "HH:MM", end: "HH:MM", tz: "UTC"}}, limit?: {count, window_secs}}]`; `limit` is required for throttle and refused otherwise.
    #[schema(value_type = Vec<Object>)]
    rules: Vec<Rule>,
    /// Default true.
    is_active: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/v1/policies",
    tag = "policies",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.write`)"), (status = 422, description = "Invalid field, rule, time or priority", content_type = "application/problem+json"))
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
        owner_id: caller.account.clone(),
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
            &caller.account,
            "policy.created",
            json!({ "policyId": policy.id, "name": policy.name, "isActive": policy.is_active }),
        )
        .await?;
    Ok((StatusCode::CREATED, envelope(view(&policy), &rid, now)))
}

#[utoipa::path(
    get,
    path = "/v1/policies",
    tag = "policies",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The caller's policies, highest priority first, then newest"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.read`)"))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.read")?;
    let policies = state.store.policies_of(&caller.account, false).await?;
    let data: Vec<Value> = policies.iter().map(view).collect();
    Ok(envelope(data.into(), &rid, state.clock.now()))
}

async fn owned(state: &AppState, caller: &Principal, id: &str) -> Result<Policy, ApiError> {
    state
        .store
        .policy(id, &caller.account)
        .await?
        .ok_or_else(|| ApiError::not_found("policy"))
}

#[utoipa::path(
    get,
    path = "/v1/policies/{id}",
    tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One policy"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    name: Option<String>,
    description: Option<String>,
    priority: Option<i64>,
    /// Replaces every rule.
    #[schema(value_type = Option<Vec<Object>>)]
    rules: Option<Vec<Rule>>,
    is_active: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/v1/policies/{id}",
    tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Updated; `is_active: false` stops it applying at once"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.write`)"), (status = 422, description = "Invalid field", content_type = "application/problem+json"))
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
                &caller.account,
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
    tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.write`)"))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("policies.write")?;
    if !state.store.delete_policy(&id, &caller.account).await? {
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
    tag = "policies",
    params(("status" = Option<String>, Query, description = "pending, granted, rejected or collected")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The caller's approvals, newest first"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.read`)"), (status = 422, description = "Invalid status", content_type = "application/problem+json"))
)]
pub(crate) async fn approvals(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    caller.require("policies.read")?;
    let params: ApprovalParams = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::validation(e.to_string()))?;
    let status = match params.status.as_deref() {
        None => None,
        Some(s) => Some(ApprovalStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status must be pending, granted, rejected or collected")
        })?),
    };
    let list = state.store.approvals_of(&caller.account, status).await?;
    let data: Vec<Value> = list.iter().map(approval_view).collect();
    Ok(envelope(data.into(), &rid, state.clock.now()))
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
        .filter(|a| a.owner_id == caller.account)
        .ok_or_else(|| ApiError::not_found("approval"))?;
    let now = state.clock.now();
    if !state
        .store
        .move_approval(&id, &caller.account, ApprovalStatus::Pending, to, now)
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
    tag = "policies",
    params(("id" = String, Path, description = "Approval id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Granted; the agent may collect its token once"), (status = 404, description = "Not found"), (status = 409, description = "Not pending"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.write`)"))
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
    tag = "policies",
    params(("id" = String, Path, description = "Approval id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Rejected"), (status = 404, description = "Not found"), (status = 409, description = "Not pending"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope (`policies.write`)"))
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
    tag = "policies",
    params(("id" = String, Path, description = "Approval id")),
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "The token for the originally requested scope, ttl, target_service and intent, as from `POST /v1/tokens`. Authenticate as for issuance: the agent's RFC 9421 signature, or a credential with `tokens.issue`"),
        (status = 401, description = "Missing or invalid signature or credentials", content_type = "application/problem+json"),
        (status = 403, description = "`approval_rejected`, insufficient scope, or the agent is not active", content_type = "application/problem+json"),
        (status = 404, description = "Not found", content_type = "application/problem+json"),
        (status = 409, description = "`approval_pending`, or `approval_collected` (already collected)", content_type = "application/problem+json")
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
            Caller::Credential(p) => p.account == a.owner_id,
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
            &approval.owner_id,
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
