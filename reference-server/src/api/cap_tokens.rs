//! Capability tokens: opaque `cap_…` secrets an app's owner mints for the
//! app, carrying scopes, an optional expiry and optional bound origins or
//! emails. Shown once, stored as SHA-256. Anyone holding one can preview it
//! (`POST /public/v1/cap-tokens/preview`); an unknown or expired token
//! reveals nothing beyond `{valid: false}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::principal::Principal;
use crate::core::{crypto, fields, scopes};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::CapToken;

/// Capability token prefix.
pub const PREFIX: &str = "cap_";
/// Longest lifetime a capability token may be given (one year).
const MAX_LIFETIME_SECS: i64 = 365 * 86_400;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/cap-tokens", post(create))
        .route("/public/v1/cap-tokens/preview", post(preview))
}

/// `POST /v1/cap-tokens` (`appId` and `expiresInSecs` are accepted as
/// aliases; one spelling of each).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateCapToken)]
pub(crate) struct CreateBody {
    /// One of the caller's apps.
    #[serde(alias = "appId")]
    app_id: String,
    /// A non-empty subset of the app's scopes.
    #[schema(value_type = Vec<fields::Scope>, min_items = 1)]
    scopes: Vec<String>,
    /// Lifetime in seconds (1 to one year); none never expires.
    #[serde(alias = "expiresInSecs")]
    #[schema(minimum = 1, maximum = 31_536_000)]
    expires_in_secs: Option<i64>,
    /// Origins (`scheme://host[:port]`) the token is bound to (at most 20).
    #[serde(default)]
    #[schema(value_type = Vec<fields::Origin>, max_items = 20)]
    origins: Vec<String>,
    /// Emails the token is bound to (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<fields::Email>, max_items = 100)]
    emails: Vec<String>,
}

/// A new capability token (`#/components/schemas/CapToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CapToken)]
pub struct CapTokenView {
    /// `capid_…`.
    id: String,
    /// The token (`cap_…`), shown only here.
    token: String,
    /// The app it serves.
    app_id: String,
    /// What it grants.
    #[schema(value_type = Vec<fields::Scope>)]
    scopes: Vec<String>,
    /// RFC 3339; null if it never expires.
    #[schema(format = DateTime, required = true)]
    expires_at: Option<String>,
    /// The origins it is bound to.
    origins: Vec<String>,
    /// The emails it is bound to, lowercase.
    emails: Vec<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
}

/// The app in a preview.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewApp {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
}

/// What a token is bound to, emails masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewBound {
    /// Bound origins.
    origins: Vec<String>,
    /// Bound emails, masked (`a…@example.com`).
    emails: Vec<String>,
}

/// A live token's preview (`#/components/schemas/CapTokenPreview`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CapTokenPreview {
    #[schema(value_type = fields::True)]
    valid: bool,
    /// The app it serves.
    app: PreviewApp,
    /// What it grants.
    #[schema(value_type = Vec<fields::Scope>)]
    scopes: Vec<String>,
    /// RFC 3339; null if it never expires.
    #[schema(format = DateTime, required = true)]
    expires_at: Option<String>,
    /// What it is bound to.
    bound: PreviewBound,
    /// Whether `slug` is a user of the app (and, with bound emails, one of them).
    allowed_for_slug: bool,
}

/// An unknown, malformed or expired token (`#/components/schemas/InvalidCapToken`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvalidCapToken {
    #[schema(value_type = fields::False)]
    valid: bool,
}

/// A preview, or `{valid: false}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CapTokenPreviewResult {
    /// A live token.
    Valid(CapTokenPreview),
    /// Anything else.
    Invalid(InvalidCapToken),
}

envelopes! {
    /// A new capability token.
    CapTokenEnvelope(CapTokenView, Meta);
    /// A preview, or `{valid: false}`.
    CapTokenPreviewEnvelope(CapTokenPreviewResult, Meta);
}

fn check_origin(origin: &str) -> Result<(), ApiError> {
    crate::api::v1::apps::check_origin(origin).map_err(ApiError::validation)
}

fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = Some(email)
        .filter(|e| fields::EMAIL.matches(e))
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::validation(format!(
            "`{email}` is not an email address"
        )))
    }
}

/// `a…@example.com`: enough to recognise an address, not to read it.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

/// Mints a capability token for one of the caller's apps.
#[utoipa::path(
    post,
    path = "/v1/cap-tokens",
    operation_id = "createCapToken",
    tag = "cap-tokens",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Minted; `token` (`cap_…`) is shown only here", body = CapTokenEnvelope),
        (status = 403, description = "`insufficient_scope`: no `apps.write`, or a scope the app does not hold"),
        (status = 404, description = "`not_found`: no such app of the caller's"),
        (status = 422, description = "`validation_failed`: invalid scopes, lifetime, origins or emails"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("apps.write")?;
    if body.app_id.is_empty() || body.app_id.len() > 100 {
        return Err(ApiError::not_found("app"));
    }
    let app = state
        .store
        .app(&body.app_id)
        .await?
        .filter(|a| a.workspace_id == caller.workspace)
        .ok_or_else(|| ApiError::not_found("app"))?;
    let granted = scopes::parse_list(&body.scopes).map_err(ApiError::validation)?;
    if granted.is_empty() {
        return Err(ApiError::validation("`scopes` must not be empty"));
    }
    // A capability token never carries more than its app holds.
    if let Some(missing) = granted.iter().find(|s| !app.scopes.contains(s)) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("the app does not hold `{missing}`; capability tokens carry only scopes of their app"),
        ));
    }
    if body
        .expires_in_secs
        .is_some_and(|s| !(1..=MAX_LIFETIME_SECS).contains(&s))
    {
        return Err(ApiError::validation(format!(
            "`expires_in_secs` must be 1-{MAX_LIFETIME_SECS}"
        )));
    }
    if body.origins.len() > 20 || body.emails.len() > 100 {
        return Err(ApiError::validation("at most 20 origins and 100 emails"));
    }
    for o in &body.origins {
        check_origin(o)?;
    }
    let origins: Vec<String> = body
        .origins
        .iter()
        .map(|o| o.trim_end_matches('/').to_owned())
        .collect();
    let mut emails = Vec::new();
    for e in &body.emails {
        let e = normalize_email(e)?;
        if !emails.contains(&e) {
            emails.push(e);
        }
    }
    let now = state.clock.now();
    let secret = crypto::new_secret(PREFIX);
    let token = CapToken {
        id: crypto::new_id("capid_"),
        app_id: app.id.clone(),
        workspace_id: caller.workspace.clone(),
        scopes: granted,
        origins,
        emails,
        expires_at: body.expires_in_secs.map(|s| now + s),
        created_at: now,
    };
    state
        .store
        .create_cap_token(&token, &crypto::hash(&secret))
        .await?;
    state
        .audit
        .record(
            Event::by("cap_token.created", &caller)
                .subject(&token.id)
                .data(json!({ "appId": token.app_id, "scopes": token.scopes.join(" ") })),
        )
        .await?;
    let data = CapTokenView {
        id: token.id,
        token: secret,
        app_id: token.app_id,
        scopes: token.scopes,
        expires_at: token.expires_at.map(rfc3339),
        origins: token.origins,
        emails: token.emails,
        created_at: rfc3339(now),
    };
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

/// `POST /public/v1/cap-tokens/preview`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PreviewCapToken)]
pub(crate) struct PreviewBody {
    /// The `cap_…` token.
    token: String,
    /// The slug (pairwise id at the token's app) of the user it would serve.
    slug: String,
}

/// Previews a capability token for a user.
///
/// Valid: `{valid: true, app: {id, name}, scopes, expires_at, bound:
/// {origins, emails}, allowed_for_slug}`. Bound emails are shown masked;
/// `allowed_for_slug` says whether `slug` is a user of the token's app and,
/// when emails are bound, whether that user's address is one of them (the
/// address itself is never disclosed). An unknown, malformed or expired
/// token is just `{valid: false}`.
#[utoipa::path(
    post,
    path = "/public/v1/cap-tokens/preview",
    operation_id = "previewCapToken",
    tag = "cap-tokens",
    request_body = PreviewBody,
    responses((status = 200, description = "The preview, or `{valid: false}`", body = CapTokenPreviewEnvelope))
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<PreviewBody>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let invalid = || {
        envelope(
            CapTokenPreviewResult::Invalid(InvalidCapToken { valid: false }),
            &rid,
            now,
        )
    };
    if !body.token.starts_with(PREFIX) || body.token.len() > 200 {
        return Ok(invalid());
    }
    let Some(token) = state
        .store
        .cap_token_by_hash(&crypto::hash(&body.token))
        .await?
        .filter(|t| t.expires_at.is_none_or(|at| at > now))
    else {
        return Ok(invalid());
    };
    let Some(app) = state.store.app(&token.app_id).await? else {
        return Ok(invalid());
    };
    let user = if body.slug.is_empty() || body.slug.len() > 200 {
        None
    } else {
        state.store.app_subject(&app.id, &body.slug).await?
    };
    let allowed = user.is_some_and(|u| token.emails.is_empty() || token.emails.contains(&u.email));
    let data = CapTokenPreviewResult::Valid(CapTokenPreview {
        valid: true,
        app: PreviewApp {
            id: app.id,
            name: app.name,
        },
        scopes: token.scopes,
        expires_at: token.expires_at.map(rfc3339),
        bound: PreviewBound {
            origins: token.origins,
            emails: token.emails.iter().map(|e| mask_email(e)).collect(),
        },
        allowed_for_slug: allowed,
    });
    Ok(envelope(data, &rid, now))
}
