//! Plans over HTTP: the caller's own plan and usage (`GET /v1/account/plan`)
//! and the operator API that changes an account's limits
//! (`/v1/admin/accounts/{id}/plan`, scope `operator.billing`, which no
//! preset holds). A workspace's plan will take the same views with a
//! `workspace` holder.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::state::AppState;
use crate::core::fields;
use crate::core::principal::Principal;
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::services::quota::month_bounds;
use crate::store::plans::{Holder, Plan};

/// The scope of the operator plan API.
const OPERATOR: &str = "operator.billing";
/// The largest agent limit an operator may set.
const MAX_AGENTS: u64 = 1_000_000;
/// The largest monthly token limit an operator may set.
const MAX_TOKENS_PER_MONTH: u64 = 1_000_000_000;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/account/plan", get(mine))
        .route("/v1/admin/accounts/{id}/plan", get(read).put(change))
}

/// Whose plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanHolder {
    /// `account` (workspaces will add `workspace`).
    #[schema(value_type = PlanHolderKind)]
    kind: &'static str,
    /// The holder's id (`usr_…`).
    id: String,
}

/// What a holder is.
#[derive(Debug)]
pub struct PlanHolderKind;

impl utoipa::PartialSchema for PlanHolderKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(["account"], "What holds the plan").into()
    }
}
impl utoipa::ToSchema for PlanHolderKind {}

/// The limits behind 402 `quota_exceeded`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanLimits {
    /// Agents that are not revoked.
    agents: u64,
    /// Agent tokens issued per calendar month (UTC).
    tokens_per_month: u64,
}

/// What is used of them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanUsage {
    /// Agents that are not revoked.
    agents: u64,
    /// Agent tokens issued this calendar month (UTC).
    tokens_this_month: u64,
}

/// A holder's plan (`#/components/schemas/Plan`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Plan)]
pub struct PlanView {
    /// Whose plan.
    holder: PlanHolder,
    /// The plan's label; `default` for the server's configured limits.
    #[schema(value_type = fields::PlanName)]
    plan: String,
    /// The limits.
    limits: PlanLimits,
    /// What is used.
    usage: PlanUsage,
    /// RFC 3339 of the last change; null for the defaults.
    #[schema(format = DateTime, required = true)]
    updated_at: Option<String>,
}

envelopes! {
    /// A plan, its limits and usage.
    PlanEnvelope(PlanView, Meta);
}

async fn view(state: &AppState, holder: &Holder, plan: Plan) -> Result<PlanView, ApiError> {
    let (month, _) = month_bounds(state.clock.now());
    let Holder::Account(account) = holder;
    Ok(PlanView {
        holder: PlanHolder {
            kind: holder.kind(),
            id: holder.id().to_owned(),
        },
        plan: plan.name,
        limits: PlanLimits {
            agents: plan.max_agents,
            tokens_per_month: plan.max_tokens_per_month,
        },
        usage: PlanUsage {
            agents: state.store.count_live_agents(account).await?,
            tokens_this_month: state.store.count_agent_tokens_since(account, month).await?,
        },
        updated_at: plan.updated_at.map(rfc3339),
    })
}

/// The plan holder `id`, or 404: a workspace, or an account, whose plan is
/// its personal workspace's (the same id).
async fn account(state: &AppState, id: &str) -> Result<Holder, ApiError> {
    state
        .store
        .workspace(id)
        .await?
        .map(|w| Holder::Account(w.id))
        .ok_or_else(|| ApiError::not_found("account"))
}

async fn answer(
    state: &AppState,
    rid: &RequestId,
    holder: &Holder,
) -> Result<Json<Value>, ApiError> {
    let plan = state.plans.of(holder).await?;
    let data = view(state, holder, plan).await?;
    Ok(envelope(data, rid, state.clock.now()))
}

#[utoipa::path(
    get,
    path = "/v1/account/plan",
    operation_id = "getAccountPlan",
    tag = "plans",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's plan, its limits and what is used", body = PlanEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.read`"),
    )
)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.read")?;
    answer(&state, &rid, &Holder::Account(caller.workspace.clone())).await
}

#[utoipa::path(
    get,
    path = "/v1/admin/accounts/{id}/plan",
    operation_id = "getAccountPlanAdmin",
    tag = "plans",
    params(("id" = String, Path, description = "The account (`usr_…`)")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The account's plan, its limits and what is used", body = PlanEnvelope),
        (status = 403, description = "`insufficient_scope`: no `operator.billing`"),
        (status = 404, description = "`not_found`: no such account"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(OPERATOR)?;
    let holder = account(&state, &id).await?;
    answer(&state, &rid, &holder).await
}

/// `PUT /v1/admin/accounts/{id}/plan`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ChangePlan)]
pub(crate) struct ChangeBody {
    /// The plan's label.
    #[schema(value_type = fields::PlanName)]
    plan: String,
    /// Agents that are not revoked.
    #[schema(minimum = 0, maximum = 1_000_000)]
    max_agents: u64,
    /// Agent tokens issued per calendar month (UTC).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    max_tokens_per_month: u64,
}

/// Sets an account's plan limits.
///
/// They apply at once: an account over a raised limit is no longer refused
/// with 402. The change is audited in the account's log
/// (`billing.plan_changed`) and sent to its webhooks as
/// `billing.plan_upgraded`, or `billing.plan_downgraded` when a limit went
/// down.
#[utoipa::path(
    put,
    path = "/v1/admin/accounts/{id}/plan",
    operation_id = "setAccountPlan",
    tag = "plans",
    params(("id" = String, Path, description = "The account (`usr_…`)")),
    request_body = ChangeBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The account's plan after the change", body = PlanEnvelope),
        (status = 403, description = "`insufficient_scope`: no `operator.billing`"),
        (status = 404, description = "`not_found`: no such account"),
    )
)]
pub(crate) async fn change(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<ChangeBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(OPERATOR)?;
    if !fields::PLAN_NAME.matches(&body.plan) {
        return Err(ApiError::validation(
            "`plan` must be 1-40 lowercase letters, digits, `_` or `-`",
        ));
    }
    if body.max_agents > MAX_AGENTS || body.max_tokens_per_month > MAX_TOKENS_PER_MONTH {
        return Err(ApiError::validation(format!(
            "`maxAgents` is at most {MAX_AGENTS} and `maxTokensPerMonth` at most {MAX_TOKENS_PER_MONTH}"
        )));
    }
    let holder = account(&state, &id).await?;
    let actor = caller.actor();
    let (_, after) = state
        .plans
        .change(
            &holder,
            &body.plan,
            body.max_agents,
            body.max_tokens_per_month,
            actor,
        )
        .await?;
    let data = view(&state, &holder, after).await?;
    Ok(envelope(data, &rid, state.clock.now()))
}
