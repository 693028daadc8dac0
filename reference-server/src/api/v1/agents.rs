//! `/v1/agents`: AI agent identities. Creating one returns its Ed25519 key
//! (`sgl_ask_` + base64url seed) once; only the public key is stored. Pausing
//! or revoking an agent blocks every token it holds at once, in memory, so
//! `POST /v1/tokens/verify` refuses them without reading the database.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::principal::Principal;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, PageMeta, RequestId};
use crate::store::plans::Holder;
use crate::store::{Agent, AgentStatus};

/// Prefix of an agent key.
pub const AGENT_KEY_PREFIX: &str = "sgl_ask_";

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/agents", post(create).get(list))
        .route("/v1/agents/{id}", get(read))
        .route("/v1/agents/{id}/pause", post(pause))
        .route("/v1/agents/{id}/resume", post(resume))
        .route("/v1/agents/{id}/revoke", post(revoke))
}

/// An agent as the API shows it (`#/components/schemas/Agent`): never its key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Agent)]
pub struct AgentView {
    /// `agt_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description, if any.
    #[schema(required = true)]
    pub description: Option<String>,
    /// Whether its tokens verify (`active`) or not.
    pub status: AgentStatus,
    /// The Ed25519 public key: 32 bytes, base64url without padding.
    pub public_key: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A new agent with its key (`#/components/schemas/CreatedAgent`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAgent {
    #[serde(flatten)]
    agent: AgentView,
    /// The Ed25519 agent key (`sgl_ask_` + base64url seed), shown only here.
    agent_key: String,
}

envelopes! {
    /// One agent.
    AgentEnvelope(AgentView, Meta);
    /// A new agent, with its key.
    CreatedAgentEnvelope(CreatedAgent, Meta);
    /// A page of agents, newest first.
    AgentListEnvelope(Vec<AgentView>, PageMeta);
}

/// The public view of an agent (never its key).
pub fn view(a: &Agent) -> AgentView {
    AgentView {
        id: a.id.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        status: a.status,
        public_key: URL_SAFE_NO_PAD.encode(&a.public_key),
        created_at: rfc3339(a.created_at),
        updated_at: rfc3339(a.updated_at),
    }
}

/// `POST /v1/agents`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateAgent)]
pub(crate) struct CreateBody {
    #[schema(value_type = fields::Name)]
    name: String,
    #[schema(value_type = Option<fields::Description>)]
    description: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/agents",
    operation_id = "createAgent",
    tag = "agents",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created; `data.agentKey` is the Ed25519 key, shown once", body = CreatedAgentEnvelope),
        (status = 402, description = "`quota_exceeded`: the plan's agent limit is reached (`limit`, `usage`)"),
        (status = 403, description = "`insufficient_scope`: no `agents.write`"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("agents.write")?;
    if !fields::NAME.matches(&body.name) {
        return Err(ApiError::validation("name must be 1-100 characters"));
    }
    let name = body.name.trim();
    if body
        .description
        .as_deref()
        .is_some_and(|d| !fields::DESCRIPTION.matches(d))
    {
        return Err(ApiError::validation(
            "description is limited to 1000 characters",
        ));
    }
    let description = body.description.map(|d| d.trim().to_owned());
    // A plan belongs to a workspace; an account's is its personal
    // workspace's, which has the account's id.
    let plan = state
        .plans
        .of(&Holder::Account(caller.workspace.clone()))
        .await?;
    crate::services::quota::check_agents(state.store.as_ref(), &caller.workspace, plan.max_agents)
        .await?;
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).expect("the operating system's random source failed");
    let public_key = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes()
        .to_vec();
    let agent_key = format!("{AGENT_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(seed));
    let now = state.clock.now();
    let agent = Agent {
        id: crypto::new_id("agt_"),
        workspace_id: caller.workspace.clone(),
        name: name.to_owned(),
        description,
        public_key,
        status: AgentStatus::Active,
        created_at: now,
        updated_at: now,
    };
    state.store.create_agent(&agent).await?;
    tracing::info!(id = %agent.id, "agent created");
    state
        .audit
        .record(
            Event::by("agent.created", &caller)
                .subject(&agent.id)
                .data(json!({ "name": agent.name })),
        )
        .await?;
    state
        .webhooks
        .emit(
            &caller.workspace,
            "agent.created",
            json!({ "agentId": agent.id, "name": agent.name }),
        )
        .await?;
    let data = CreatedAgent {
        agent: view(&agent),
        agent_key,
    };
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    limit: Option<String>,
    offset: Option<String>,
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/agents",
    operation_id = "listAgents",
    tag = "agents",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 20"),
        ("offset" = Option<u64>, Query, minimum = 0, maximum = 4294967295.0, description = "Agents to skip (0-4294967295), default 0"),
        ("status" = Option<AgentStatus>, Query, description = "Only agents in this status"),
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Agents, newest first; `meta.hasMore` tells whether more follow", body = AgentListEnvelope),
        (status = 422, description = "`validation_failed`: a query parameter is out of range"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    caller.require("agents.read")?;
    let params: ListParams = crate::http::query::parse(query.as_deref())?;
    let limit = match params.limit.as_deref().map(str::parse::<u32>) {
        None => 20,
        Some(Ok(n @ 1..=100)) => n,
        Some(_) => return Err(ApiError::validation("limit must be 1-100")),
    };
    let offset = match params.offset.as_deref().map(str::parse::<u32>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Err(ApiError::validation("offset must be a whole number")),
    };
    let status = match params.status.as_deref() {
        None => None,
        Some(s) => Some(
            AgentStatus::parse(s)
                .ok_or_else(|| ApiError::validation("status must be active, paused or revoked"))?,
        ),
    };
    let now = state.clock.now();
    let mut agents = state
        .store
        .agents_of(&caller.workspace, status, limit + 1, offset)
        .await?;
    let has_more = agents.len() > limit as usize;
    agents.truncate(limit as usize);
    let data: Vec<AgentView> = agents.iter().map(view).collect();
    let Json(mut doc) = envelope(data, &rid, now);
    doc["meta"]["limit"] = limit.into();
    doc["meta"]["offset"] = offset.into();
    doc["meta"]["hasMore"] = has_more.into();
    Ok(Json(doc))
}

async fn owned(state: &AppState, caller: &Principal, id: &str) -> Result<Agent, ApiError> {
    state
        .store
        .agent(id)
        .await?
        .filter(|a| a.workspace_id == caller.workspace)
        .ok_or_else(|| ApiError::not_found("agent"))
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}",
    operation_id = "getAgent",
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One agent", body = AgentEnvelope),
        (status = 404, description = "`not_found`: no such agent of the caller's"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("agents.read")?;
    let agent = owned(&state, &caller, &id).await?;
    Ok(envelope(view(&agent), &rid, state.clock.now()))
}

/// Moves an agent to `to`, keeping the in-memory blocklist in step with the
/// store: blocked before the write (fail closed), unblocked only after it.
async fn transition(
    state: AppState,
    rid: RequestId,
    caller: Principal,
    id: String,
    to: AgentStatus,
) -> Result<Json<Value>, ApiError> {
    caller.require("agents.write")?;
    let agent = owned(&state, &caller, &id).await?;
    if agent.status == AgentStatus::Revoked {
        if to == AgentStatus::Revoked {
            return Ok(envelope(view(&agent), &rid, state.clock.now()));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "agent_revoked",
            "a revoked agent cannot be paused or resumed",
        ));
    }
    let now = state.clock.now();
    // Across the write and the memory update: no reload undoes it meanwhile.
    let change = state.blocked_agents.changing();
    if to != AgentStatus::Active {
        state.blocked_agents.insert(id.clone());
    }
    if !state
        .store
        .set_agent_status(&id, &caller.workspace, to, now)
        .await?
    {
        // Revoked concurrently: it stays blocked.
        state.blocked_agents.insert(id.clone());
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "agent_revoked",
            "a revoked agent cannot be paused or resumed",
        ));
    }
    if to == AgentStatus::Active {
        state.blocked_agents.remove(&id);
    }
    drop(change);
    tracing::info!(id = %id, status = to.as_str(), "agent status changed");
    let kind = match to {
        AgentStatus::Active => "agent.resumed",
        AgentStatus::Paused => "agent.paused",
        AgentStatus::Revoked => "agent.revoked",
    };
    state
        .audit
        .record(
            Event::by(kind, &caller)
                .subject(&id)
                .data(json!({ "from": agent.status.as_str(), "to": to.as_str() })),
        )
        .await?;
    if to == AgentStatus::Revoked {
        state
            .webhooks
            .emit(
                &caller.workspace,
                "agent.revoked",
                json!({ "agentId": id, "from": agent.status.as_str() }),
            )
            .await?;
    }
    let agent = owned(&state, &caller, &id).await?;
    Ok(envelope(view(&agent), &rid, now))
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/pause",
    operation_id = "pauseAgent",
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Paused; its tokens stop verifying at once", body = AgentEnvelope),
        (status = 404, description = "`not_found`: no such agent of the caller's"),
        (status = 409, description = "`agent_revoked`: a revoked agent cannot be paused"),
    )
)]
pub(crate) async fn pause(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, rid, caller, id, AgentStatus::Paused).await
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/resume",
    operation_id = "resumeAgent",
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Active again; its unexpired tokens verify again", body = AgentEnvelope),
        (status = 404, description = "`not_found`: no such agent of the caller's"),
        (status = 409, description = "`agent_revoked`: a revoked agent cannot be resumed"),
    )
)]
pub(crate) async fn resume(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, rid, caller, id, AgentStatus::Active).await
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/revoke",
    operation_id = "revokeAgent",
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Revoked for good (again, if it already was); every token it holds stops verifying at once", body = AgentEnvelope),
        (status = 404, description = "`not_found`: no such agent of the caller's"),
        (status = 409, description = "`agent_revoked`: revoked concurrently by another request"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, rid, caller, id, AgentStatus::Revoked).await
}
