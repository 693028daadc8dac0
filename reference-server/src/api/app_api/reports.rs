//! `POST /app/v1/reports`: an app reports one of its users (by slug). Each
//! app's reports are rate-limited; reports from enough distinct accounts
//! escalate the user's moderation state ([`crate::core::trust`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{check_slug, AppCaller};
use crate::app::state::AppState;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::trust::Report;

/// Why an app reports a user.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    /// Unsolicited bulk content.
    Spam,
    /// Harassment or abuse of other users.
    Abuse,
    /// Pretending to be someone else.
    Impersonation,
    /// Fraud or scams.
    Fraud,
    /// Anything else; say what in `details`.
    Other,
}

impl ReportReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::Abuse => "abuse",
            Self::Impersonation => "impersonation",
            Self::Fraud => "fraud",
            Self::Other => "other",
        }
    }
}

/// `POST /app/v1/reports`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = CreateReport)]
pub(crate) struct ReportBody {
    /// The reported user's slug at this app.
    #[schema(min_length = 1, max_length = 200)]
    user_id: String,
    /// Why.
    reason: ReportReason,
    /// Optional detail for the moderators: at most 1000 characters once
    /// trimmed.
    #[schema(value_type = Option<fields::Description>)]
    details: Option<String>,
}

/// A filed report (`#/components/schemas/Report`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Report)]
pub struct ReportView {
    /// `rpt_…`.
    id: String,
    /// The reported user's slug at this app.
    user_id: String,
    /// Why.
    reason: ReportReason,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
}

envelopes! {
    /// A filed report.
    ReportEnvelope(ReportView, Meta);
}

/// Reports one of the app's users.
///
/// Requires `reports.write`. Each app may file 10 reports a minute
/// (burst 20, `--report-rate-per-min`, `--report-rate-burst`); over it, 429 with
/// `Retry-After`. A report never names the reporter to the user; reports
/// from 2 distinct accounts (app owners) within 90 days put the user in
/// `warn`, from 3 in `restrict` (`GET /trust-model`).
#[utoipa::path(
    post,
    path = "/app/v1/reports",
    operation_id = "reportUser",
    tag = "app-api",
    request_body = ReportBody,
    security(("app_token" = [])),
    responses(
        (status = 201, description = "Filed", body = ReportEnvelope),
        (status = 403, description = "`insufficient_scope`: not an app token, or no `reports.write`"),
        (status = 404, description = "`not_found`: no such user of this app"),
        (status = 429, description = "`rate_limited`: this app filed too many reports, or its token is over its rate limit; see `Retry-After`"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: AppCaller,
    ApiBody(body): ApiBody<ReportBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("reports.write")?;
    check_slug(&body.user_id, "userId")?;
    if body
        .details
        .as_deref()
        .is_some_and(|d| !fields::DESCRIPTION.matches(d))
    {
        return Err(ApiError::validation(
            "`details` is at most 1000 characters once trimmed",
        ));
    }
    let details = body.details.map(|d| d.trim().to_owned());
    state
        .limits
        .check_report(&caller.app.id)
        .map_err(ApiError::rate_limited)?;
    let user = state
        .store
        .app_subject(&caller.app.id, &body.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let now = state.clock.now();
    let report = Report {
        id: crypto::new_id("rpt_"),
        user_id: user.user_id,
        app_id: caller.app.id.clone(),
        reporter_account: caller.app.workspace_id.clone(),
        reason: body.reason.as_str().to_owned(),
        details: details.filter(|d| !d.is_empty()),
        created_at: now,
    };
    state.moderation.report(&report).await?;
    let data = ReportView {
        id: report.id,
        user_id: body.user_id,
        reason: body.reason,
        created_at: rfc3339(now),
    };
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}
