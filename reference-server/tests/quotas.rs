//! Plan quotas: agents that are not revoked and agent tokens issued per
//! calendar month answer 402 `quota_exceeded` over the limit, with the limit
//! and usage; a revoked agent frees its slot, and a new month resets tokens.

mod common;

use serde_json::{json, Value};
use sigil_server::Config;

fn tiny() -> Config {
    Config {
        plan_max_agents: 2,
        plan_max_tokens_per_month: 3,
        ..Config::for_tests()
    }
}

async fn create_agent(s: &common::TestServer, key: &str, name: &str) -> (u16, Value) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(key),
            Some(json!({ "name": name })),
        )
        .await;
    (status, body)
}

async fn issue(s: &common::TestServer, key: &str, agent: &str) -> (u16, Value) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(key),
            Some(json!({ "agent_id": agent, "scope": ["agents.read"] })),
        )
        .await;
    (status, body)
}

#[tokio::test]
async fn agents_over_the_plan_limit_are_402_until_one_is_revoked() {
    let s = common::start_with(tiny()).await;
    let (_, key) = s.account("quota-agents@example.com").await;
    let (status, first) = create_agent(&s, &key, "one").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(create_agent(&s, &key, "two").await.0, 201);

    let (status, body) = create_agent(&s, &key, "three").await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["code"], "quota_exceeded");
    assert_eq!(body["quota"], "agents");
    assert_eq!(body["limit"], 2);
    assert_eq!(body["usage"], 2);

    // Another account has its own allowance.
    let (_, other) = s.account("quota-other@example.com").await;
    assert_eq!(create_agent(&s, &other, "theirs").await.0, 201);

    // Pausing keeps the slot; revoking frees it.
    let id = first["data"]["id"].as_str().unwrap();
    let (status, _, _) = s
        .call("POST", &format!("/v1/agents/{id}/pause"), Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(create_agent(&s, &key, "three").await.0, 402);
    let (status, _, _) = s
        .call("POST", &format!("/v1/agents/{id}/revoke"), Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(create_agent(&s, &key, "three").await.0, 201);
}

#[tokio::test]
async fn tokens_over_the_monthly_limit_are_402_until_the_next_month() {
    let s = common::start_with(tiny()).await;
    let (_, key) = s.account("quota-tokens@example.com").await;
    // 2026-11-30T23:00:00Z: an hour before the month turns.
    s.state.clock.set(1_796_079_600);
    let (_, a) = create_agent(&s, &key, "a").await;
    let (_, b) = create_agent(&s, &key, "b").await;
    let (a, b) = (
        a["data"]["id"].as_str().unwrap(),
        b["data"]["id"].as_str().unwrap(),
    );

    // The allowance is per account, across its agents.
    assert_eq!(issue(&s, &key, a).await.0, 201);
    assert_eq!(issue(&s, &key, b).await.0, 201);
    assert_eq!(issue(&s, &key, a).await.0, 201);
    let (status, body) = issue(&s, &key, b).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["code"], "quota_exceeded");
    assert_eq!(body["limit"], 3);
    assert_eq!(body["usage"], 3);
    assert_eq!(body["resetsAt"], 1_796_083_200);
    assert!(body["detail"].as_str().unwrap().contains("3"), "{body}");

    // A refused request (bad ttl) spends nothing; validation comes first.
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(&key),
            Some(json!({ "agent_id": a, "scope": ["agents.read"], "ttl": 0 })),
        )
        .await;
    assert_eq!(status, 422);

    // December: a fresh allowance.
    s.state.clock.advance(3600);
    assert_eq!(issue(&s, &key, a).await.0, 201);
}

#[tokio::test]
async fn the_monthly_count_survives_a_restart() {
    let dir = common::TempDir::new("quota-restart");
    let db = format!("sqlite://{}/sigil.db", dir.0.display());
    let config = || Config {
        database: db.clone(),
        ..tiny()
    };
    let first = common::start_with(config()).await;
    let (user, key) = first.account("quota-restart@example.com").await;
    let (_, agent) = create_agent(&first, &key, "a").await;
    let agent = agent["data"]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(issue(&first, &key, &agent).await.0, 201);
    }

    // A new process seeds its counter from the store: one more, then 402.
    let second = common::start_with(config()).await;
    let (_, key2) = sigil_server::v1::api_keys::issue(
        &second.state,
        &user,
        "again".into(),
        sigil_server::scopes::preset("full").unwrap(),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(issue(&second, &key2, &agent).await.0, 201);
    let (status, body) = issue(&second, &key2, &agent).await;
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["usage"], 3);
}
