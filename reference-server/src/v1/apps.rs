//! `/v1/apps`: OAuth apps (clients). Confidential apps get a secret shown once
//! at creation and on rotation; only its hash is stored.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::Event;
use crate::body::ApiBody;
use crate::envelope::{envelope, rfc3339, RequestId};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::App;
use crate::{crypto, scopes};

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/apps", post(create).get(list))
        .route("/v1/apps/{id}", get(read).patch(update).delete(remove))
        .route("/v1/apps/{id}/secret", post(rotate_secret))
}

fn view(a: &App) -> Value {
    json!({
        "id": a.id,
        "clientId": a.id,
        "name": a.name,
        "redirectUris": a.redirect_uris,
        "allowedOrigins": a.allowed_origins,
        "public": a.is_public,
        "scopes": a.scopes,
        "createdAt": rfc3339(a.created_at),
    })
}

/// A redirect URI must be absolute without a fragment: `https`, `http` on a
/// loopback address (RFC 8252 §7.3), or a private-use scheme (RFC 8252 §7.1).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| format!("redirect URI `{uri}`: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("redirect URI `{uri}` must not have a fragment"));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "redirect URI `{uri}`: http is allowed for loopback only"
        )),
        s if s.contains('.') => Ok(()),
        _ => Err(format!(
            "redirect URI `{uri}`: use https, loopback http or a reverse-domain scheme"
        )),
    }
}

fn check_origin(origin: &str) -> Result<(), String> {
    let url = url::Url::parse(origin).map_err(|e| format!("origin `{origin}`: {e}"))?;
    let canonical = url.origin().ascii_serialization();
    if canonical != origin.trim_end_matches('/') {
        return Err(format!("origin `{origin}` must be scheme://host[:port]"));
    }
    Ok(())
}

fn validate(
    name: Option<&str>,
    uris: Option<&[String]>,
    origins: Option<&[String]>,
) -> Result<(), ApiError> {
    if let Some(n) = name {
        if n.trim().is_empty() || n.chars().count() > 100 {
            return Err(ApiError::validation("name must be 1-100 characters"));
        }
    }
    for u in uris.unwrap_or_default() {
        check_redirect_uri(u).map_err(ApiError::validation)?;
    }
    if uris.is_some_and(|u| u.len() > 20) || origins.is_some_and(|o| o.len() > 20) {
        return Err(ApiError::validation(
            "at most 20 redirect URIs and 20 origins",
        ));
    }
    for o in origins.unwrap_or_default() {
        check_origin(o).map_err(ApiError::validation)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateBody {
    name: String,
    redirect_uris: Vec<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    public: bool,
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/v1/apps",
    tag = "apps",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created; `data.clientSecret` shown once for confidential apps"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("apps.write")?;
    validate(
        Some(&body.name),
        Some(&body.redirect_uris),
        Some(&body.allowed_origins),
    )?;
    let scopes = match &body.scopes {
        Some(s) => scopes::parse_list(s).map_err(ApiError::validation)?,
        None => vec!["profile.basic".into(), "identity.read".into()],
    };
    let secret = (!body.public).then(|| crypto::new_secret(crypto::CLIENT_SECRET_PREFIX));
    let now = state.clock.now();
    let app = App {
        id: crypto::new_id("app_"),
        owner_id: caller.account.clone(),
        name: body.name.trim().to_owned(),
        redirect_uris: body.redirect_uris,
        allowed_origins: body.allowed_origins,
        is_public: body.public,
        secret_hash: secret.as_deref().map(crypto::hash),
        scopes,
        created_at: now,
    };
    state.store.create_app(&app).await?;
    state
        .audit
        .record(
            Event::by("app.created", &caller)
                .subject(&app.id)
                .data(json!({ "name": app.name, "public": app.is_public, "scopes": app.scopes })),
        )
        .await?;
    let mut data = view(&app);
    if let Some(s) = secret {
        data["clientSecret"] = s.into();
    }
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

async fn owned(state: &AppState, caller: &Principal, id: &str) -> Result<App, ApiError> {
    state
        .store
        .app(id)
        .await?
        .filter(|a| a.owner_id == caller.account)
        .ok_or_else(|| ApiError::not_found("app"))
}

#[utoipa::path(
    get,
    path = "/v1/apps",
    tag = "apps",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The caller's apps"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("apps.read")?;
    let apps = state.store.apps_of(&caller.account).await?;
    let data: Vec<Value> = apps.iter().map(view).collect();
    Ok(envelope(data.into(), &rid, state.clock.now()))
}

#[utoipa::path(
    get,
    path = "/v1/apps/{id}",
    tag = "apps",
    params(("id" = String, Path, description = "Resource id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One app"), (status = 404, description = "Not found"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("apps.read")?;
    let app = owned(&state, &caller, &id).await?;
    Ok(envelope(view(&app), &rid, state.clock.now()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UpdateBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    allowed_origins: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    patch,
    path = "/v1/apps/{id}",
    tag = "apps",
    params(("id" = String, Path, description = "Resource id")),
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Updated"), (status = 404, description = "Not found"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require("apps.write")?;
    let mut app = owned(&state, &caller, &id).await?;
    let scopes_before = app.scopes.clone();
    validate(
        body.name.as_deref(),
        body.redirect_uris.as_deref(),
        body.allowed_origins.as_deref(),
    )?;
    if let Some(n) = body.name {
        app.name = n.trim().to_owned();
    }
    if let Some(u) = body.redirect_uris {
        app.redirect_uris = u;
    }
    if let Some(o) = body.allowed_origins {
        app.allowed_origins = o;
    }
    if let Some(s) = body.scopes {
        app.scopes = scopes::parse_list(&s).map_err(ApiError::validation)?;
    }
    state.store.update_app(&app).await?;
    state
        .audit
        .record(
            Event::by("app.updated", &caller)
                .subject(&app.id)
                .data(json!({
                    "name": app.name, "redirectUris": app.redirect_uris,
                    "allowedOrigins": app.allowed_origins, "scopes": app.scopes,
                })),
        )
        .await?;
    if app.scopes != scopes_before {
        state
            .webhooks
            .emit_in_app(
                &caller.account,
                &app.id,
                "permission.changed",
                json!({ "appId": app.id, "from": scopes_before, "to": app.scopes }),
            )
            .await?;
    }
    Ok(envelope(view(&app), &rid, state.clock.now()))
}

#[utoipa::path(
    post,
    path = "/v1/apps/{id}/secret",
    tag = "apps",
    params(("id" = String, Path, description = "Resource id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "New secret, shown once"), (status = 409, description = "Public app"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("apps.write")?;
    let mut app = owned(&state, &caller, &id).await?;
    if app.is_public {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "public_client",
            "public apps have no secret",
        ));
    }
    let secret = crypto::new_secret(crypto::CLIENT_SECRET_PREFIX);
    app.secret_hash = Some(crypto::hash(&secret));
    state.store.update_app(&app).await?;
    state
        .audit
        .record(Event::by("app.secret_rotated", &caller).subject(&app.id))
        .await?;
    let mut data = view(&app);
    data["clientSecret"] = secret.into();
    Ok(envelope(data, &rid, state.clock.now()))
}

#[utoipa::path(
    delete,
    path = "/v1/apps/{id}",
    tag = "apps",
    params(("id" = String, Path, description = "Resource id")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found"), (status = 400, description = "Invalid request", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials"), (status = 403, description = "Insufficient scope"))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("apps.write")?;
    if !state.store.delete_app(&id, &caller.account).await? {
        return Err(ApiError::not_found("app"));
    }
    state
        .audit
        .record(Event::by("app.deleted", &caller).subject(&id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(check_redirect_uri("https://app.example/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/cb").is_ok());
        assert!(check_redirect_uri("http://app.example/cb").is_err());
        assert!(check_redirect_uri("https://app.example/cb#x").is_err());
        assert!(check_redirect_uri("/relative").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }
}
