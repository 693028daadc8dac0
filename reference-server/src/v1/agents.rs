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
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::Event;
use crate::body::ApiBody;
use crate::crypto;
use crate::envelope::{envelope, rfc3339, RequestId};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::AppState;
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

/// The public view of an agent (never its key).
pub fn view(a: &Agent) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "status": a.status.as_str(),
        "publicKey": URL_SAFE_NO_PAD.encode(&a.public_key),
        "createdAt": rfc3339(a.created_at),
        "updatedAt": rfc3339(a.updated_at),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    name: String,
    description: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/agents",
    tag = "agents",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created; `data.agentKey` is the Ed25519 key, shown once"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 402, description = "`quota_exceeded`: the plan's agent limit is reached (`limit`, `usage`)", content_type = "application/problem+json"), (status = 403, description = "Insufficient scope"), (status = 422, description = "Invalid field", content_type = "application/problem+json"))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("agents.write")?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name must be 1-100 characters"));
    }
    let description = body.description.map(|d| d.trim().to_owned());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        return Err(ApiError::validation(
            "description is limited to 1000 characters",
        ));
    }
    crate::quota::check_agents(
        state.store.as_ref(),
        &caller.account,
        state.config.plan_max_agents,
    )
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
        owner_id: caller.account.clone(),
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
            &caller.account,
            "agent.created",
            json!({ "agentId": agent.id, "name": agent.name }),
        )
        .await?;
    let mut data = view(&agent);
    data["agentKey"] = agent_key.into();
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    limit: Option<String>,
    offset: Option<String>,
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/agents",
    tag = "agents",
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 20"),
        ("offset" = Option<u32>, Query, description = "Agents to skip, default 0"),
        ("status" = Option<String>, Query, description = "active, paused or revoked"),
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Agents, newest first; `meta.hasMore` tells whether more follow"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"), (status = 422, description = "Invalid query parameter", content_type = "application/problem+json"))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    caller.require("agents.read")?;
    let params: ListParams = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::validation(e.to_string()))?;
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
        .agents_of(&caller.account, status, limit + 1, offset)
        .await?;
    let has_more = agents.len() > limit as usize;
    agents.truncate(limit as usize);
    let data: Vec<Value> = agents.iter().map(view).collect();
    let Json(mut doc) = envelope(data.into(), &rid, now);
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
        .filter(|a| a.owner_id == caller.account)
        .ok_or_else(|| ApiError::not_found("agent"))
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One agent"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
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
    if to != AgentStatus::Active {
        state.blocked_agents.insert(id.clone());
    }
    if !state
        .store
        .set_agent_status(&id, &caller.account, to, now)
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
                &caller.account,
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
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Paused; its tokens stop verifying at once"), (status = 404, description = "Not found"), (status = 409, description = "The agent is revoked"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
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
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Active again; its unexpired tokens verify again"), (status = 404, description = "Not found"), (status = 409, description = "The agent is revoked"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
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
    tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Revoked for good; every token it holds stops verifying at once"), (status = 404, description = "Not found"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(state, rid, caller, id, AgentStatus::Revoked).await
}
