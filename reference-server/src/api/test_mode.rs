//! Test mode for CI users: a fixtures file with known apps, users and keys,
//! and a controllable clock. Enabled only by `--test-mode`, never by default.

use std::path::Path;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::seed;
use crate::app::state::AppState;
use crate::core::{crypto, scopes};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::store::App;

/// `POST /_test/clock`, mounted only in test mode.
pub fn routes() -> Router<AppState> {
    Router::new().route("/_test/clock", post(clock))
}

/// `POST /_test/clock`: exactly one of `advance` and `set`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SetTestClock)]
pub(crate) struct ClockBody {
    /// Seconds to move forward (or back, if negative).
    advance: Option<i64>,
    /// An absolute UNIX time to jump to.
    set: Option<i64>,
}

/// The test clock (`#/components/schemas/TestClock`).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // A schema: [`clock`] writes it.
pub struct TestClock {
    /// The server's time now, UNIX seconds.
    now: i64,
}

#[utoipa::path(
    post,
    path = "/_test/clock",
    operation_id = "setTestClock",
    tag = "test-mode",
    request_body = ClockBody,
    responses(
        (status = 200, description = "The server's time now", body = TestClock),
        (status = 404, description = "`not_found`: not in test mode"),
        (status = 422, description = "`validation_failed`: not exactly one of `advance` and `set`"),
    )
)]
pub(crate) async fn clock(
    State(state): State<AppState>,
    ApiBody(body): ApiBody<ClockBody>,
) -> Result<Json<Value>, ApiError> {
    match (body.advance, body.set) {
        (Some(secs), None) => state.clock.advance(secs),
        (None, Some(at)) => state.clock.set(at),
        _ => {
            return Err(ApiError::validation(
                "give exactly one of `advance` or `set`",
            ))
        }
    }
    Ok(Json(json!({ "now": state.clock.now() })))
}

/// The fixtures file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fixtures {
    #[serde(default)]
    users: Vec<FixtureUser>,
    #[serde(default)]
    apps: Vec<FixtureApp>,
    #[serde(default)]
    api_keys: Vec<FixtureKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureUser {
    email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FixtureApp {
    id: String,
    name: String,
    owner: String,
    redirect_uris: Vec<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    /// Known client secret; absent for a public app.
    secret: Option<String>,
    scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FixtureKey {
    owner: String,
    name: String,
    /// The known key value (`sgl_test_…`, from `sigil-server mint-key`).
    key: String,
    scopes: Option<Vec<String>>,
    preset: Option<String>,
    app_id: Option<String>,
}

/// Loads a fixtures file into the store. Idempotent on a store that already
/// holds the same fixtures: existing rows are left as they are.
pub async fn load(state: &AppState, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fixtures: Fixtures =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let err = |e: crate::store::StoreError| e.to_string();
    for u in &fixtures.users {
        seed::user(state, &u.email).await.map_err(err)?;
    }
    let now = state.clock.now();
    for a in &fixtures.apps {
        if state.store.app(&a.id).await.map_err(err)?.is_some() {
            continue;
        }
        for uri in &a.redirect_uris {
            crate::api::v1::apps::check_redirect_uri(uri)?;
        }
        let owner = seed::user(state, &a.owner).await.map_err(err)?;
        state
            .store
            .create_app(&App {
                id: a.id.clone(),
                workspace_id: owner.id,
                name: a.name.clone(),
                redirect_uris: a.redirect_uris.clone(),
                allowed_origins: a.allowed_origins.clone(),
                is_public: a.secret.is_none(),
                secret_hash: a.secret.as_deref().map(crypto::hash),
                scopes: scopes::parse_list(&a.scopes)?,
                created_at: now,
            })
            .await
            .map_err(err)?;
    }
    for k in &fixtures.api_keys {
        if !crypto::is_well_formed_api_key(&k.key) {
            return Err(format!(
                "fixture key `{}` is not a well-formed key; mint one with `sigil-server mint-key`",
                sigil::secret::log_prefix(&k.key)
            ));
        }
        let hash = crypto::hash(&k.key);
        if state
            .store
            .api_key_by_hash(&hash)
            .await
            .map_err(err)?
            .is_some()
        {
            continue;
        }
        let granted = match (&k.scopes, &k.preset) {
            (Some(list), None) => scopes::parse_operator_list(list)?,
            (None, Some(p)) => scopes::preset(p).ok_or("preset must be read, write or full")?,
            _ => return Err(format!("fixture key `{}`: give scopes or preset", k.name)),
        };
        let owner = seed::user(state, &k.owner).await.map_err(err)?;
        let home = crate::api::v1::api_keys::KeyHome {
            workspace: &owner.id,
            owner: &owner.id,
        };
        crate::api::v1::api_keys::store_with_secret(
            state,
            home,
            k.name.clone(),
            granted,
            None,
            k.app_id.clone(),
            &k.key,
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}
