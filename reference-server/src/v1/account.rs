//! `/v1/account`: the caller's own account. The user sets their alias here;
//! apps see it in `/app/v1/identity/lookup` only when the user granted them
//! `profile.basic`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use crate::audit::Event;
use crate::body::ApiBody;
use crate::envelope::{envelope, rfc3339, RequestId};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::User;

/// Longest alias, in characters.
const MAX_ALIAS: usize = 64;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/account", get(read).patch(update))
}

fn view(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "alias": u.alias,
        "createdAt": rfc3339(u.created_at),
    })
}

async fn user(state: &AppState, caller: &Principal) -> Result<User, ApiError> {
    state
        .store
        .user(&caller.account)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

#[utoipa::path(
    get,
    path = "/v1/account",
    tag = "account",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "`{id, email, alias, createdAt}`"), (status = 401, description = "Missing or invalid credentials", content_type = "application/problem+json"), (status = 403, description = "Insufficient scope (`account.read`)", content_type = "application/problem+json"))
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.read")?;
    let user = user(&state, &caller).await?;
    Ok(envelope(view(&user), &rid, state.clock.now()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    /// The alias apps granted `profile.basic` see: 1-64 characters after
    /// trimming, no control characters; `null` clears it, absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    alias: Option<Option<String>>,
}

/// Tells `"alias": null` (`Some(None)`) from no `alias` at all (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn check_alias(raw: &str) -> Result<String, ApiError> {
    let alias = raw.trim();
    let len = alias.chars().count();
    if len == 0 || len > MAX_ALIAS {
        return Err(ApiError::validation(format!(
            "alias must be 1-{MAX_ALIAS} characters (send null to clear it)"
        )));
    }
    if alias.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "alias must not contain control characters",
        ));
    }
    Ok(alias.to_owned())
}

#[utoipa::path(
    patch,
    path = "/v1/account",
    tag = "account",
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The updated account"), (status = 400, description = "Malformed JSON", content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", content_type = "application/problem+json"), (status = 403, description = "Insufficient scope (`account.write`)", content_type = "application/problem+json"), (status = 422, description = "Invalid alias or unknown field", content_type = "application/problem+json"))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.write")?;
    if let Some(alias) = body.alias {
        let alias = alias.as_deref().map(check_alias).transpose()?;
        if !state
            .store
            .set_user_alias(&caller.account, alias.as_deref())
            .await?
        {
            return Err(ApiError::not_found("account"));
        }
        // The alias itself stays out of the append-only log: it is personal
        // data the user may want gone.
        state
            .audit
            .record(
                Event::by("account.updated", &caller)
                    .subject(&caller.account)
                    .data(json!({ "changed": ["alias"], "aliasSet": alias.is_some() })),
            )
            .await?;
    }
    let user = user(&state, &caller).await?;
    Ok(envelope(view(&user), &rid, state.clock.now()))
}
