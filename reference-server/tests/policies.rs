//! Policies over agent-token issuance: CRUD and strict validation, priority
//! ordering, deactivation, scope / target / time-of-day matching on the
//! server clock, throttling per window, and approvals collected once.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use sigil::httpsig::{self, SignParams};

const COVERED: [&str; 3] = ["@method", "@target-uri", "content-digest"];
/// 2030-01-01T00:00:00Z.
const MIDNIGHT: i64 = 1_893_456_000;

async fn create_agent(s: &common::TestServer, key: &str) -> (String, String) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(key),
            Some(json!({ "name": "bot" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["agentKey"].as_str().unwrap().to_owned(),
    )
}

/// A POST to `path` signed with the agent key (RFC 9421).
async fn signed_post(
    s: &common::TestServer,
    path: &str,
    agent: &str,
    agent_key: &str,
    body: &Value,
) -> (u16, Value, http::HeaderMap) {
    let seed = URL_SAFE_NO_PAD
        .decode(agent_key.strip_prefix("sgl_ask_").unwrap())
        .unwrap();
    let key = httpsig::SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &seed.try_into().unwrap(),
    ));
    let mut req = http::Request::post(format!("{}{path}", s.base))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .unwrap();
    let created = s.state.clock.now();
    let mut params = SignParams::new(agent, COVERED.iter().copied(), created);
    params.expires = Some(created + 60);
    params.nonce = Some(sigil_server::crypto::random_base62(16));
    httpsig::sign_request(&mut req, &key, &params).unwrap();
    s.raw(req).await
}

async fn policy(s: &common::TestServer, key: &str, body: Value) -> String {
    let (status, res, _) = s.call("POST", "/v1/policies", Some(key), Some(body)).await;
    assert_eq!(status, 201, "{res}");
    res["data"]["id"].as_str().unwrap().to_owned()
}

/// Issues with the API key; returns (status, body, headers).
async fn issue(
    s: &common::TestServer,
    key: &str,
    agent: &str,
    scope: &str,
    target: Option<&str>,
) -> (u16, Value, http::HeaderMap) {
    let mut body = json!({ "agent_id": agent, "scope": [scope] });
    if let Some(t) = target {
        body["target_service"] = t.into();
    }
    s.call("POST", "/v1/tokens", Some(key), Some(body)).await
}

async fn set_clock(s: &common::TestServer, at: i64) {
    let (status, _, _) = s
        .call("POST", "/_test/clock", None, Some(json!({ "set": at })))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn crud_validation_and_priority_bounds() {
    let s = common::start().await;
    let (_, key) = s.account("pol-crud@example.com").await;
    let (status, res, _) = s
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(json!({ "name": "night", "rules": [{ "effect": "deny",
                "match": { "scopes": ["messages.*"], "time_of_day": { "start": "22:00", "end": "06:00", "tz": "UTC" } } }] })),
        )
        .await;
    assert_eq!(status, 201, "{res}");
    let data = &res["data"];
    assert_eq!(data["priority"], 100);
    assert_eq!(data["isActive"], true);
    assert_eq!(data["rules"][0]["match"]["time_of_day"]["start"], "22:00");
    let id = data["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("pol_"));

    for (p, ok) in [(0, true), (10_000, true), (-1, false), (10_001, false)] {
        let (status, res, _) = s
            .call(
                "POST",
                "/v1/policies",
                Some(&key),
                Some(json!({ "name": "p", "priority": p, "rules": [{ "effect": "allow" }] })),
            )
            .await;
        assert_eq!(status, if ok { 201 } else { 422 }, "priority {p}: {res}");
        if !ok {
            assert!(
                res["detail"].as_str().unwrap().contains("priority"),
                "{res}"
            );
        }
    }
    let bad = [
        json!({ "name": "x", "rules": [{ "effect": "allow" }], "extra": 1 }),
        json!({ "name": "x", "rules": [{ "effect": "maybe" }] }),
        json!({ "name": "x", "rules": [{ "effect": "deny", "match": { "agent": ["a"] } }] }),
        json!({ "name": "x", "rules": [{ "effect": "deny", "match": { "time_of_day": { "start": "25:00", "end": "01:00", "tz": "UTC" } } }] }),
        json!({ "name": "x", "rules": [{ "effect": "deny", "match": { "time_of_day": { "start": "9:00", "end": "17:00", "tz": "UTC" } } }] }),
        json!({ "name": "x", "rules": [{ "effect": "deny", "match": { "time_of_day": { "start": "09:00", "end": "17:00", "tz": "CET" } } }] }),
        json!({ "name": "x", "rules": [{ "effect": "throttle" }] }),
        json!({ "name": "x", "rules": [{ "effect": "allow", "limit": { "count": 1, "window_secs": 60 } }] }),
        json!({ "name": "x", "rules": [{ "effect": "deny", "match": { "scopes": ["nope.*"] } }] }),
        json!({ "name": "x", "rules": [] }),
        json!({ "name": " ", "rules": [{ "effect": "allow" }] }),
    ];
    for body in bad {
        let (status, res, _) = s
            .call("POST", "/v1/policies", Some(&key), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body} -> {res}");
        assert!(!res["detail"].as_str().unwrap().is_empty());
    }

    let (status, list, _) = s.call("GET", "/v1/policies", Some(&key), None).await;
    assert_eq!(status, 200);
    let list = list["data"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["priority"], 10_000, "highest priority first");

    let path = format!("/v1/policies/{id}");
    let (status, res, _) = s
        .call(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({ "name": "renamed", "priority": 7, "is_active": false })),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["name"], "renamed");
    assert_eq!(res["data"]["priority"], 7);
    assert_eq!(res["data"]["isActive"], false);
    let (status, res, _) = s
        .call(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({ "priority": 20_000 })),
        )
        .await;
    assert_eq!(status, 422, "{res}");
    let (status, res, _) = s.call("GET", &path, Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(res["data"]["priority"], 7);

    // Another account sees nothing; a read-only key cannot write.
    let (_, other) = s.account("pol-crud-other@example.com").await;
    let (status, _, _) = s.call("GET", &path, Some(&other), None).await;
    assert_eq!(status, 404);
    let (status, _, _) = s.call("DELETE", &path, Some(&other), None).await;
    assert_eq!(status, 404);
    let user = sigil_server::seed::user(&s.state, "pol-crud@example.com")
        .await
        .unwrap();
    let (_, reader) = sigil_server::v1::api_keys::issue(
        &s.state,
        &user.id,
        "reader".into(),
        vec!["policies.read".into()],
        None,
        None,
    )
    .await
    .unwrap();
    let (status, _, _) = s.call("GET", &path, Some(&reader), None).await;
    assert_eq!(status, 200);
    let (status, res, _) = s
        .call(
            "POST",
            "/v1/policies",
            Some(&reader),
            Some(json!({ "name": "x", "rules": [{ "effect": "allow" }] })),
        )
        .await;
    assert_eq!(status, 403, "{res}");

    let (status, _, _) = s.call("DELETE", &path, Some(&key), None).await;
    assert_eq!(status, 204);
    let (status, _, _) = s.call("GET", &path, Some(&key), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_denial_names_the_policy_for_keys_and_signatures() {
    let s = common::start().await;
    let (_, key) = s.account("pol-deny@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key).await;
    let id = policy(
        &s,
        &key,
        json!({ "name": "no-messages", "rules": [{ "effect": "deny", "match": { "scopes": ["messages.send"] } }] }),
    )
    .await;
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 403, "{res}");
    assert_eq!(res["code"], "policy_denied");
    assert_eq!(res["policyId"], id.as_str());
    let detail = res["detail"].as_str().unwrap();
    assert!(
        detail.contains("no-messages") && detail.contains(&id),
        "{detail}"
    );

    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let (status, res, _) = signed_post(&s, "/v1/tokens", &agent, &agent_key, &body).await;
    assert_eq!(status, 403, "{res}");
    assert_eq!(res["policyId"], id.as_str());
    // Other scopes are untouched.
    let (status, res, _) = issue(&s, &key, &agent, "identity.read", None).await;
    assert_eq!(status, 201, "{res}");
    let jti = res["data"]["jti"].as_str().unwrap().to_owned();
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/tokens/{jti}/revoke"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Denials, the issuance and the revocation are in the audit chain.
    let (_, log, _) = s.call("GET", "/v1/audit?limit=500", Some(&key), None).await;
    let types: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| t.starts_with("token."))
        .collect();
    assert_eq!(
        types,
        [
            "token.denied",
            "token.denied",
            "token.issued",
            "token.revoked"
        ]
    );
    let denied = &log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "token.denied")
        .unwrap();
    assert_eq!(denied["subject"], id.as_str(), "{denied}");
    let (_, verify, _) = s.call("GET", "/v1/audit/verify", Some(&key), None).await;
    assert_eq!(verify["data"]["valid"], true, "{verify}");
}

#[tokio::test]
async fn higher_priority_wins_and_ties_go_to_deny() {
    let s = common::start().await;
    let (_, key) = s.account("pol-prio@example.com").await;
    let (agent, _) = create_agent(&s, &key).await;
    let deny = policy(
        &s,
        &key,
        json!({ "name": "deny", "priority": 100, "rules": [{ "effect": "deny" }] }),
    )
    .await;
    let allow = policy(
        &s,
        &key,
        json!({ "name": "allow", "priority": 200, "rules": [{ "effect": "allow" }] }),
    )
    .await;
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 201, "a higher allow beats a lower deny: {res}");

    let patch = |id: String, body: Value| {
        let key = key.clone();
        let s = &s;
        async move {
            let (status, res, _) = s
                .call(
                    "PATCH",
                    &format!("/v1/policies/{id}"),
                    Some(&key),
                    Some(body),
                )
                .await;
            assert_eq!(status, 200, "{res}");
        }
    };
    patch(deny.clone(), json!({ "priority": 300 })).await;
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 403, "a higher deny beats a lower allow: {res}");
    assert_eq!(res["policyId"], deny.as_str());

    // Equal priority: deny first, even though the allow is newer.
    patch(allow.clone(), json!({ "priority": 300 })).await;
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 403, "{res}");

    // Deactivated, the deny stops applying.
    patch(deny.clone(), json!({ "is_active": false })).await;
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 201, "{res}");
    patch(deny, json!({ "is_active": true })).await;
    let (status, _, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn scope_wildcards_target_services_and_agents_match() {
    let s = common::start().await;
    let (_, key) = s.account("pol-match@example.com").await;
    let (agent, _) = create_agent(&s, &key).await;
    let (other_agent, _) = create_agent(&s, &key).await;
    policy(
        &s,
        &key,
        json!({ "name": "billing", "rules": [{ "effect": "deny", "match": {
            "agents": [agent], "scopes": ["messages.*"], "target_services": ["billing"] } }] }),
    )
    .await;
    let (status, _, _) = issue(&s, &key, &agent, "messages.send", Some("billing")).await;
    assert_eq!(status, 403);
    let (status, _, _) = issue(&s, &key, &agent, "message", Some("billing")).await;
    assert_eq!(
        status, 403,
        "a legacy alias is matched by its canonical name"
    );
    let (status, _, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 201, "another target");
    let (status, _, _) = issue(&s, &key, &agent, "identity.read", Some("billing")).await;
    assert_eq!(status, 201, "another scope");
    let (status, _, _) = issue(&s, &key, &other_agent, "messages.send", Some("billing")).await;
    assert_eq!(status, 201, "another agent");
}

#[tokio::test]
async fn time_of_day_windows_follow_the_server_clock_and_wrap_midnight() {
    let s = common::start().await;
    let (_, key) = s.account("pol-time@example.com").await;
    let (agent, _) = create_agent(&s, &key).await;
    policy(
        &s,
        &key,
        json!({ "name": "night", "rules": [{ "effect": "deny", "match": {
            "time_of_day": { "start": "23:00", "end": "01:00", "tz": "UTC" } } }] }),
    )
    .await;
    for (at, denied) in [
        (MIDNIGHT + 12 * 3600, false),
        (MIDNIGHT + 23 * 3600 + 30 * 60, true),
        (MIDNIGHT + 86_400 + 30 * 60, true),
        (MIDNIGHT + 86_400 + 3600, false),
        (MIDNIGHT + 22 * 3600 + 59 * 60, false),
    ] {
        set_clock(&s, at).await;
        let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
        assert_eq!(status, if denied { 403 } else { 201 }, "at {at}: {res}");
    }
}

#[tokio::test]
async fn throttle_allows_n_per_window_then_429_until_the_window_passes() {
    let s = common::start().await;
    let (_, key) = s.account("pol-throttle@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key).await;
    let (other, _) = create_agent(&s, &key).await;
    let id = policy(
        &s,
        &key,
        json!({ "name": "slow", "rules": [{ "effect": "throttle", "limit": { "count": 3, "window_secs": 60 } }] }),
    )
    .await;
    for n in 0..3 {
        let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
        assert_eq!(status, 201, "issuance {n}: {res}");
    }
    let (status, res, headers) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 429, "{res}");
    assert_eq!(res["code"], "policy_throttled");
    assert_eq!(res["policyId"], id.as_str());
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Signed requests count against the same budget; other agents have their own.
    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let (status, _, _) = signed_post(&s, "/v1/tokens", &agent, &agent_key, &body).await;
    assert_eq!(status, 429);
    let (status, _, _) = issue(&s, &key, &other, "messages.send", None).await;
    assert_eq!(status, 201);

    s.state.clock.advance(61);
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 201, "a new window: {res}");
}

#[tokio::test]
async fn require_approval_holds_until_granted_and_the_token_is_collected_once() {
    let s = common::start().await;
    let (_, key) = s.account("pol-approve@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key).await;
    let pid = policy(
        &s,
        &key,
        json!({ "name": "ask", "rules": [{ "effect": "require_approval", "match": { "scopes": ["messages.send"] } }] }),
    )
    .await;
    let body = json!({ "agent_id": agent, "scope": ["messages.send"], "ttl": 120,
                       "target_service": "mail", "intent": "send the report" });
    let (status, res, _) = signed_post(&s, "/v1/tokens", &agent, &agent_key, &body).await;
    assert_eq!(status, 202, "{res}");
    assert_eq!(res["data"]["status"], "pending");
    assert_eq!(res["data"]["policyId"], pid.as_str());
    let approval = res["data"]["id"].as_str().unwrap().to_owned();

    let (status, list, _) = s
        .call("GET", "/v1/approvals?status=pending", Some(&key), None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["id"], approval.as_str());
    let (status, _, _) = s
        .call("GET", "/v1/approvals?status=maybe", Some(&key), None)
        .await;
    assert_eq!(status, 422);

    let token_path = format!("/v1/approvals/{approval}/token");
    let (status, res, _) = signed_post(&s, &token_path, &agent, &agent_key, &json!({})).await;
    assert_eq!(status, 409, "{res}");
    assert_eq!(res["code"], "approval_pending");

    // Only the owner decides.
    let (_, other) = s.account("pol-approve-other@example.com").await;
    let grant_path = format!("/v1/approvals/{approval}/grant");
    let (status, _, _) = s.call("POST", &grant_path, Some(&other), None).await;
    assert_eq!(status, 404);
    let (status, res, _) = s.call("POST", &grant_path, Some(&key), None).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["status"], "granted");
    let (status, _, _) = s.call("POST", &grant_path, Some(&key), None).await;
    assert_eq!(status, 409, "only from pending");
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/approvals/{approval}/reject"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 409);

    let (status, res, _) = signed_post(&s, &token_path, &agent, &agent_key, &json!({})).await;
    assert_eq!(status, 201, "{res}");
    assert_eq!(res["data"]["expiresIn"], 120);
    let token = res["data"]["token"].as_str().unwrap();
    let (status, v, _) = s
        .call(
            "POST",
            "/v1/tokens/verify",
            None,
            Some(json!({ "token": token, "required_scope": "messages.send" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["data"]["valid"], true, "{v}");
    assert_eq!(v["data"]["aud"], "mail");
    assert_eq!(v["data"]["intent"], "send the report");
    assert_eq!(v["data"]["agent_id"], agent.as_str());

    let (status, res, _) = signed_post(&s, &token_path, &agent, &agent_key, &json!({})).await;
    assert_eq!(status, 409, "{res}");
    assert_eq!(res["code"], "approval_collected");
    let (status, _, _) = s
        .call("POST", &token_path, Some(&key), Some(json!({})))
        .await;
    assert_eq!(status, 409);

    // Rejected: the agent is told so. An API key with tokens.issue collects too.
    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 202, "{res}");
    let second = res["data"]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/approvals/{second}/reject"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, res, _) = signed_post(
        &s,
        &format!("/v1/approvals/{second}/token"),
        &agent,
        &agent_key,
        &json!({}),
    )
    .await;
    assert_eq!(status, 403, "{res}");
    assert_eq!(res["code"], "approval_rejected");

    let (status, res, _) = issue(&s, &key, &agent, "messages.send", None).await;
    assert_eq!(status, 202);
    let third = res["data"]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/approvals/{third}/grant"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/approvals/{third}/token"),
            Some(&other),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404, "another account's key");
    let (status, res, _) = s
        .call(
            "POST",
            &format!("/v1/approvals/{third}/token"),
            Some(&key),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{res}");
}
