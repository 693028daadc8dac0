//! API keys scoped to one project (app), against the real server: such a key
//! sees and manages only its app and that app's keys, and is refused the
//! rest of its workspace; a key of the whole workspace is unaffected.

mod common;

use serde_json::{json, Value};

async fn call(
    s: &common::TestServer,
    method: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, body, _) = s.call(method, path, Some(key), body).await;
    (status, body)
}

async fn create_app(s: &common::TestServer, key: &str, name: &str) -> String {
    let (status, body) = call(
        s,
        "POST",
        "/v1/apps",
        key,
        Some(json!({ "name": name, "redirectUris": ["https://app.example/cb"] })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_project_key_manages_only_its_app_and_its_keys() {
    let s = common::start().await;
    let (_alice, full) = s.account("alice@example.com").await;
    let a = create_app(&s, &full, "A").await;
    let b = create_app(&s, &full, "B").await;
    let (status, body) = call(
        &s,
        "POST",
        "/v1/api-keys",
        &full,
        Some(json!({ "name": "project A", "preset": "full", "appId": a })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let project = body["data"]["key"].as_str().unwrap().to_owned();

    // Its app, and only its app.
    let (status, list) = call(&s, "GET", "/v1/apps", &project, None).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str()]);
    assert_eq!(
        call(&s, "GET", &format!("/v1/apps/{a}"), &project, None)
            .await
            .0,
        200
    );
    assert_eq!(
        call(&s, "GET", &format!("/v1/apps/{b}"), &project, None)
            .await
            .0,
        404
    );
    let (status, body) = call(
        &s,
        "PATCH",
        &format!("/v1/apps/{b}"),
        &project,
        Some(json!({ "name": "X" })),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = call(
        &s,
        "POST",
        "/v1/apps",
        &project,
        Some(json!({ "name": "C", "redirectUris": ["https://c.example/cb"] })),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("project_scoped_key")),
        "{body}"
    );

    // Nothing else of the workspace, whatever its scopes.
    for path in [
        "/v1/agents",
        "/v1/policies",
        "/v1/webhooks",
        "/v1/domains",
        "/v1/audit",
    ] {
        let (status, body) = call(&s, "GET", path, &project, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("project_scoped_key")),
            "{path}: {body}"
        );
    }

    // Keys: those of its app; a new key is of its app; another app's is refused.
    let (status, body) = call(
        &s,
        "POST",
        "/v1/api-keys",
        &project,
        Some(json!({ "name": "child", "preset": "read" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["appId"], a.as_str());
    let (status, body) = call(
        &s,
        "POST",
        "/v1/api-keys",
        &project,
        Some(json!({ "name": "other", "appId": b })),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, keys) = call(&s, "GET", "/v1/api-keys", &project, None).await;
    assert_eq!(status, 200, "{keys}");
    let keys = keys["data"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k["appId"] == a.as_str()), "{keys:?}");

    // The workspace's own keys are out of its reach.
    let (_, all) = call(&s, "GET", "/v1/api-keys", &full, None).await;
    let workspace_key = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["appId"].is_null())
        .expect("the workspace key")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        ("GET", format!("/v1/api-keys/{workspace_key}")),
        ("POST", format!("/v1/api-keys/{workspace_key}/revoke")),
        ("DELETE", format!("/v1/api-keys/{workspace_key}")),
    ] {
        assert_eq!(
            call(&s, method, &path, &project, None).await.0,
            404,
            "{method} {path}"
        );
    }
    let (status, _) = call(
        &s,
        "PATCH",
        &format!("/v1/api-keys/{workspace_key}"),
        &project,
        Some(json!({ "name": "x" })),
    )
    .await;
    assert_eq!(status, 404);
    // The workspace key still works, and still sees both apps.
    let (status, list) = call(&s, "GET", "/v1/apps", &full, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}
