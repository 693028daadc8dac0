//! `/v1/tokens`: short-lived agent tokens (EdDSA JWS, `typ: agent+jwt`).
//!
//! Issuance is authenticated by an RFC 9421 signature from the agent key
//! (sdk-core's `sigil::httpsig`), or by an API key / access token with
//! `tokens.issue` for an agent the caller owns. Verification needs no
//! credential and reads no database: the signature is checked against the
//! in-memory keyring (with its verified-token cache), then the in-memory
//! denylists of revoked token ids and paused or revoked agents. Batches are
//! verified token by token (each one through that cache).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sigil::httpsig::{self, SignatureError};
use sigil::jws::{TokenError, TokenType, VerifiedToken, VerifyOptions};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::policy::{self, Effect};
use crate::core::principal::Principal;
use crate::core::{crypto, fields, scopes};
use crate::error::ApiError;
use crate::http::body::{ApiBody, BodyError, MAX_BODY_BYTES};
use crate::http::envelope::{envelope, envelopes, Meta, RequestId};
use crate::store::plans::Holder;
use crate::store::{Agent, AgentStatus, AgentToken, Approval, ApprovalStatus};

/// Default token lifetime, seconds.
const DEFAULT_TTL: u64 = 300;
/// Longest token lifetime, seconds.
const MAX_TTL: u64 = 86_400;
/// Most tokens in one batch verification.
const MAX_BATCH: usize = 100;
/// Oldest acceptable signed request (from its `created`), seconds.
const SIGNATURE_MAX_AGE: u64 = 60;
/// Longest acceptable `expires - created` of a signed request, seconds.
const SIGNATURE_MAX_WINDOW: i64 = 300;
/// Clock skew tolerated on signed requests, seconds.
const SIGNATURE_LEEWAY: u64 = 5;
/// Components a signed token request must cover.
const REQUIRED_COMPONENTS: [&str; 3] = ["@method", "@target-uri", "content-digest"];

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/tokens", post(issue))
        .route("/v1/tokens/verify", post(verify))
        .route("/v1/tokens/verify/batch", post(verify_batch))
        .route("/v1/tokens/{id}/revoke", post(revoke))
}

/// `POST /v1/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IssueAgentToken)]
pub(crate) struct IssueBody {
    /// The agent (with a signature: the signing key's `keyid`).
    agent_id: String,
    /// The scopes the token carries.
    #[schema(value_type = Vec<fields::Scope>, min_items = 1)]
    scope: Vec<String>,
    /// Lifetime in seconds, 1-86400; default 300.
    #[schema(minimum = 1, maximum = 86400)]
    ttl: Option<u64>,
    /// The audience (`aud`), 1-200 characters; default `any`.
    #[schema(min_length = 1, max_length = 200)]
    target_service: Option<String>,
    /// What the agent means to do, up to 500 characters.
    #[schema(max_length = 500)]
    intent: Option<String>,
}

/// An issued agent token (`#/components/schemas/AgentToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AgentToken)]
pub struct IssuedAgentToken {
    /// The EdDSA JWS (`typ: agent+jwt`).
    token: String,
    /// Always `Bearer`.
    #[schema(value_type = fields::BearerTokenType)]
    token_type: &'static str,
    /// Lifetime in seconds.
    expires_in: i64,
    /// Its `jti` (`atk_…`), for `POST /v1/tokens/{id}/revoke`.
    jti: String,
}

/// A token that verified (`#/components/schemas/ValidAgentToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidAgentToken {
    #[schema(value_type = fields::True)]
    valid: bool,
    /// The agent it was issued to.
    agent_id: String,
    /// Its scopes.
    scope: Vec<String>,
    /// Its audience (`target_service`).
    #[schema(required = true)]
    aud: Option<String>,
    /// Its stated intent.
    #[schema(required = true)]
    intent: Option<String>,
    /// Expiry, UNIX seconds.
    #[schema(required = true)]
    exp: Option<i64>,
    /// Its id.
    jti: String,
}

/// A token that did not verify (`#/components/schemas/InvalidAgentToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvalidAgentToken {
    #[schema(value_type = fields::False)]
    valid: bool,
    /// Why: a token error (`malformed_token`, `invalid_signature`,
    /// `token_expired`, `invalid_issuer`, …), `token_revoked`,
    /// `agent_inactive`, `missing_claim` or `insufficient_scope`.
    #[schema(value_type = fields::Code)]
    reason: &'static str,
}

/// The verdict on one token (`#/components/schemas/AgentTokenVerdict`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = AgentTokenVerdict)]
pub enum Verdict {
    /// It verified.
    Valid(ValidAgentToken),
    /// It did not.
    Invalid(InvalidAgentToken),
}

/// Verdicts in request order (`#/components/schemas/AgentTokenVerdicts`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AgentTokenVerdicts)]
pub struct Verdicts {
    /// One per token, in order.
    results: Vec<Verdict>,
}

/// A revoked agent token (`#/components/schemas/RevokedAgentToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedAgentToken {
    /// Its id.
    jti: String,
    /// The agent it was issued to.
    agent_id: String,
    #[schema(value_type = fields::True)]
    revoked: bool,
}

envelopes! {
    /// An issued agent token.
    AgentTokenEnvelope(IssuedAgentToken, Meta);
    /// The verdict on one token.
    AgentTokenVerdictEnvelope(Verdict, Meta);
    /// The verdicts on a batch.
    AgentTokenVerdictsEnvelope(Verdicts, Meta);
    /// A revoked agent token.
    RevokedAgentTokenEnvelope(RevokedAgentToken, Meta);
}

fn signature_refused(e: &SignatureError) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        format!("request signature refused: {e}"),
    )
}

/// Authenticates an RFC 9421-signed request from an agent key; returns the
/// agent named by `keyid`.
async fn signed_agent(
    state: &AppState,
    parts: &axum::http::request::Parts,
    bytes: &[u8],
) -> Result<Agent, ApiError> {
    let input = parts
        .headers
        .get_all("signature-input")
        .iter()
        .map(|v| v.to_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ");
    let (label, first) = httpsig::parse_signature_input(&input)
        .map_err(|e| signature_refused(&e))?
        .into_iter()
        .next()
        .ok_or_else(|| signature_refused(&SignatureError::MissingSignature))?;
    let keyid = first
        .keyid
        .ok_or_else(|| signature_refused(&SignatureError::MissingParameter("keyid")))?;
    let unknown = || signature_refused(&SignatureError::UnknownKey(keyid.clone()));
    let agent = state.store.agent(&keyid).await?.ok_or_else(unknown)?;
    let public: [u8; 32] = agent
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| unknown())?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| unknown())?;

    // Verify against the URI the client addressed: the public issuer URL plus
    // the path and query, never a Host header the client chose.
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |p| p.as_str());
    let mut request = axum::http::Request::new(bytes.to_vec());
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = format!("{}{path}", state.config.issuer())
        .parse()
        .map_err(|_| ApiError::bad_request("invalid request target"))?;
    *request.headers_mut() = parts.headers.clone();
    let options = httpsig::VerifyOptions {
        label: Some(label),
        required_components: REQUIRED_COMPONENTS.iter().map(|c| c.to_string()).collect(),
        max_age_secs: Some(SIGNATURE_MAX_AGE),
        leeway_secs: SIGNATURE_LEEWAY,
        require_created: true,
        require_expires: true,
        require_nonce: true,
    };
    let now = state.clock.now();
    let verified = httpsig::verify_request(
        &request,
        |_, _| Ok(httpsig::VerifyingKey::Ed25519(key)),
        &options,
        now,
    )
    .map_err(|e| signature_refused(&e))?;
    let (Some(created), Some(expires), Some(nonce)) =
        (verified.created, verified.expires, verified.nonce)
    else {
        return Err(signature_refused(&SignatureError::MissingParameter(
            "created, expires and nonce",
        )));
    };
    if expires - created > SIGNATURE_MAX_WINDOW || expires < created {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("a signature may be valid for at most {SIGNATURE_MAX_WINDOW} s"),
        ));
    }
    if nonce.is_empty() || nonce.len() > 256 {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the nonce must be 1-256 characters",
        ));
    }
    // Remember the nonce for as long as this signature could be accepted.
    let keep_until = expires.max(created + SIGNATURE_MAX_AGE as i64) + SIGNATURE_LEEWAY as i64;
    if !state
        .store
        .use_nonce(&agent.id, &nonce, keep_until, now)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "replayed_nonce",
            "this signature nonce was already used",
        ));
    }
    Ok(agent)
}

#[utoipa::path(
    post,
    path = "/v1/tokens",
    operation_id = "issueAgentToken",
    tag = "agent-tokens",
    request_body = IssueBody,
    security((), ("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Issued. Authenticate with an RFC 9421 signature by the agent key (`keyid` = agent id; covering `@method`, `@target-uri` and `content-digest`; with `created`, `expires` and a single-use `nonce`) or with a credential holding `tokens.issue`. The owner's active policies are evaluated first", body = AgentTokenEnvelope),
        (status = 202, description = "Held by a `require_approval` policy: the pending approval; once granted, collect the token at `POST /v1/approvals/{id}/token`", body = crate::api::v1::approvals::ApprovalEnvelope),
        (status = 401, description = "`missing_credentials`, `invalid_token`, `invalid_signature` or `replayed_nonce`"),
        (status = 402, description = "`quota_exceeded`: the plan's monthly token limit is reached (`limit`, `usage`, `resetsAt`)"),
        (status = 403, description = "`insufficient_scope` (no `tokens.issue`, or a scope the credential does not hold), `agent_mismatch`, `agent_inactive`, `account_disabled` (the owner is disabled by moderation), or `policy_denied` (with `policyId` and `policyName`)"),
        (status = 404, description = "`not_found`: no such agent of the caller's"),
        (status = 422, description = "`validation_failed`: an invalid field"),
        (status = 429, description = "`policy_throttled`: a throttle policy's budget for this agent is spent, or `rate_limited`; see `Retry-After`"),
    )
)]
pub(crate) async fn issue(
    State(state): State<AppState>,
    rid: RequestId,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (mut parts, bytes) = read_body(request).await?;
    let caller = authenticate(&state, &mut parts, &bytes).await?;
    let mut copy = Request::new(Body::from(bytes));
    *copy.headers_mut() = parts.headers.clone();
    let ApiBody(body) = ApiBody::<IssueBody>::from_request(copy, &state).await?;
    let agent = match &caller {
        Caller::Agent(agent) => {
            if body.agent_id != agent.id {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "agent_mismatch",
                    "agent_id must be the signing key's keyid",
                ));
            }
            agent.clone()
        }
        Caller::Credential(principal) => state
            .store
            .agent(&body.agent_id)
            .await?
            .filter(|a| a.workspace_id == principal.workspace)
            .ok_or_else(|| ApiError::not_found("agent"))?,
    };

    let ttl = body.ttl.unwrap_or(DEFAULT_TTL);
    if !(1..=MAX_TTL).contains(&ttl) {
        return Err(ApiError::validation(format!(
            "ttl must be 1-{MAX_TTL} seconds"
        )));
    }
    if body.scope.is_empty() {
        return Err(ApiError::validation("scope must name at least one scope"));
    }
    let scope = scopes::parse_list(&body.scope).map_err(ApiError::validation)?;
    let target = body.target_service.unwrap_or_else(|| "any".into());
    if target.is_empty() || target.chars().count() > 200 {
        return Err(ApiError::validation(
            "target_service must be 1-200 characters",
        ));
    }
    if body
        .intent
        .as_ref()
        .is_some_and(|i| i.chars().count() > 500)
    {
        return Err(ApiError::validation("intent is limited to 500 characters"));
    }
    let grant = Grant {
        scope,
        ttl: ttl as i64,
        target_service: target,
        intent: body.intent,
    };
    check_grant(&state, &caller, &agent, &grant)?;
    if let Some(held) = apply_policies(&state, &agent, &grant).await? {
        let now = state.clock.now();
        return Ok((
            StatusCode::ACCEPTED,
            envelope(crate::api::v1::approvals::approval_view(&held), &rid, now),
        ));
    }
    mint(&state, &rid, &agent, &grant).await
}

/// Reads a request's body (up to the size limit), keeping its head.
pub(crate) async fn read_body(
    request: Request,
) -> Result<(axum::http::request::Parts, axum::body::Bytes), ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::from(BodyError::TooLarge))?;
    Ok((parts, bytes))
}

/// Who asks for an agent token.
pub(crate) enum Caller {
    /// The agent itself, by an RFC 9421 signature with its key.
    Agent(Agent),
    /// An API key or access token holding `tokens.issue`.
    Credential(Principal),
}

/// Authenticates a token request: an RFC 9421 signature from an agent key
/// when the request carries one, otherwise a credential with `tokens.issue`.
pub(crate) async fn authenticate(
    state: &AppState,
    parts: &mut axum::http::request::Parts,
    bytes: &[u8],
) -> Result<Caller, ApiError> {
    let signed =
        parts.headers.contains_key("signature-input") || parts.headers.contains_key("signature");
    if signed {
        let agent = signed_agent(state, parts, bytes).await?;
        state
            .limits
            .check_key(&agent.id)
            .map_err(ApiError::rate_limited)?;
        Ok(Caller::Agent(agent))
    } else {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require("tokens.issue")?;
        Ok(Caller::Credential(principal))
    }
}

/// What a token will carry.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// Canonical scopes.
    pub scope: Vec<String>,
    /// Lifetime, seconds.
    pub ttl: i64,
    /// The audience.
    pub target_service: String,
    /// The stated intent.
    pub intent: Option<String>,
}

/// Refuses a grant the caller may not hand out or the agent may not hold.
pub(crate) fn check_grant(
    state: &AppState,
    caller: &Caller,
    agent: &Agent,
    grant: &Grant,
) -> Result<(), ApiError> {
    // A credential can never hand an agent more than it holds itself.
    if let Caller::Credential(principal) = caller {
        if let Some(missing) = grant.scope.iter().find(|s| !principal.scopes.contains(s)) {
            return Err(ApiError::insufficient_scope(missing));
        }
    }
    if agent.status != AgentStatus::Active || state.blocked_agents.contains(&agent.id) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "agent_inactive",
            format!("the agent is {}", agent.status.as_str()),
        ));
    }
    Ok(())
}

/// Evaluates the owner's active policies on the server clock: `Err` for a
/// denial or a spent throttle, `Some` approval when the request is held,
/// `None` to issue.
async fn apply_policies(
    state: &AppState,
    agent: &Agent,
    grant: &Grant,
) -> Result<Option<Approval>, ApiError> {
    let policies = state.store.policies_of(&agent.workspace_id, true).await?;
    let now = state.clock.now();
    let request = policy::Request {
        agent_id: &agent.id,
        workspace_id: &agent.workspace_id,
        scopes: &grant.scope,
        target_service: &grant.target_service,
        now,
    };
    let Some((decider, rule)) = policy::evaluate(&policies, &request) else {
        return Ok(None);
    };
    let named = |e: ApiError| {
        e.with("policyId", decider.id.clone())
            .with("policyName", decider.name.clone())
    };
    match (rule.effect, rule.limit) {
        (Effect::Allow, _) => Ok(None),
        (Effect::Deny, _) => {
            state
                .audit
                .record(
                    Event::new("token.denied")
                        .account(&agent.workspace_id)
                        .actor(&agent.id)
                        .subject(&decider.id)
                        .data(json!({ "policy": decider.name, "scope": grant.scope })),
                )
                .await?;
            state
                .webhooks
                .emit(
                    &agent.workspace_id,
                    "token.denied",
                    json!({
                        "agentId": agent.id, "policyId": decider.id,
                        "policyName": decider.name, "scope": grant.scope,
                    }),
                )
                .await?;
            tracing::info!(agent = %agent.id, policy = %decider.id, "agent token denied by policy");
            Err(named(ApiError::new(
                StatusCode::FORBIDDEN,
                "policy_denied",
                format!("denied by policy `{}` ({})", decider.name, decider.id),
            )))
        }
        (Effect::Throttle, Some(limit)) => {
            match state
                .policy_throttle
                .hit(&decider.id, &agent.id, limit, now)
            {
                Ok(()) => Ok(None),
                Err(retry_after) => Err(named(ApiError {
                    retry_after: Some(retry_after),
                    ..ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "policy_throttled",
                        format!(
                            "policy `{}` ({}) allows {} tokens per {} s for this agent",
                            decider.name, decider.id, limit.count, limit.window_secs
                        ),
                    )
                })),
            }
        }
        (Effect::Throttle, None) => Err(ApiError::internal(&"a stored throttle rule has no limit")),
        (Effect::RequireApproval, _) => {
            let approval = Approval {
                id: crypto::new_id("apv_"),
                workspace_id: agent.workspace_id.clone(),
                agent_id: agent.id.clone(),
                policy_id: decider.id.clone(),
                scope: grant.scope.clone(),
                ttl: grant.ttl,
                target_service: grant.target_service.clone(),
                intent: grant.intent.clone(),
                status: ApprovalStatus::Pending,
                created_at: now,
                decided_at: None,
                collected_at: None,
            };
            state.store.create_approval(&approval).await?;
            tracing::info!(agent = %agent.id, approval = %approval.id, "agent token held for approval");
            Ok(Some(approval))
        }
    }
}

/// Signs and records an agent token: the one place tokens are minted, so
/// every token (approved ones too) is taken from the owner's monthly plan
/// quota here (in memory; given back if minting then fails).
///
/// The work runs in its own task: a client that disconnects drops the
/// request's future, and minting must not stop halfway (a recorded token
/// with no audit entry, or a quota reservation never given back).
pub(crate) async fn mint(
    state: &AppState,
    rid: &RequestId,
    agent: &Agent,
    grant: &Grant,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (state, rid, agent, grant) = (state.clone(), rid.clone(), agent.clone(), grant.clone());
    tokio::spawn(async move {
        let now = state.clock.now();
        if state
            .moderation
            .state(&agent.workspace_id)
            .await?
            .blocks_tokens()
        {
            return Err(ApiError::account_disabled());
        }
        let plan = state
            .plans
            .of(&Holder::Account(agent.workspace_id.clone()))
            .await?;
        state
            .token_quota
            .reserve(
                state.store.as_ref(),
                &agent.workspace_id,
                now,
                plan.max_tokens_per_month,
            )
            .await?;
        let minted = sign_and_record(&state, &rid, &agent, &grant, now).await;
        if minted.is_err() {
            state.token_quota.release(&agent.workspace_id, now);
        }
        minted
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
}

/// [`mint`] once the quota allows it.
async fn sign_and_record(
    state: &AppState,
    rid: &RequestId,
    agent: &Agent,
    grant: &Grant,
    now: i64,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ttl = grant.ttl;
    // Sortable: the agent_tokens primary key then grows at its end.
    let jti = crypto::new_sortable_id("atk_");
    let claims = json!({
        "iss": state.config.issuer(),
        "sub": agent.id,
        "agent_id": agent.id,
        "scope": grant.scope,
        "aud": grant.target_service,
        "intent": grant.intent,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
    });
    state
        .agent_tokens
        .submit(AgentToken {
            jti: jti.clone(),
            agent_id: agent.id.clone(),
            issued_at: now,
            expires_at: now + ttl,
        })
        .await?;
    let token = state.keys.current().sign("agent+jwt", &claims);
    state
        .audit
        .enqueue(
            Event::new("token.issued")
                .account(&agent.workspace_id)
                .actor(&agent.id)
                .subject(&jti)
                .data(json!({
                    "kind": "agent", "scope": grant.scope,
                    "target_service": grant.target_service, "ttl": ttl,
                })),
        )
        .await?;
    state
        .webhooks
        .emit(
            &agent.workspace_id,
            "token.issued",
            json!({
                "jti": jti, "agentId": agent.id, "scope": grant.scope,
                "targetService": grant.target_service, "expiresIn": ttl,
            }),
        )
        .await?;
    tracing::info!(agent = %agent.id, jti = %jti, "agent token issued");
    let data = IssuedAgentToken {
        token,
        token_type: "Bearer",
        expires_in: ttl,
        jti,
    };
    Ok((StatusCode::CREATED, envelope(data, rid, now)))
}

/// Checks one token without touching the database: signature and claims
/// against the in-memory keyring, then the in-memory denylists.
fn check(state: &AppState, token: &str, required_scope: Option<&str>) -> Verdict {
    let verified = state
        .keys
        .verify(token, &verify_options(state), state.clock.now());
    outcome(state, verified, required_scope)
}

/// How agent tokens are verified: this issuer, `agent+jwt`, no leeway.
fn verify_options(state: &AppState) -> VerifyOptions {
    VerifyOptions {
        issuer: Some(state.config.issuer()),
        token_type: TokenType::Agent,
        leeway_secs: 0,
        ..VerifyOptions::default()
    }
}

/// The verify answer for a token whose signature and claims were checked:
/// then the in-memory denylists and the required scope.
fn outcome(
    state: &AppState,
    verified: Result<Arc<VerifiedToken>, TokenError>,
    required_scope: Option<&str>,
) -> Verdict {
    let invalid = |reason: &'static str| {
        Verdict::Invalid(InvalidAgentToken {
            valid: false,
            reason,
        })
    };
    let verified = match verified {
        Ok(v) => v,
        Err(e) => return invalid(e.code()),
    };
    let claims = &verified.claims;
    let (Some(agent_id), Some(jti)) = (claims.agent_id.as_deref(), claims.jti.as_deref()) else {
        return invalid("missing_claim");
    };
    if state.denylist.contains(jti) {
        return invalid("token_revoked");
    }
    if state.blocked_agents.contains(agent_id) {
        return invalid("agent_inactive");
    }
    if let Some(required) = required_scope {
        if !claims.has_scope(required) {
            return invalid("insufficient_scope");
        }
    }
    Verdict::Valid(ValidAgentToken {
        valid: true,
        agent_id: agent_id.to_owned(),
        scope: claims.scope.clone(),
        aud: claims.aud.first().cloned(),
        intent: claims.intent.clone(),
        exp: claims.exp,
        jti: jti.to_owned(),
    })
}

/// `POST /v1/tokens/verify`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VerifyAgentToken)]
pub(crate) struct VerifyBody {
    /// The agent token.
    token: String,
    /// A scope the token must carry.
    required_scope: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/tokens/verify",
    operation_id = "verifyAgentToken",
    tag = "agent-tokens",
    request_body = VerifyBody,
    responses(
        (status = 200, description = "`{valid: true, …}`, or `{valid: false, reason}` for a bad, expired or revoked token, a paused or revoked agent, or a missing `required_scope`. No authentication; no database read", body = AgentTokenVerdictEnvelope),
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<VerifyBody>,
) -> Json<Value> {
    let result = check(&state, &body.token, body.required_scope.as_deref());
    envelope(result, &rid, state.clock.now())
}

/// `POST /v1/tokens/verify/batch`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VerifyAgentTokens)]
pub(crate) struct BatchBody {
    /// 1-100 agent tokens.
    #[schema(min_items = 1, max_items = 100)]
    tokens: Vec<String>,
    /// A scope every token must carry.
    required_scope: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/tokens/verify/batch",
    operation_id = "verifyAgentTokens",
    tag = "agent-tokens",
    request_body = BatchBody,
    responses(
        (status = 200, description = "One result per token, in order, each as from `/v1/tokens/verify`", body = AgentTokenVerdictsEnvelope),
        (status = 422, description = "`validation_failed`: a malformed body, or not 1-100 tokens"),
    )
)]
pub(crate) async fn verify_batch(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<BatchBody>,
) -> Result<Json<Value>, ApiError> {
    if body.tokens.is_empty() || body.tokens.len() > MAX_BATCH {
        return Err(ApiError::validation(format!(
            "tokens must hold 1-{MAX_BATCH} tokens"
        )));
    }
    let tokens: Vec<&str> = body.tokens.iter().map(String::as_str).collect();
    let results: Vec<Verdict> = state
        .keys
        .verify_batch(&tokens, &verify_options(&state), state.clock.now())
        .into_iter()
        .map(|verified| outcome(&state, verified, body.required_scope.as_deref()))
        .collect();
    Ok(envelope(Verdicts { results }, &rid, state.clock.now()))
}

#[utoipa::path(
    post,
    path = "/v1/tokens/{id}/revoke",
    operation_id = "revokeAgentToken",
    tag = "agent-tokens",
    params(("id" = String, Path, description = "The token's jti")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Revoked; it stops verifying at once", body = RevokedAgentTokenEnvelope),
        (status = 403, description = "`insufficient_scope`: neither `agents.write` nor `tokens.issue`"),
        (status = 404, description = "`not_found`: no such token of the caller's agents"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(jti): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if caller.require("agents.write").is_err() {
        caller.require("tokens.issue")?;
    }
    let record = state
        .store
        .agent_token(&jti)
        .await?
        .ok_or_else(|| ApiError::not_found("token"))?;
    let owned = state
        .store
        .agent(&record.agent_id)
        .await?
        .is_some_and(|a| a.workspace_id == caller.workspace);
    if !owned {
        return Err(ApiError::not_found("token"));
    }
    state.revoke_jti(&jti, record.expires_at).await?;
    state
        .audit
        .record(
            Event::by("token.revoked", &caller)
                .subject(&jti)
                .data(json!({ "kind": "agent", "agent_id": record.agent_id })),
        )
        .await?;
    state
        .webhooks
        .emit(
            &caller.workspace,
            "token.revoked",
            json!({ "jti": jti, "agentId": record.agent_id }),
        )
        .await?;
    tracing::info!(jti = %jti, "agent token revoked");
    let now = state.clock.now();
    let data = RevokedAgentToken {
        jti,
        agent_id: record.agent_id,
        revoked: true,
    };
    Ok(envelope(data, &rid, now))
}
