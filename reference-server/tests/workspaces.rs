//! Workspaces against the real server: members and roles, the
//! `X-Sigil-Workspace` header, and the tenancy refusals (a key of one
//! workspace sees nothing of another's, a read-only member cannot write, a
//! read/write key cannot manage members, only an owner touches owners).

mod common;

use serde_json::{json, Value};
use sigil_server::{scopes, tokens};

/// A signed-in user's own session token (what `/auth/exchange-code` gives).
fn session_token(s: &common::TestServer, user: &str) -> String {
    let full = scopes::preset("full").unwrap();
    tokens::access_token(
        &s.state,
        &tokens::Grant {
            sub: user,
            client_id: "sigil",
            scopes: &full,
            session_type: "user",
            sid: "sid_test",
            account: Some(user),
            user: Some(user),
        },
    )
    .token
}

/// A call with a bearer credential and, optionally, `X-Sigil-Workspace`.
async fn call(
    s: &common::TestServer,
    method: &str,
    path: &str,
    auth: &str,
    workspace: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.base))
        .header("authorization", format!("Bearer {auth}"));
    if let Some(ws) = workspace {
        b = b.header("x-sigil-workspace", ws);
    }
    let bytes = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            serde_json::to_vec(&v).unwrap()
        }
        None => Vec::new(),
    };
    let (status, body, _) = common::send(b.body(bytes).unwrap()).await;
    (status, body)
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn workspaces_members_roles_and_tenancy() {
    let s = common::start().await;
    let (alice, alice_key) = s.account("alice@example.com").await;
    let (bob, _) = s.account("bob@example.com").await;
    let alice_session = session_token(&s, &alice);
    let bob_session = session_token(&s, &bob);

    // Every user has a personal workspace with its own id; it is the default.
    let (status, list) = call(&s, "GET", "/v1/workspaces", &alice_session, None, None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), [alice.as_str()]);
    assert_eq!(list["data"][0]["personal"], true);
    assert_eq!(list["data"][0]["role"], "owner");

    // A key creates no workspace; a signed-in user does, and owns it.
    let body = json!({ "name": "Team" });
    let (status, res) = call(
        &s,
        "POST",
        "/v1/workspaces",
        &alice_key,
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("user_required")),
        "{res}"
    );
    let (status, res) = call(
        &s,
        "POST",
        "/v1/workspaces",
        &alice_session,
        None,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{res}");
    let team = res["data"]["id"].as_str().unwrap().to_owned();
    assert!(team.starts_with("ws_"), "{team}");
    assert_eq!(res["data"]["role"], "owner");

    // A personal workspace takes no members; the team one does.
    let add_bob = json!({ "email": "bob@example.com", "role": "read_only" });
    let path = format!("/v1/workspaces/{alice}/members");
    let (status, res) = call(
        &s,
        "POST",
        &path,
        &alice_session,
        None,
        Some(add_bob.clone()),
    )
    .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (409, Some("personal_workspace")),
        "{res}"
    );
    let members = format!("/v1/workspaces/{team}/members");
    let (status, res) = call(
        &s,
        "POST",
        &members,
        &alice_session,
        None,
        Some(add_bob.clone()),
    )
    .await;
    assert_eq!(status, 201, "{res}");
    assert_eq!(res["data"]["userId"], bob.as_str());
    let (status, res) = call(&s, "POST", &members, &alice_session, None, Some(add_bob)).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (409, Some("already_member")),
        "{res}"
    );

    // Alice works in the team through the header: an app and two keys there.
    let team_ws = Some(team.as_str());
    let app = json!({ "name": "team app", "redirectUris": ["https://team.example/cb"] });
    let (status, res) = call(&s, "POST", "/v1/apps", &alice_session, team_ws, Some(app)).await;
    assert_eq!(status, 201, "{res}");
    let team_app = res["data"]["clientId"].as_str().unwrap().to_owned();
    let key = |preset: &str| json!({ "name": preset, "preset": preset });
    let (status, res) = call(
        &s,
        "POST",
        "/v1/api-keys",
        &alice_session,
        team_ws,
        Some(key("full")),
    )
    .await;
    assert_eq!(status, 201, "{res}");
    let team_full = res["data"]["key"].as_str().unwrap().to_owned();
    let (status, res) = call(
        &s,
        "POST",
        "/v1/api-keys",
        &alice_session,
        team_ws,
        Some(key("write")),
    )
    .await;
    assert_eq!(status, 201, "{res}");
    let team_write = res["data"]["key"].as_str().unwrap().to_owned();

    // A key of one workspace never sees another's data, nor lists it.
    let app_path = format!("/v1/apps/{team_app}");
    let (status, res) = call(&s, "GET", &app_path, &alice_key, None, None).await;
    assert_eq!(status, 404, "alice's personal key reads no team app: {res}");
    let (_, list) = call(&s, "GET", "/v1/apps", &alice_key, None, None).await;
    assert!(!ids(&list).contains(&team_app), "{list}");
    let (status, list) = call(&s, "GET", "/v1/apps", &team_full, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), [team_app.as_str()]);
    let (_, keys) = call(&s, "GET", "/v1/api-keys", &team_full, None, None).await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 2, "{keys}");
    let (status, res) = call(&s, "GET", "/v1/apps", &team_full, Some(&alice), None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (404, Some("workspace_not_found")),
        "{res}"
    );
    let (status, res) = call(
        &s,
        "GET",
        &format!("/v1/workspaces/{alice}"),
        &team_full,
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (404, Some("workspace_not_found")),
        "{res}"
    );
    let (_, list) = call(&s, "GET", "/v1/workspaces", &team_full, None, None).await;
    assert_eq!(
        ids(&list),
        [team.as_str()],
        "a key lists only its own workspace"
    );

    // Bob, read-only in the team: reads there, never writes; his own
    // workspace is his default; Alice's personal one is not his.
    let (status, list) = call(&s, "GET", "/v1/apps", &bob_session, team_ws, None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), [team_app.as_str()]);
    let app = json!({ "name": "nope", "redirectUris": ["https://team.example/cb"] });
    let (status, res) = call(&s, "POST", "/v1/apps", &bob_session, team_ws, Some(app)).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{res}"
    );
    let (status, res) = call(&s, "DELETE", &app_path, &bob_session, team_ws, None).await;
    assert_eq!(status, 403, "{res}");
    let (_, list) = call(&s, "GET", "/v1/apps", &bob_session, None, None).await;
    assert!(ids(&list).is_empty(), "{list}");
    let (status, res) = call(&s, "GET", "/v1/apps", &bob_session, Some(&alice), None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (404, Some("workspace_not_found")),
        "{res}"
    );
    let (_, list) = call(&s, "GET", "/v1/workspaces", &bob_session, None, None).await;
    assert_eq!(ids(&list), [bob.as_str(), team.as_str()]);
    assert_eq!(list["data"][1]["role"], "read_only");

    // A read/write key manages neither settings nor members; a full key does,
    // but only an owner touches an owner.
    let ws_path = format!("/v1/workspaces/{team}");
    let rename = json!({ "name": "Team 2" });
    let (status, res) = call(
        &s,
        "PATCH",
        &ws_path,
        &team_write,
        None,
        Some(rename.clone()),
    )
    .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{res}"
    );
    let bob_path = format!("/v1/workspaces/{team}/members/{bob}");
    let to_member = json!({ "role": "member" });
    let (status, res) = call(
        &s,
        "PATCH",
        &bob_path,
        &team_write,
        None,
        Some(to_member.clone()),
    )
    .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{res}"
    );
    let (status, res) = call(&s, "PATCH", &ws_path, &team_full, None, Some(rename)).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["name"], "Team 2");
    let (status, res) = call(&s, "PATCH", &bob_path, &team_full, None, Some(to_member)).await;
    assert_eq!(
        (status, res["data"]["role"].as_str()),
        (200, Some("member")),
        "{res}"
    );
    let alice_path = format!("/v1/workspaces/{team}/members/{alice}");
    let demote = json!({ "role": "admin" });
    let (status, res) = call(
        &s,
        "PATCH",
        &alice_path,
        &team_full,
        None,
        Some(demote.clone()),
    )
    .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("owner_required")),
        "{res}"
    );
    let (status, res) = call(&s, "PATCH", &alice_path, &alice_session, None, Some(demote)).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (409, Some("last_owner")),
        "{res}"
    );

    // Bob, now a member, writes in the team.
    let app = json!({ "name": "bob's", "redirectUris": ["https://team.example/cb"] });
    let (status, res) = call(&s, "POST", "/v1/apps", &bob_session, team_ws, Some(app)).await;
    assert_eq!(status, 201, "{res}");

    // Removed, Bob sees the team no more.
    let (status, _) = call(&s, "DELETE", &bob_path, &alice_session, None, None).await;
    assert_eq!(status, 204);
    let (status, res) = call(&s, "GET", "/v1/apps", &bob_session, team_ws, None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (404, Some("workspace_not_found")),
        "{res}"
    );
    let (status, res) = call(&s, "DELETE", &bob_path, &alice_session, None, None).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (404, Some("member_not_found")),
        "{res}"
    );

    // Every change is in the team's audit chain, and in no one else's.
    let (status, audit) = call(&s, "GET", "/v1/audit?limit=100", &team_full, None, None).await;
    assert_eq!(status, 200, "{audit}");
    let types: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    for t in [
        "workspace.created",
        "member.added",
        "workspace.updated",
        "member.updated",
        "member.removed",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let (_, mine) = call(&s, "GET", "/v1/audit?limit=100", &alice_key, None, None).await;
    assert!(
        !mine.to_string().contains("member.added"),
        "the personal chain holds no team event: {mine}"
    );
}

#[tokio::test]
async fn workspace_and_member_changes_reach_the_workspace_webhooks() {
    let s = common::start().await;
    let (alice, _) = s.account("alice@example.com").await;
    let (bob, _) = s.account("bob@example.com").await;
    let session = session_token(&s, &alice);
    let (status, res) = call(
        &s,
        "POST",
        "/v1/workspaces",
        &session,
        None,
        Some(json!({ "name": "Team" })),
    )
    .await;
    assert_eq!(status, 201, "{res}");
    let team = res["data"]["id"].as_str().unwrap().to_owned();
    // The team's own endpoint, registered with a key of the team.
    let (status, res) = call(
        &s,
        "POST",
        "/v1/api-keys",
        &session,
        Some(&team),
        Some(json!({ "name": "hooks", "preset": "full" })),
    )
    .await;
    assert_eq!(status, 201, "{res}");
    let team_key = res["data"]["key"].as_str().unwrap().to_owned();
    let events = [
        "workspace.updated",
        "member.added",
        "member.updated",
        "member.removed",
    ];
    let (verifier, mut rx) = s.webhook_sink(&team_key, &events).await;

    let members = format!("/v1/workspaces/{team}/members");
    let add = json!({ "email": "bob@example.com", "role": "member" });
    assert_eq!(
        call(&s, "POST", &members, &session, None, Some(add))
            .await
            .0,
        201
    );
    let event = common::next_event(&verifier, &mut rx, "member.added").await;
    assert_eq!(event["data"]["workspaceId"], team.as_str());
    assert_eq!(event["data"]["userId"], bob.as_str());
    assert_eq!(event["data"]["role"], "member");

    let member = format!("{members}/{bob}");
    let role = json!({ "role": "read_only" });
    assert_eq!(
        call(&s, "PATCH", &member, &session, None, Some(role))
            .await
            .0,
        200
    );
    let event = common::next_event(&verifier, &mut rx, "member.updated").await;
    assert_eq!(
        (event["data"]["from"].as_str(), event["data"]["to"].as_str()),
        (Some("member"), Some("read_only"))
    );

    let rename = json!({ "name": "Renamed" });
    let path = format!("/v1/workspaces/{team}");
    assert_eq!(
        call(&s, "PATCH", &path, &session, None, Some(rename))
            .await
            .0,
        200
    );
    let event = common::next_event(&verifier, &mut rx, "workspace.updated").await;
    assert_eq!(event["data"]["name"], "Renamed");

    assert_eq!(
        call(&s, "DELETE", &member, &session, None, None).await.0,
        204
    );
    let event = common::next_event(&verifier, &mut rx, "member.removed").await;
    assert_eq!(event["data"]["userId"], bob.as_str());
}
