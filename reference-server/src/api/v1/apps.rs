//! `/v1/apps`: OAuth apps (clients). Confidential apps get a secret shown once
//! at creation and on rotation; only its hash is stored.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
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
use crate::store::App;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/apps", post(create).get(list))
        .route("/v1/apps/{id}", get(read).patch(update).delete(remove))
        .route("/v1/apps/{id}/secret", post(rotate_secret))
}

/// An OAuth app as the API shows it (`#/components/schemas/App`): never its
/// secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = App)]
pub struct AppView {
    /// `app_…` (fixtures may choose their own).
    pub id: String,
    /// The OAuth `client_id`: the same as `id`.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Registered redirect URIs, matched exactly (loopback ports excepted).
    pub redirect_uris: Vec<String>,
    /// Browser origins allowed to call the token endpoint (CORS).
    pub allowed_origins: Vec<String>,
    /// A public client (no secret; PKCE only).
    pub public: bool,
    /// The scopes it may request.
    #[schema(value_type = Vec<fields::Scope>)]
    pub scopes: Vec<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A new app (`#/components/schemas/CreatedApp`): a confidential one carries
/// its secret, shown only here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApp {
    #[serde(flatten)]
    app: AppView,
    /// The client secret (`sgl_cs_…`) of a confidential app; absent for a
    /// public one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    client_secret: Option<String>,
}

/// An app with its new secret (`#/components/schemas/AppWithSecret`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppWithSecret {
    #[serde(flatten)]
    app: AppView,
    /// The new client secret, shown only here; the old one stops working.
    client_secret: String,
}

envelopes! {
    /// One app.
    AppEnvelope(AppView, Meta);
    /// A new app.
    CreatedAppEnvelope(CreatedApp, Meta);
    /// An app with its new secret.
    AppWithSecretEnvelope(AppWithSecret, Meta);
    /// The caller's apps.
    AppListEnvelope(Vec<AppView>, Meta);
}

fn view(a: &App) -> AppView {
    AppView {
        id: a.id.clone(),
        client_id: a.id.clone(),
        name: a.name.clone(),
        redirect_uris: a.redirect_uris.clone(),
        allowed_origins: a.allowed_origins.clone(),
        public: a.is_public,
        scopes: a.scopes.clone(),
        created_at: rfc3339(a.created_at),
    }
}

/// A redirect URI must be absolute without a fragment: `https`, `http` on a
/// loopback address (RFC 8252 §7.3), or a private-use scheme (RFC 8252 §7.1),
/// and in the published grammar ([`fields::REDIRECT_URI`]).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if !fields::REDIRECT_URI.matches(uri) {
        return Err(format!(
            "redirect URI `{uri}`: use https, loopback http or a reverse-domain scheme, with a lowercase host, printable ASCII and no fragment"
        ));
    }
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

/// An origin is `scheme://host[:port]` exactly as browsers send it
/// ([`fields::ORIGIN`]).
pub fn check_origin(origin: &str) -> Result<(), String> {
    if !fields::ORIGIN.matches(origin) {
        return Err(format!("origin `{origin}` must be scheme://host[:port]"));
    }
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
    if name.is_some_and(|n| !fields::NAME.matches(n)) {
        return Err(ApiError::validation("name must be 1-100 characters"));
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

/// `POST /v1/apps`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = CreateApp)]
pub(crate) struct CreateBody {
    #[schema(value_type = fields::Name)]
    name: String,
    /// At most 20.
    #[schema(value_type = Vec<fields::RedirectUri>, max_items = 20)]
    redirect_uris: Vec<String>,
    /// At most 20; none by default.
    #[serde(default)]
    #[schema(value_type = Vec<fields::Origin>, max_items = 20)]
    allowed_origins: Vec<String>,
    /// A public client (no secret, PKCE only); default false.
    #[serde(default)]
    public: bool,
    /// What it may request; default `profile.basic identity.read`.
    #[schema(value_type = Option<Vec<fields::Scope>>)]
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    post,
    path = "/v1/apps",
    operation_id = "createApp",
    tag = "apps",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created; `data.clientSecret` is shown once, for confidential apps", body = CreatedAppEnvelope))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("apps.write")?;
    if caller.project.is_some() {
        return Err(ApiError::project_scoped());
    }
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
        workspace_id: caller.workspace.clone(),
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
    let data = CreatedApp {
        app: view(&app),
        client_secret: secret,
    };
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

async fn owned(state: &AppState, caller: &Principal, id: &str) -> Result<App, ApiError> {
    state
        .store
        .app(id)
        .await?
        .filter(|a| a.workspace_id == caller.workspace && caller.sees_app(Some(&a.id)))
        .ok_or_else(|| ApiError::not_found("app"))
}

#[utoipa::path(
    get,
    path = "/v1/apps",
    operation_id = "listApps",
    tag = "apps",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The caller's apps", body = AppListEnvelope))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("apps.read")?;
    let apps = state.store.apps_of(&caller.workspace).await?;
    let data: Vec<AppView> = apps
        .iter()
        .filter(|a| caller.sees_app(Some(&a.id)))
        .map(view)
        .collect();
    Ok(envelope(data, &rid, state.clock.now()))
}

#[utoipa::path(
    get,
    path = "/v1/apps/{id}",
    operation_id = "getApp",
    tag = "apps",
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One app", body = AppEnvelope),
        (status = 404, description = "`not_found`: no such app of the caller's"),
    )
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

/// `PATCH /v1/apps/{id}`: what is given (and not null) replaces what was.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = UpdateApp)]
pub(crate) struct UpdateBody {
    #[schema(value_type = Option<fields::Name>)]
    name: Option<String>,
    /// At most 20.
    #[schema(value_type = Option<Vec<fields::RedirectUri>>, max_items = 20)]
    redirect_uris: Option<Vec<String>>,
    /// At most 20.
    #[schema(value_type = Option<Vec<fields::Origin>>, max_items = 20)]
    allowed_origins: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<fields::Scope>>)]
    scopes: Option<Vec<String>>,
}

#[utoipa::path(
    patch,
    path = "/v1/apps/{id}",
    operation_id = "updateApp",
    tag = "apps",
    params(("id" = String, Path, description = "App id")),
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated", body = AppEnvelope),
        (status = 404, description = "`not_found`: no such app of the caller's"),
    )
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
                &caller.workspace,
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
    operation_id = "rotateAppSecret",
    tag = "apps",
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "New secret, shown once", body = AppWithSecretEnvelope),
        (status = 404, description = "`not_found`: no such app of the caller's"),
        (status = 409, description = "`public_client`: public apps have no secret"),
    )
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
    let data = AppWithSecret {
        app: view(&app),
        client_secret: secret,
    };
    Ok(envelope(data, &rid, state.clock.now()))
}

#[utoipa::path(
    delete,
    path = "/v1/apps/{id}",
    operation_id = "deleteApp",
    tag = "apps",
    params(("id" = String, Path, description = "App id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`: no such app of the caller's"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("apps.write")?;
    if !state.store.delete_app(&id, &caller.workspace).await? {
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

    #[test]
    fn redirect_uris_in_the_grammar_all_pass_the_parser_checks() {
        for ok in [
            "https://app.example/cb",
            "https://app.example",
            "https://a-b.c1.example:8443/cb?x=1&y=%20",
            "https://10.0.0.1/cb",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53682/callback",
            "http://[::1]:8080/cb",
            "http://localhost/cb",
            "com.example.app:/cb",
            "com.example.app:/",
            "https://app.example/a\\b",
        ] {
            assert!(fields::REDIRECT_URI.matches(ok), "{ok}");
            assert!(
                check_redirect_uri(ok).is_ok(),
                "{ok} matches but does not parse"
            );
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#x",
            "/cb",
            "javascript:alert(1)",
            "ftp://ok.example/cb",
            "https://APP.example/cb",
            "https://xn--a.example/cb",
            "https://a.1/cb",
            "https://a:99999/cb",
            "com.example.app://host/cb",
            "http://127.0.0.1.evil.example/cb",
            "https://app.example/ cb",
        ] {
            assert!(!fields::REDIRECT_URI.matches(bad), "{bad}");
        }
    }
}
