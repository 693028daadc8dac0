//! `/v1/account`: the caller's own account. The user sets their alias here;
//! apps see it in `/app/v1/identity/lookup` only when the user granted them
//! `profile.basic`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::fields;
use crate::core::principal::Principal;
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::store::User;

/// Longest alias, in characters ([`fields::ALIAS`]).
const MAX_ALIAS: usize = 64;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/account", get(read).patch(update))
}

/// The caller's account (`#/components/schemas/Account`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Account)]
pub struct AccountView {
    /// `usr_…`.
    id: String,
    /// The sign-in email, lowercase.
    email: String,
    /// What apps granted `profile.basic` see; null when unset.
    #[schema(required = true)]
    alias: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
}

envelopes! {
    /// The caller's account.
    AccountEnvelope(AccountView, Meta);
}

fn view(u: &User) -> AccountView {
    AccountView {
        id: u.id.clone(),
        email: u.email.clone(),
        alias: u.alias.clone(),
        created_at: rfc3339(u.created_at),
    }
}

async fn user(state: &AppState, caller: &Principal) -> Result<User, ApiError> {
    state
        .store
        .user(caller.user.as_deref().unwrap_or(&caller.workspace))
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

#[utoipa::path(
    get,
    path = "/v1/account",
    operation_id = "getAccount",
    tag = "account",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The caller's account", body = AccountEnvelope),
        (status = 403, description = "`insufficient_scope`: no `account.read`"),
    )
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

/// `PATCH /v1/account`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateAccount)]
pub(crate) struct UpdateBody {
    /// The alias apps granted `profile.basic` see: 1-64 characters after
    /// trimming, no control characters; `null` clears it, absent keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::Alias>)]
    alias: Option<Option<String>>,
}

/// Tells `"alias": null` (`Some(None)`) from no `alias` at all (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn check_alias(raw: &str) -> Result<String, ApiError> {
    if !fields::ALIAS.matches(raw) {
        return Err(ApiError::validation(format!(
            "alias must be 1-{MAX_ALIAS} characters without control characters (send null to clear it)"
        )));
    }
    Ok(raw.trim().to_owned())
}

#[utoipa::path(
    patch,
    path = "/v1/account",
    operation_id = "updateAccount",
    tag = "account",
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The updated account", body = AccountEnvelope),
        (status = 400, description = "`invalid_json` (malformed or empty JSON) or `invalid_request` (no body at all)"),
        (status = 403, description = "`insufficient_scope`: no `account.write`"),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require("account.write")?;
    if let Some(alias) = body.alias {
        let me = caller.user.as_deref().unwrap_or(&caller.workspace);
        let alias = alias.as_deref().map(check_alias).transpose()?;
        if !state.store.set_user_alias(me, alias.as_deref()).await? {
            return Err(ApiError::not_found("account"));
        }
        // The alias itself stays out of the append-only log: it is personal
        // data the user may want gone.
        state
            .audit
            .record(
                Event::by("account.updated", &caller)
                    .subject(me)
                    .data(json!({ "changed": ["alias"], "aliasSet": alias.is_some() })),
            )
            .await?;
    }
    let user = user(&state, &caller).await?;
    Ok(envelope(view(&user), &rid, state.clock.now()))
}
