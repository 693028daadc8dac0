//! `/v1/workspaces`: workspaces and their members, as Stripe and Unkey
//! shape them. Listing and reading need `workspaces.read`; changing a
//! workspace or its members needs `workspaces.admin`, which only the `full`
//! preset and the owner and admin roles hold. Only an owner makes or
//! unmakes owners, and no workspace is left without one. Every change is
//! in the workspace's audit chain.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::state::AppState;
use crate::core::audit::Event;
use crate::core::principal::Principal;
use crate::core::roles::Role;
use crate::core::{crypto, fields};
use crate::error::ApiError;
use crate::http::body::ApiBody;
use crate::http::envelope::{envelope, envelopes, rfc3339, Meta, RequestId};
use crate::http::principal::in_workspace;
use crate::store::workspaces::{Member, MemberChange, Workspace};

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/workspaces", get(list).post(create))
        .route("/v1/workspaces/{id}", get(read).patch(update))
        .route("/v1/workspaces/{id}/members", get(members).post(add_member))
        .route(
            "/v1/workspaces/{id}/members/{user_id}",
            patch(update_member).delete(remove_member),
        )
}

/// A workspace as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Workspace)]
pub struct WorkspaceView {
    /// `ws_…`, or the user's id for a personal workspace.
    id: String,
    /// Its name.
    name: String,
    /// Whether it is a user's personal workspace (one member, never more).
    personal: bool,
    /// The caller's role in it; null for an API key or app token, whose
    /// scopes alone decide.
    #[schema(required = true)]
    role: Option<Role>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    updated_at: String,
}

/// A member as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WorkspaceMember)]
pub struct MemberView {
    /// The user (`usr_…`).
    user_id: String,
    /// The user's sign-in address.
    email: String,
    /// What the member may do.
    role: Role,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    updated_at: String,
}

envelopes! {
    /// One workspace.
    WorkspaceEnvelope(WorkspaceView, Meta);
    /// The caller's workspaces.
    WorkspaceListEnvelope(Vec<WorkspaceView>, Meta);
    /// One member.
    WorkspaceMemberEnvelope(MemberView, Meta);
    /// A workspace's members.
    WorkspaceMemberListEnvelope(Vec<MemberView>, Meta);
}

fn view(w: &Workspace, role: Option<Role>) -> WorkspaceView {
    WorkspaceView {
        id: w.id.clone(),
        name: w.name.clone(),
        personal: w.personal,
        role,
        created_at: rfc3339(w.created_at),
        updated_at: rfc3339(w.updated_at),
    }
}

fn member_view(m: &Member) -> MemberView {
    MemberView {
        user_id: m.user_id.clone(),
        email: m.email.clone(),
        role: m.role,
        created_at: rfc3339(m.created_at),
        updated_at: rfc3339(m.updated_at),
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    if !fields::NAME.matches(name) {
        return Err(ApiError::validation("name must be 1-100 characters"));
    }
    Ok(name.trim().to_owned())
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, detail.to_owned())
}

/// 403 `owner_required`: only an owner makes or unmakes owners.
fn owner_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "owner_required",
        "only an owner of the workspace can make or change an owner",
    )
}

/// 404 `member_not_found`.
fn member_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "member_not_found",
        "no such member of this workspace",
    )
}

async fn load(state: &AppState, id: &str) -> Result<Workspace, ApiError> {
    state
        .store
        .workspace(id)
        .await?
        .ok_or_else(crate::http::principal::workspace_not_found)
}

#[utoipa::path(
    get,
    path = "/v1/workspaces",
    operation_id = "listWorkspaces",
    tag = "workspaces",
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "A signed-in user's workspaces with its role in each; for a key or app token, its own workspace", body = WorkspaceListEnvelope),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
) -> Result<Json<Value>, ApiError> {
    caller.require("workspaces.read")?;
    let list = match (&caller.user, caller.role) {
        (Some(user), Some(_)) => state
            .store
            .workspaces_of(user)
            .await?
            .iter()
            .map(|(w, role)| view(w, Some(*role)))
            .collect(),
        _ => vec![view(&load(&state, &caller.workspace).await?, None)],
    };
    Ok(envelope(list, &rid, state.clock.now()))
}

/// `POST /v1/workspaces`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateWorkspace)]
pub(crate) struct CreateBody {
    #[schema(value_type = fields::Name)]
    name: String,
}

#[utoipa::path(
    post,
    path = "/v1/workspaces",
    operation_id = "createWorkspace",
    tag = "workspaces",
    request_body = CreateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created, with the caller as its owner", body = WorkspaceEnvelope),
        (status = 403, description = "`insufficient_scope` (no `workspaces.admin`), or `user_required`: only a signed-in user (session token or cookie) creates workspaces, not a key"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    ApiBody(body): ApiBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require("workspaces.admin")?;
    let name = check_name(&body.name)?;
    let (Some(user), Some(_)) = (&caller.user, caller.role) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "user_required",
            "workspaces are created by a signed-in user, not by a key",
        ));
    };
    let now = state.clock.now();
    let ws = Workspace {
        id: crypto::new_id("ws_"),
        name,
        owner_id: user.clone(),
        personal: false,
        created_at: now,
        updated_at: now,
    };
    state.store.create_workspace(&ws).await?;
    state
        .audit
        .record(
            Event::new("workspace.created")
                .account(&ws.id)
                .actor(user)
                .subject(&ws.id)
                .data(json!({ "name": ws.name })),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        envelope(view(&ws, Some(Role::Owner)), &rid, now),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/workspaces/{id}",
    operation_id = "getWorkspace",
    tag = "workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One workspace", body = WorkspaceEnvelope),
        (status = 404, description = "`workspace_not_found`: no such workspace for this caller"),
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = in_workspace(&state, &caller, &id).await?;
    caller.require("workspaces.read")?;
    let ws = load(&state, &id).await?;
    Ok(envelope(view(&ws, caller.role), &rid, state.clock.now()))
}

/// `PATCH /v1/workspaces/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateWorkspace)]
pub(crate) struct UpdateBody {
    #[schema(value_type = fields::Name)]
    name: String,
}

#[utoipa::path(
    patch,
    path = "/v1/workspaces/{id}",
    operation_id = "updateWorkspace",
    tag = "workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    request_body = UpdateBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "Renamed", body = WorkspaceEnvelope),
        (status = 404, description = "`workspace_not_found`: no such workspace for this caller"),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let caller = in_workspace(&state, &caller, &id).await?;
    caller.require("workspaces.admin")?;
    let name = check_name(&body.name)?;
    let now = state.clock.now();
    if !state.store.rename_workspace(&id, &name, now).await? {
        return Err(crate::http::principal::workspace_not_found());
    }
    announce(
        &state,
        &caller,
        &id,
        "workspace.updated",
        &id,
        json!({ "name": name }),
    )
    .await?;
    let ws = load(&state, &id).await?;
    Ok(envelope(view(&ws, caller.role), &rid, now))
}

#[utoipa::path(
    get,
    path = "/v1/workspaces/{id}/members",
    operation_id = "listWorkspaceMembers",
    tag = "workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The members, oldest first", body = WorkspaceMemberListEnvelope),
        (status = 404, description = "`workspace_not_found`: no such workspace for this caller"),
    )
)]
pub(crate) async fn members(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = in_workspace(&state, &caller, &id).await?;
    caller.require("workspaces.read")?;
    let list: Vec<MemberView> = state
        .store
        .members(&id)
        .await?
        .iter()
        .map(member_view)
        .collect();
    Ok(envelope(list, &rid, state.clock.now()))
}

/// `POST /v1/workspaces/{id}/members`: add a user who has signed in before.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AddWorkspaceMember)]
pub(crate) struct AddMemberBody {
    /// The user's sign-in address.
    #[schema(value_type = fields::Email)]
    email: String,
    /// The role to give.
    #[schema(value_type = Role, required = true)]
    role: Option<Role>,
}

#[utoipa::path(
    post,
    path = "/v1/workspaces/{id}/members",
    operation_id = "addWorkspaceMember",
    tag = "workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    request_body = AddMemberBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Added", body = WorkspaceMemberEnvelope),
        (status = 403, description = "`insufficient_scope` (no `workspaces.admin`) or `owner_required` (only an owner adds an owner)"),
        (status = 404, description = "`workspace_not_found`, or `user_not_found`: no user signed in with that address"),
        (status = 409, description = "`already_member`, or `personal_workspace`: a personal workspace has no other members"),
    )
)]
pub(crate) async fn add_member(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path(id): Path<String>,
    ApiBody(body): ApiBody<AddMemberBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller = in_workspace(&state, &caller, &id).await?;
    caller.require("workspaces.admin")?;
    let role = role_of(body.role)?;
    if !fields::EMAIL.matches(&body.email) {
        return Err(ApiError::validation("email must be an email address"));
    }
    if role == Role::Owner && caller.role != Some(Role::Owner) {
        return Err(owner_required());
    }
    if load(&state, &id).await?.personal {
        return Err(conflict(
            "personal_workspace",
            "a personal workspace has no other members; create a workspace to share",
        ));
    }
    let user = state
        .store
        .user_by_email(&body.email.to_ascii_lowercase())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "user_not_found",
                "no user has signed in with that address",
            )
        })?;
    let now = state.clock.now();
    let member = Member {
        workspace_id: id.clone(),
        user_id: user.id,
        email: user.email,
        role,
        created_at: now,
        updated_at: now,
    };
    state.store.add_member(&member).await.map_err(|e| match e {
        crate::store::StoreError::Conflict => {
            conflict("already_member", "the user already is a member")
        }
        e => e.into(),
    })?;
    announce(
        &state,
        &caller,
        &id,
        "member.added",
        &member.user_id,
        json!({ "userId": member.user_id, "role": member.role }),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        envelope(member_view(&member), &rid, now),
    ))
}

/// `PATCH /v1/workspaces/{id}/members/{userId}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateWorkspaceMember)]
pub(crate) struct UpdateMemberBody {
    /// The new role.
    #[schema(value_type = Role, required = true)]
    role: Option<Role>,
}

/// The role a body names (`null` is read as absent by serde; it is refused).
fn role_of(role: Option<Role>) -> Result<Role, ApiError> {
    role.ok_or_else(|| ApiError::validation("role must be owner, admin, member or read_only"))
}

/// Refuses a change that touches an owner unless the caller is one.
async fn guard_owner(
    state: &AppState,
    caller: &Principal,
    id: &str,
    user_id: &str,
    new_role: Option<Role>,
) -> Result<(), ApiError> {
    if caller.role == Some(Role::Owner) {
        return Ok(());
    }
    let target = state
        .store
        .member(id, user_id)
        .await?
        .ok_or_else(member_not_found)?;
    if target.role == Role::Owner || new_role == Some(Role::Owner) {
        return Err(owner_required());
    }
    Ok(())
}

fn changed(change: MemberChange) -> Result<Member, ApiError> {
    match change {
        MemberChange::Done(m) => Ok(m),
        MemberChange::NotFound => Err(member_not_found()),
        MemberChange::LastOwner => Err(conflict(
            "last_owner",
            "a workspace keeps at least one owner",
        )),
    }
}

#[utoipa::path(
    patch,
    path = "/v1/workspaces/{id}/members/{user_id}",
    operation_id = "updateWorkspaceMember",
    tag = "workspaces",
    params(
        ("id" = String, Path, description = "Workspace id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    request_body = UpdateMemberBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The member with its new role", body = WorkspaceMemberEnvelope),
        (status = 403, description = "`insufficient_scope` (no `workspaces.admin`) or `owner_required` (only an owner makes or changes an owner)"),
        (status = 404, description = "`workspace_not_found` or `member_not_found`"),
        (status = 409, description = "`last_owner`: the workspace would have no owner"),
    )
)]
pub(crate) async fn update_member(
    State(state): State<AppState>,
    rid: RequestId,
    caller: Principal,
    Path((id, user_id)): Path<(String, String)>,
    ApiBody(body): ApiBody<UpdateMemberBody>,
) -> Result<Json<Value>, ApiError> {
    let caller = in_workspace(&state, &caller, &id).await?;
    caller.require("workspaces.admin")?;
    let role = role_of(body.role)?;
    guard_owner(&state, &caller, &id, &user_id, Some(role)).await?;
    let now = state.clock.now();
    let before = changed(
        state
            .store
            .set_member_role(&id, &user_id, role, now)
            .await?,
    )?;
    announce(
        &state,
        &caller,
        &id,
        "member.updated",
        &user_id,
        json!({ "userId": user_id, "from": before.role, "to": role }),
    )
    .await?;
    let member = state
        .store
        .member(&id, &user_id)
        .await?
        .ok_or_else(member_not_found)?;
    Ok(envelope(member_view(&member), &rid, now))
}

#[utoipa::path(
    delete,
    path = "/v1/workspaces/{id}/members/{user_id}",
    operation_id = "removeWorkspaceMember",
    tag = "workspaces",
    params(
        ("id" = String, Path, description = "Workspace id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 204, description = "Removed; the keys it made stay with the workspace"),
        (status = 403, description = "`insufficient_scope` (no `workspaces.admin`) or `owner_required` (only an owner removes an owner)"),
        (status = 404, description = "`workspace_not_found` or `member_not_found`"),
        (status = 409, description = "`last_owner`: the workspace would have no owner"),
    )
)]
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    caller: Principal,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let caller = in_workspace(&state, &caller, &id).await?;
    caller.require("workspaces.admin")?;
    guard_owner(&state, &caller, &id, &user_id, None).await?;
    let before = changed(state.store.remove_member(&id, &user_id).await?)?;
    announce(
        &state,
        &caller,
        &id,
        "member.removed",
        &user_id,
        json!({ "userId": user_id, "role": before.role }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A change to workspace `id`: audited in its chain, and sent to its
/// webhooks with the workspace named.
async fn announce(
    state: &AppState,
    caller: &Principal,
    id: &str,
    event: &'static str,
    subject: &str,
    data: Value,
) -> Result<(), ApiError> {
    state
        .audit
        .record(Event::by(event, caller).subject(subject).data(data.clone()))
        .await?;
    let mut payload = data;
    payload["workspaceId"] = Value::from(id);
    state.webhooks.emit(id, event, payload).await?;
    Ok(())
}
