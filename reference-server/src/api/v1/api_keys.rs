//! `/v1/api-keys`: API keys and personal access tokens. The secret is shown
//! once at creation; lists are masked to the 12-character prefix and last 4.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::principal::Principal;
use crate::core::{crypto, fields, network, scopes};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::ApiKey;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/api-keys", post(create).get(list))
        .route("/v1/api-keys/{id}", get(read).patch(update).delete(remove))
        .route("/v1/api-keys/{id}/revoke", post(revoke))
}

/// Whether a key works.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyStatus {
    /// It authenticates.
    Active,
    /// Revoked: it never will again.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// A key as the API shows it (`#/components/schemas/ApiKey`): masked, never
/// the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ApiKey)]
pub struct ApiKeyView {
    /// `key_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The first 12 characters of the secret, for logs and display.
    pub prefix: String,
    /// The last 4 characters of the secret.
    pub last4: String,
    /// `prefix…last4`.
    pub masked: String,
    /// What it may do.
    #[schema(value_type = Vec<fields::HeldScope>)]
    pub scopes: Vec<String>,
    /// The app a project-scoped key belongs to.
    #[schema(required = true)]
    pub app_id: Option<String>,
    /// Whether it works.
    pub status: ApiKeyStatus,
    /// RFC 3339; null if it never expires.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
    /// RFC 3339; null unless revoked.
    #[schema(format = DateTime, required = true)]
    pub revoked_at: Option<String>,
    /// RFC 3339; null if never used.
    #[schema(format = DateTime, required = true)]
    pub last_used_at: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The networks it may be used from; null: anywhere.
    #[schema(required = true, value_type = Option<Vec<fields::Cidr>>)]
    pub allowed_ips: Option<Vec<String>>,
}

/// A new key with its secret (`#/components/schemas/CreatedApiKey`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    api_key: ApiKeyView,
    /// The secret (`sgl_live_…` or `sgl_test_…`), shown only here.
    key: String,
}

envelopes! {
    /// One key.
    ApiKeyEnvelope(ApiKeyView, Meta);
    /// A new key, with its secret.
    CreatedApiKeyEnvelope(CreatedApiKey, Meta);
    /// The caller's keys, masked.
    ApiKeyListEnvelope(Vec<ApiKeyView>, Meta);
}

/// The public view of a key (never the secret).
pub fn view(k: &ApiKey, now: i64) -> ApiKeyView {
    let status = if k.revoked_at.is_some() {
        ApiKeyStatus::Revoked
    } else if k.is_active(now) {
        ApiKeyStatus::Active
    } else {
        ApiKeyStatus::Expired
    };
    ApiKeyView {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        last4: k.last4.clone(),
        masked: crypto::mask(&k.prefix, &k.last4),
        scopes: k.scopes.clone(),
        app_id: k.app_id.clone(),
        status,
        expires_at: k.expires_at.map(rfc3339),
        revoked_at: k.revoked_at.map(rfc3339),
        last_used_at: k.last_used_at.map(rfc3339),
        created_at: rfc3339(k.created_at),
        allowed_ips: k
            .allowed_ips
            .as_ref()
            .map(|nets| nets.iter().map(ToString::to_string).collect()),
    }
}

/// The most networks one key lists.
const MAX_ALLOWED_IPS: usize = 100;

/// Parses an allowlist: 1-100 CIDRs or addresses.
fn allowlist(list: &[String]) -> Result<Vec<ipnet::IpNet>, ApiError> {
    if list.is_empty() || list.len() > MAX_ALLOWED_IPS {
        return Err(ApiError::validation(
            "allowedIps lists 1-100 networks (send null for anywhere)",
        ));
    }
    list.iter()
        .map(|n| {
            network::parse(n)
                .filter(|_| fields::CIDR.matches(n))
                .ok_or_else(|| ApiError::validation(format!("allowedIps: {n:?} is not a CIDR")))
        })
        .collect()
}

/// A scope preset: `read` (every `*.read`), `write` (read plus every
/// `*.write` but account administration) or `full` (everything).
#[derive(Debug)]
pub struct Preset;

impl utoipa::PartialSchema for Preset {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        fields::string_enum(
            ["read", "write", "full"],
            "`read` = every `*.read`; `write` = read plus every `*.write` except account administration; `full` = everything",
        )
        .into()
    }
}
impl utoipa::ToSchema for Preset {}

/// Creates a key for `owner` in its personal workspace and returns it with
/// its secret (shown once).
pub async fn issue(
    state: &AppState,
    owner: &str,
    name: String,
    scopes: Vec<String>,
    expires_at: Option<i64>,
    app_id: Option<String>,
) -> Result<(ApiKey, String), crate::store::StoreError> {
    let home = KeyHome {
        workspace: owner,
        owner,
    };
    issue_in(state, home, name, scopes, expires_at, app_id).await
}

/// Where a key is made: its workspace, and the user who makes it.
#[derive(Debug, Clone, Copy)]
pub struct KeyHome<'a> {
    /// The workspace the key acts in.
    pub workspace: &'a str,
    /// The user who makes it.
    pub owner: &'a str,
}

/// Creates a key in `home` and returns it with its secret (shown once).
pub async fn issue_in(
    state: &AppState,
    home: KeyHome<'_>,
    name: String,
    scopes: Vec<String>,
    expires_at: Option<i64>,
    app_id: Option<String>,
) -> Result<(ApiKey, String), crate::store::StoreError> {
    let secret = crypto::new_api_key(state.config.test_mode);
    let key = store_with_secret(state, home, name, scopes, expires_at, app_id, &secret).await?;
    Ok((key, secret))
}

/// Stores a key whose secret is already chosen (fresh from [`issue`], or a
/// known value from a test-mode fixtures file): only its hash, 12-character
/// prefix and last 4 are kept.
pub async fn store_with_secret(
    state: &AppState,
    home: KeyHome<'_>,
    name: String,
    scopes: Vec<String>,
    expires_at: Option<i64>,
    app_id: Option<String>,
    secret: &str,
) -> Result<ApiKey, crate::store::StoreError> {
    let key = ApiKey {
        id: crypto::new_id("key_"),
        workspace_id: home.workspace.to_owned(),
        owner_id: home.owner.to_owned(),
        app_id,
        name,
        prefix: secret.chars().take(12).collect(),
        last4: secret[secret.len().saturating_sub(4)..].to_owned(),
        scopes,
        expires_at,
        revoked_at: None,
        last_used_at: None,
        created_at: state.clock.now(),
        allowed_ips: None,
    };
    state
        .store
        .create_api_key(&key, &crypto::hash(secret))
        .await?;
    tracing::info!(key = %key.prefix, id = %key.id, "api key created");
    Ok(key)
}

/// `POST /v1/api-keys`: `scopes` or `preset`, not both (neither: `read`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = CreateApiKey)]
pub(crate) struct CreateBody {
    #[schema(value_type = fields::Name)]
    name: String,
    /// Explicit scopes, each held by the calling credential.
    #[schema(value_type = Option<Vec<fields::Scope>>)]
    scopes: Option<Vec<String>>,
    /// A preset instead of `scopes`.
    #[schema(value_type = Option<Preset>)]
    preset: Option<String>,
    /// Days until it expires (1-3650); never when absent.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
    /// One of the caller's apps, for a project-scoped key.
    app_id: Option<String>,
    /// Networks the key may be used from (1-100); anywhere when absent.
    /// From elsewhere it is refused with 403 `ip_not_allowed`.
    #[schema(value_type = Option<Vec<fields::Cidr>>, min_items = 1, max_items = 100)]
    allowed_ips: Option<Vec<String>>,
}

fn check_name(name: &str) -> Result<String, ApiError> {
    if !fields::NAME.matches(name) {
        return Err(ApiError::validation("name must be 1-100 characters"));
    }
    Ok(name.trim().to_owned())
}

#[utoipa::path(
    post,
    path = "/v1/api-keys",
    operation_id = "createApiKey",
    tag = "api-keys",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created; `data.key` is the secret, shown once", body = CreatedApiKeyEnvelope),
        (status = 403, description = "`insufficient_scope`: no `keys.write`, or a scope the calling credential does not hold"),
        (status = 404, description = "`not_found`: `appId` is not one of the caller's apps"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("keys.write")?;
    let name = check_name(&body.name)?;
    let granted = match (&body.scopes, &body.preset) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation("give `scopes` or `preset`, not both"))
        }
        (Some(list), None) => scopes::parse_list(list).map_err(ApiError::validation)?,
        (None, Some(p)) => scopes::preset(p)
            .ok_or_else(|| ApiError::validation("preset must be read, write or full"))?,
        (None, None) => scopes::preset("read").unwrap_or_default(),
    };
    // A key can never hold more than the credential that created it.
    if !scopes::is_subset(&granted, &caller.scopes) {
        return Err(ApiError::insufficient_scope(
            granted
                .iter()
                .find(|s| !caller.scopes.contains(s))
                .map_or("", |s| s.as_str()),
        ));
    }
    let allowed_ips = body.allowed_ips.as_deref().map(allowlist).transpose()?;
    let now = state.clock.now();
    let expires_at = match body.expires_in_days {
        None => None,
        Some(d @ 1..=3650) => Some(now + i64::from(d) * 86_400),
        Some(_) => return Err(ApiError::validation("expiresInDays must be 1-3650")),
    };
    // A project key makes keys of its own app only.
    let app_id = match (&caller.project, body.app_id) {
        (Some(project), None) => Some(project.clone()),
        (Some(project), Some(other)) if &other != project => {
            return Err(ApiError::not_found("app"))
        }
        (_, app_id) => app_id,
    };
    if let Some(app_id) = &app_id {
        let owned = state
            .store
            .app(app_id)
            .await?
            .is_some_and(|a| a.workspace_id == caller.workspace);
        if !owned {
            return Err(ApiError::not_found("app"));
        }
    }
    let owner = match &caller.user {
        Some(user) => user.clone(),
        None => state
            .store
            .workspace(&caller.workspace)
            .await?
            .map(|w| w.owner_id)
            .ok_or_else(crate::http::principal::workspace_not_found)?,
    };
    let home = KeyHome {
        workspace: &caller.workspace,
        owner: &owner,
    };
    let (mut key, secret) = issue_in(&state, home, name, granted, expires_at, app_id).await?;
    // Set before the secret is shown: nobody can have used the key yet.
    if let Some(nets) = allowed_ips {
        state
            .store
            .set_api_key_allowed_ips(&key.id, &caller.workspace, Some(&nets))
            .await?;
        key.allowed_ips = Some(nets);
    }
    state
        .audit
        .record(
            Event::by("key.created", &caller)
                .subject(&key.id)
                .data(json!({
                    "name": key.name, "prefix": key.prefix, "scopes": key.scopes,
                    "appId": key.app_id, "expiresAt": key.expires_at,
                    "allowedIps": view(&key, now).allowed_ips,
                })),
        )
        .await?;
    state
        .webhooks
        .emit(
            &caller.workspace,
            "key.created",
            json!({
                "keyId": key.id, "name": key.name, "prefix": key.prefix,
                "scopes": key.scopes, "appId": key.app_id,
            }),
        )
        .await?;
    let data = CreatedApiKey {
        api_key: view(&key, now),
        key: secret,
    };
    Ok((StatusCode::CREATED, envelope(data, &rid, now)))
}

#[utoipa::path(
    get,
    path = "/v1/api-keys",
    operation_id = "listApiKeys",
    tag = "api-keys",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The caller's keys, masked", body = ApiKeyListEnvelope))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("keys.read")?;
    let now = state.clock.now();
    let keys = state.store.api_keys_of(&caller.workspace).await?;
    let data: Vec<ApiKeyView> = keys
        .iter()
        .filter(|k| caller.sees_app(k.app_id.as_deref()))
        .map(|k| view(k, now))
        .collect();
    Ok(envelope(data, &rid, now))
}

#[utoipa::path(
    get,
    path = "/v1/api-keys/{id}",
    operation_id = "getApiKey",
    tag = "api-keys",
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One masked key", body = ApiKeyEnvelope),
        (status = 404, description = "`not_found`: no such key of the caller's"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("keys.read")?;
    let now = state.clock.now();
    let key = state
        .store
        .api_key(&id, &caller.workspace)
        .await?
        .filter(|k| caller.sees_app(k.app_id.as_deref()))
        .ok_or_else(|| ApiError::not_found("API key"))?;
    Ok(envelope(view(&key, now), &rid, now))
}

/// `PATCH /v1/api-keys/{id}`: a new name, a new allowlist (`null` lifts
/// it), or both.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = UpdateApiKey)]
pub(crate) struct UpdateBody {
    #[schema(value_type = Option<fields::Name>)]
    name: Option<String>,
    /// Networks the key may be used from (1-100); `null`: anywhere.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<fields::Cidr>>, nullable, min_items = 1, max_items = 100)]
    allowed_ips: Option<Option<Vec<String>>>,
}

/// Tells `"allowedIps": null` (`Some(None)`) from no `allowedIps` at all.
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Vec<String>>>, D::Error> {
    Option::<Vec<String>>::deserialize(d).map(Some)
}

#[utoipa::path(
    patch,
    path = "/v1/api-keys/{id}",
    operation_id = "updateApiKey",
    tag = "api-keys",
    params(("id" = String, Path, description = "Key id")),
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Updated", body = ApiKeyEnvelope),
        (status = 404, description = "`not_found`: no such key of the caller's"),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require("keys.write")?;
    within_project(&state, &caller, &id).await?;
    if body.name.is_none() && body.allowed_ips.is_none() {
        return Err(ApiError::validation("send `name`, `allowedIps` or both"));
    }
    let name = body.name.as_deref().map(check_name).transpose()?;
    let allowed_ips = match &body.allowed_ips {
        Some(Some(list)) => Some(Some(allowlist(list)?)),
        Some(None) => Some(None),
        None => None,
    };
    if let Some(name) = &name {
        if !state
            .store
            .rename_api_key(&id, &caller.workspace, name)
            .await?
        {
            return Err(ApiError::not_found("API key"));
        }
        state
            .audit
            .record(
                Event::by("key.renamed", &caller)
                    .subject(&id)
                    .data(json!({ "name": name })),
            )
            .await?;
    }
    if let Some(nets) = &allowed_ips {
        if !state
            .store
            .set_api_key_allowed_ips(&id, &caller.workspace, nets.as_deref())
            .await?
        {
            return Err(ApiError::not_found("API key"));
        }
        let shown: Option<Vec<String>> = nets
            .as_ref()
            .map(|n| n.iter().map(ToString::to_string).collect());
        state
            .audit
            .record(
                Event::by("key.allowlist_changed", &caller)
                    .subject(&id)
                    .data(json!({ "allowedIps": shown })),
            )
            .await?;
    }
    read(State(state), rid, caller, Path(id)).await
}

#[utoipa::path(
    post,
    path = "/v1/api-keys/{id}/revoke",
    operation_id = "revokeApiKey",
    tag = "api-keys",
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Revoked at once (also when it already was)", body = ApiKeyEnvelope),
        (status = 404, description = "`not_found`: no such key of the caller's"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("keys.write")?;
    within_project(&state, &caller, &id).await?;
    let now = state.clock.now();
    if !state
        .store
        .revoke_api_key(&id, &caller.workspace, now)
        .await?
    {
        return Err(ApiError::not_found("API key"));
    }
    tracing::info!(id = %id, "api key revoked");
    state
        .audit
        .record(Event::by("key.revoked", &caller).subject(&id))
        .await?;
    state
        .webhooks
        .emit(&caller.workspace, "key.revoked", json!({ "keyId": id }))
        .await?;
    read(State(state), rid, caller, Path(id)).await
}

#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    operation_id = "deleteApiKey",
    tag = "api-keys",
    params(("id" = String, Path, description = "Key id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`: no such key of the caller's"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require("keys.write")?;
    within_project(&state, &caller, &id).await?;
    if !state.store.delete_api_key(&id, &caller.workspace).await? {
        return Err(ApiError::not_found("API key"));
    }
    state
        .audit
        .record(Event::by("key.deleted", &caller).subject(&id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 404 for a key outside the caller's project (a project key sees only its
/// own app's keys); nothing to check for other callers.
async fn within_project(state: &AppState, caller: &Principal, id: &str) -> Result<(), ApiError> {
    if caller.project.is_none() {
        return Ok(());
    }
    state
        .store
        .api_key(id, &caller.workspace)
        .await?
        .filter(|k| caller.sees_app(k.app_id.as_deref()))
        .map(drop)
        .ok_or_else(|| ApiError::not_found("API key"))
}
