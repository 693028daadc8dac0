//! Trust and moderation over HTTP: the public `GET /trust-model`, the
//! caller's own standing (`GET /v1/account/trust`), and the operator API
//! under `/v1/admin/users` (scope `operator.moderation`, which no preset
//! holds and only `sigil-server create-key --operator` or fixtures grant).

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::app_api::reports::ReportReason;
use crate::app::state::AppState;
use crate::core::fields;
use crate::core::principal::Principal;
use crate::core::trust::{self, ModerationState, Score, TrustLevel};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::services::moderation::{Actor, Standing};
use crate::store::User;

/// The scope of the operator moderation API.
const OPERATOR: &str = "operator.moderation";

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/trust-model", get(model))
        .route("/v1/account/trust", get(mine))
        .route("/v1/admin/users/{id}/trust", get(user_trust))
        .route("/v1/admin/users/{id}/moderation", put(moderate))
}

/// One trust level, explained.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrustLevelDoc {
    /// The level.
    name: TrustLevel,
    /// When a user has it.
    description: String,
}

/// One term of the score, explained.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScoreTermDoc {
    /// Its member in `TrustScore`.
    name: String,
    /// How it is computed.
    description: String,
    /// Its least value.
    min: i64,
    /// Its greatest value.
    max: i64,
}

/// The score, explained.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScoreDoc {
    /// How the terms combine.
    formula: String,
    /// Always 0.
    min: i64,
    /// Always 100.
    max: i64,
    /// The terms.
    terms: Vec<ScoreTermDoc>,
}

/// One moderation state, explained.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModerationStateDoc {
    /// The state.
    name: ModerationState,
    /// What it does.
    effect: String,
    /// Points off the score.
    behaviour_penalty: i64,
}

/// How states change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitionsDoc {
    /// Who sets states, and how.
    operator: String,
    /// Reports within this many days count.
    report_window_days: i64,
    /// Distinct reporting accounts that put a user in `warn`.
    warn_at_reporters: u64,
    /// Distinct reporting accounts that put a user in `restrict`.
    restrict_at_reporters: u64,
    /// What automatic transitions never do.
    limits: String,
    /// The webhook event every change sends to the user's account.
    event: String,
}

/// Reports, explained.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportsDoc {
    /// Where apps file them.
    endpoint: String,
    /// The scope it needs.
    scope: String,
    /// The accepted reasons.
    reasons: Vec<ReportReason>,
    /// Reports per app per minute, sustained.
    rate_per_minute: u32,
    /// Burst allowance per app.
    burst: u32,
}

/// The trust model (`#/components/schemas/TrustModel`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustModel {
    /// Trust levels, lowest first.
    levels: Vec<TrustLevelDoc>,
    /// The trust score.
    score: ScoreDoc,
    /// Moderation states, mildest first.
    moderation_states: Vec<ModerationStateDoc>,
    /// How states change.
    transitions: TransitionsDoc,
    /// Reports.
    reports: ReportsDoc,
}

fn term(name: &str, description: &str, min: i64, max: i64) -> ScoreTermDoc {
    ScoreTermDoc {
        name: name.into(),
        description: description.into(),
        min,
        max,
    }
}

fn trust_model(state: &AppState) -> TrustModel {
    let levels = [
        (TrustLevel::Private, "No alias and no verified domain: apps know only the user's pairwise slug (an app that was not granted `profile.basic` sees no alias)"),
        (TrustLevel::Unverified, "The user presents an alias, which nothing proves"),
        (TrustLevel::Verified, "The user proved control of a domain with a DNS TXT record (`/v1/domains`)"),
    ];
    TrustModel {
        levels: levels
            .into_iter()
            .map(|(name, d)| TrustLevelDoc {
                name,
                description: d.into(),
            })
            .collect(),
        score: ScoreDoc {
            formula: "clamp(base + verifiedDomainBonus + accountAge - reportPenalty - behaviourPenalty, 0, 100)".into(),
            min: 0,
            max: 100,
            terms: vec![
                term("base", "Every user starts here", trust::BASE_SCORE, trust::BASE_SCORE),
                term("verifiedDomainBonus", "Added once the user verified a domain", 0, trust::VERIFIED_DOMAIN_BONUS),
                term("accountAge", "Grows linearly with the account's age, full after 365 days", 0, trust::MAX_AGE_BONUS),
                term("reportPenalty", "10 per distinct account whose apps reported the user in the last 90 days", 0, trust::MAX_REPORT_PENALTY),
                term("behaviourPenalty", "From the moderation state: warn 10, restrict 25, disabled 50", 0, ModerationState::Disabled.penalty()),
            ],
        },
        moderation_states: ModerationState::ALL
            .into_iter()
            .map(|s| ModerationStateDoc {
                name: s,
                effect: s.effect().into(),
                behaviour_penalty: s.penalty(),
            })
            .collect(),
        transitions: TransitionsDoc {
            operator: "PUT /v1/admin/users/{id}/moderation with a key holding `operator.moderation` (granted only by `sigil-server create-key --operator` or a fixtures file; no preset holds it)".into(),
            report_window_days: trust::REPORT_WINDOW_DAYS,
            warn_at_reporters: trust::WARN_AT_REPORTERS,
            restrict_at_reporters: trust::RESTRICT_AT_REPORTERS,
            limits: "Reports only escalate, never past `restrict`, and never lower a state an operator set".into(),
            event: crate::services::moderation::CHANGED.into(),
        },
        reports: ReportsDoc {
            endpoint: "POST /app/v1/reports".into(),
            scope: "reports.write".into(),
            reasons: vec![
                ReportReason::Spam,
                ReportReason::Abuse,
                ReportReason::Impersonation,
                ReportReason::Fraud,
                ReportReason::Other,
            ],
            rate_per_minute: state.config.report_rate_per_min,
            burst: state.config.report_rate_burst,
        },
    }
}

/// The trust model: levels, the score and its terms, moderation states and
/// their effects, and how states change. Public: no credential.
#[utoipa::path(
    get,
    path = "/trust-model",
    operation_id = "getTrustModel",
    tag = "trust",
    responses((status = 200, description = "The trust model", body = TrustModelEnvelope))
)]
pub(crate) async fn model(State(state): State<AppState>, rid: RequestId) -> Json<Value> {
    envelope(trust_model(&state), &rid, state.clock.now())
}

/// A moderation state as stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModerationView {
    /// The state.
    state: ModerationState,
    /// Why; null when none was given (or never moderated).
    #[schema(required = true)]
    reason: Option<String>,
    /// Set by the report thresholds rather than an operator.
    automatic: bool,
    /// RFC 3339; null when never moderated.
    #[schema(format = DateTime, required = true)]
    updated_at: Option<String>,
}

/// Recent reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportCounts {
    /// Reports in the window.
    recent: u64,
    /// Distinct reporting accounts in the window.
    reporters: u64,
    /// The window, days.
    window_days: i64,
}

/// A user's standing (`#/components/schemas/TrustProfile`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TrustProfile)]
pub struct StandingView {
    /// `usr_…`.
    user_id: String,
    /// What the user shows of themselves.
    trust_level: TrustLevel,
    /// The score and its breakdown.
    score: Score,
    /// The moderation state.
    moderation: ModerationView,
    /// Recent reports.
    reports: ReportCounts,
}

envelopes! {
    /// The trust model.
    TrustModelEnvelope(TrustModel, Meta);
    /// A user's trust level, score and moderation state.
    TrustProfileEnvelope(StandingView, Meta);
}

fn view(user: &User, s: Standing) -> StandingView {
    let state = s.state();
    StandingView {
        user_id: user.id.clone(),
        trust_level: s.level,
        score: s.score,
        moderation: ModerationView {
            state,
            reason: s.moderation.as_ref().and_then(|m| m.reason.clone()),
            automatic: s.moderation.as_ref().is_some_and(|m| m.automatic),
            updated_at: s.moderation.as_ref().map(|m| rfc3339(m.updated_at)),
        },
        reports: ReportCounts {
            recent: s.reports,
            reporters: s.reporters,
            window_days: trust::REPORT_WINDOW_DAYS,
        },
    }
}

async fn user(state: &AppState, id: &str) -> Result<User, ApiError> {
    state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

async fn profile(state: &AppState, rid: &RequestId, user: &User) -> Result<Json<Value>, ApiError> {
    let standing = state.moderation.standing(user).await?;
    Ok(envelope(view(user, standing), rid, state.clock.now()))
}

#[utoipa::path(
    get,
    path = "/v1/account/trust",
    operation_id = "getAccountTrust",
    tag = "trust",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's trust level, score with its breakdown, and moderation state", body = TrustProfileEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.read`"),
    )
)]
pub(crate) async fn mine(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.read")?;
    let user = user(&state, caller.user.as_deref().unwrap_or(&caller.workspace)).await?;
    profile(&state, &rid, &user).await
}

#[utoipa::path(
    get,
    path = "/v1/admin/users/{id}/trust",
    operation_id = "getUserTrust",
    tag = "trust",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The user's trust level, score with its breakdown, and moderation state", body = TrustProfileEnvelope),
        (status = 403, description = "`insufficient_scope`: no `operator.moderation`"),
        (status = 404, description = "`not_found`: no such user"),
    )
)]
pub(crate) async fn user_trust(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(OPERATOR)?;
    let user = user(&state, &id).await?;
    profile(&state, &rid, &user).await
}

/// `PUT /v1/admin/users/{id}/moderation`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SetModeration)]
pub(crate) struct ModerateBody {
    /// The new state.
    state: ModerationState,
    /// Why (shown to the user's account in `moderation.changed`).
    #[schema(value_type = Option<fields::Reason>)]
    reason: Option<String>,
}

/// Sets a user's moderation state.
///
/// `restrict` refuses messages the user sends (403 `account_restricted`);
/// `disabled` refuses every new token (`account_disabled`). Tokens already
/// issued live out their short lifetime. The change is audited in the
/// user's log and sent to the user's account as `moderation.changed`;
/// setting the current state again changes nothing.
#[utoipa::path(
    put,
    path = "/v1/admin/users/{id}/moderation",
    operation_id = "setUserModeration",
    tag = "trust",
    params(("id" = String, Path, description = "The user (`usr_…`)")),
    request_body = ModerateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The user's standing after the change", body = TrustProfileEnvelope),
        (status = 403, description = "`insufficient_scope`: no `operator.moderation`"),
        (status = 404, description = "`not_found`: no such user"),
    )
)]
pub(crate) async fn moderate(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<ModerateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(OPERATOR)?;
    if body
        .reason
        .as_deref()
        .is_some_and(|r| !fields::REASON.matches(r))
    {
        return Err(ApiError::validation(
            "`reason` is at most 500 characters once trimmed",
        ));
    }
    let user = user(&state, &id).await?;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let actor = caller.actor();
    state
        .moderation
        .set(&user.id, body.state, reason, Actor::Operator(actor))
        .await?;
    profile(&state, &rid, &user).await
}
