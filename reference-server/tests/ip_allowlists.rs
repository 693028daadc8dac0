//! IP allowlists on API keys against the real server: a key used from
//! outside its networks gets 403 `ip_not_allowed` (audited), from inside it
//! works, and `X-Forwarded-For` counts only from a `--trusted-proxy`.

mod common;

use serde_json::{json, Value};

/// `GET /v1/api-keys` with `key`, from behind `forwarded_for` if given.
async fn list(base: &str, key: &str, forwarded_for: Option<&str>) -> (u16, Value) {
    let mut req = http::Request::get(format!("{base}/v1/api-keys"))
        .header("authorization", format!("Bearer {key}"));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let (status, body, _) = common::send(req.body(Vec::new()).unwrap()).await;
    (status, body)
}

async fn key_with(s: &common::TestServer, admin: &str, allowed: Value) -> (String, String) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(admin),
            Some(json!({ "name": "fenced", "preset": "read", "allowedIps": allowed })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["key"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_key_works_only_from_its_networks_and_refusals_are_audited() {
    let s = common::start().await;
    let (_, admin) = s.account("ops@example.com").await;
    let (id, outside) = key_with(&s, &admin, json!(["192.0.2.0/24", "2001:db8::/32"])).await;
    let (status, body) = list(&s.base, &outside, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ip_not_allowed")),
        "{body}"
    );
    // The exchange refuses it too.
    let (status, body, _) = s
        .call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({ "apiKey": outside })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ip_not_allowed")),
        "{body}"
    );
    let (status, audit, _) = s
        .call("GET", "/v1/audit?type=key.ip_denied", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[0]["subject"], id.as_str());
    assert_eq!(entries[0]["data"]["ip"], "127.0.0.1");

    // Inside the list: it works; lifting the list (null) opens it.
    let (_, inside) = key_with(&s, &admin, json!(["127.0.0.1"])).await;
    let (status, body) = list(&s.base, &inside, None).await;
    assert_eq!(status, 200, "{body}");
    let shown = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        shown["allowedIps"],
        json!(["192.0.2.0/24", "2001:db8::/32"])
    );
    let (status, body, _) = s
        .call(
            "PATCH",
            &format!("/v1/api-keys/{id}"),
            Some(&admin),
            Some(json!({ "allowedIps": null })),
        )
        .await;
    assert_eq!(
        (status, &body["data"]["allowedIps"]),
        (200, &Value::Null),
        "{body}"
    );
    assert_eq!(list(&s.base, &outside, None).await.0, 200);
    let (status, body, _) = s
        .call(
            "PATCH",
            &format!("/v1/api-keys/{id}"),
            Some(&admin),
            Some(json!({ "allowedIps": ["10.0.0.0/8"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(list(&s.base, &outside, None).await.0, 403);

    // Bad lists are 422.
    for bad in [
        json!([]),
        json!(["10.0.0.0/33"]),
        json!(["example.com"]),
        json!("10.0.0.0/8"),
    ] {
        let (status, body, _) = s
            .call(
                "POST",
                "/v1/api-keys",
                Some(&admin),
                Some(json!({ "name": "x", "allowedIps": bad })),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    // Behind a trusted proxy (the test's own loopback address).
    let mut config = sigil_server::Config::for_tests();
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let s = common::start_with(config).await;
    let (_, admin) = s.account("ops@example.com").await;
    let (_, key) = key_with(&s, &admin, json!(["192.0.2.0/24"])).await;
    assert_eq!(list(&s.base, &key, Some("192.0.2.44")).await.0, 200);
    // The client-written left part of the chain does not count.
    assert_eq!(
        list(&s.base, &key, Some("192.0.2.44, 198.51.100.7"))
            .await
            .0,
        403
    );
    assert_eq!(list(&s.base, &key, Some("198.51.100.7")).await.0, 403);

    // Without trusted proxies, a spoofed X-Forwarded-For changes nothing.
    let s = common::start().await;
    let (_, admin) = s.account("ops@example.com").await;
    let (_, key) = key_with(&s, &admin, json!(["192.0.2.0/24"])).await;
    let (status, body) = list(&s.base, &key, Some("192.0.2.44")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ip_not_allowed"))
    );
}

/// A call with a bearer credential, in workspace `ws` when given.
async fn call_in(
    base: &str,
    method: &str,
    path: &str,
    auth: &str,
    ws: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {auth}"))
        .header("content-type", "application/json");
    if let Some(ws) = ws {
        req = req.header("x-sigil-workspace", ws);
    }
    let bytes = body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    let (status, body, _) = common::send(req.body(bytes).unwrap()).await;
    (status, body)
}

#[tokio::test]
async fn a_refusal_is_audited_in_the_workspace_of_the_key() {
    let s = common::start().await;
    let (alice, personal_key) = s.account("alice@example.com").await;
    let full = sigil_server::scopes::preset("full").unwrap();
    let session = sigil_server::tokens::access_token(
        &s.state,
        &sigil_server::tokens::Grant {
            sub: &alice,
            client_id: "sigil",
            scopes: &full,
            session_type: "user",
            sid: "sid_test",
            account: Some(&alice),
            user: Some(&alice),
        },
    )
    .token;
    let (status, team) = call_in(
        &s.base,
        "POST",
        "/v1/workspaces",
        &session,
        None,
        Some(json!({ "name": "Team" })),
    )
    .await;
    assert_eq!(status, 201, "{team}");
    let team = team["data"]["id"].as_str().unwrap().to_owned();
    let (status, admin) = call_in(
        &s.base,
        "POST",
        "/v1/api-keys",
        &session,
        Some(&team),
        Some(json!({ "name": "admin", "preset": "full" })),
    )
    .await;
    assert_eq!(status, 201, "{admin}");
    let admin = admin["data"]["key"].as_str().unwrap().to_owned();
    let (id, fenced) = key_with(&s, &admin, json!(["192.0.2.0/24"])).await;
    assert_eq!(list(&s.base, &fenced, None).await.0, 403);

    // The team's chain holds the refusal; the creator's own chain does not.
    let audit = "/v1/audit?type=key.ip_denied";
    let (status, entries) = call_in(&s.base, "GET", audit, &admin, None, None).await;
    assert_eq!(status, 200, "{entries}");
    let entries = entries["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["subject"], id.as_str());
    let (_, personal) = call_in(&s.base, "GET", audit, &personal_key, None, None).await;
    assert_eq!(personal["data"], json!([]), "{personal}");
}
