//! Capability tokens: opaque `cap_…` secrets an app's owner mints for the
//! app, carrying scopes, an optional expiry and optional bound origins or
//! emails. Shown once, stored as SHA-256. Anyone holding one can preview it
//! (`POST /public/v1/cap-tokens/preview`); an unknown or expired token
//! reveals nothing beyond `{valid: false}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::Event;
use crate::body::ApiBody;
use crate::envelope::{envelope, rfc3339, RequestId};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::CapToken;
use crate::{crypto, scopes};

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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    /// One of the caller's apps.
    #[serde(alias = "appId")]
    app_id: String,
    /// A non-empty subset of the app's scopes.
    scopes: Vec<String>,
    /// Lifetime in seconds (1 to one year); none never expires.
    #[serde(alias = "expiresInSecs")]
    expires_in_secs: Option<i64>,
    /// Origins (`scheme://host[:port]`) the token is bound to.
    #[serde(default)]
    origins: Vec<String>,
    /// Emails the token is bound to.
    #[serde(default)]
    emails: Vec<String>,
}

fn check_origin(origin: &str) -> Result<(), ApiError> {
    let url = url::Url::parse(origin)
        .map_err(|e| ApiError::validation(format!("origin `{origin}`: {e}")))?;
    if url.origin().ascii_serialization() != origin.trim_end_matches('/') {
        return Err(ApiError::validation(format!(
            "origin `{origin}` must be scheme://host[:port]"
        )));
    }
    Ok(())
}

fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
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
    tag = "cap-tokens",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "`{id, token, appId, scopes, expiresAt, origins, emails, createdAt}`; `token` (`cap_…`) is shown only here"),
        (status = 401, description = "Missing or invalid credentials", content_type = "application/problem+json"),
        (status = 403, description = "No `apps.write`", content_type = "application/problem+json"),
        (status = 404, description = "No such app of the caller", content_type = "application/problem+json"),
        (status = 422, description = "Invalid scopes, lifetime, origins or emails", content_type = "application/problem+json")
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
        .filter(|a| a.owner_id == caller.account)
        .ok_or_else(|| ApiError::not_found("app"))?;
    let granted = scopes::parse_list(&body.scopes).map_err(ApiError::validation)?;
    if granted.is_empty() {
        return Err(ApiError::validation("`scopes` must not be empty"));
    }
    if !scopes::is_subset(&granted, &app.scopes) {
        return Err(ApiError::validation(
            "`scopes` must be a subset of the app's scopes",
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
        owner_id: caller.account.clone(),
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
    let data = json!({
        "id": token.id,
        "token": secret,
        "appId": token.app_id,
        "scopes": token.scopes,
        "expiresAt": token.expires_at.map(rfc3339),
        "origins": token.origins,
        "emails": token.emails,
        "createdAt": rfc3339(now),
    });
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
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
    tag = "cap-tokens",
    request_body = PreviewBody,
    responses(
        (status = 200, description = "The preview, or `{valid: false}`"),
        (status = 422, description = "Malformed body", content_type = "application/problem+json")
    )
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    rid: RequestId,
    ApiBody(body): ApiBody<PreviewBody>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let invalid = || envelope(json!({ "valid": false }), &rid, now);
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
    let data = json!({
        "valid": true,
        "app": { "id": app.id, "name": app.name },
        "scopes": token.scopes,
        "expires_at": token.expires_at.map(rfc3339),
        "bound": {
            "origins": token.origins,
            "emails": token.emails.iter().map(|e| mask_email(e)).collect::<Vec<_>>(),
        },
        "allowed_for_slug": allowed,
    });
    Ok(envelope(data, &rid, now))
}
