//! Plan changes against the real server: an account over its agent limit
//! gets 402 until an operator raises its plan, the change is audited and
//! delivered as `billing.plan_upgraded` (a lowered limit as
//! `billing.plan_downgraded`), and only the operator scope may change it.

mod common;

use serde_json::{json, Value};
use sigil_server::Config;

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

async fn set_plan(s: &common::TestServer, key: &str, account: &str, body: Value) -> (u16, Value) {
    let (status, body, _) = s
        .call(
            "PUT",
            &format!("/v1/admin/accounts/{account}/plan"),
            Some(key),
            Some(body),
        )
        .await;
    (status, body)
}

#[tokio::test]
async fn a_plan_change_lifts_a_402_and_is_audited_and_delivered() {
    let s = common::start_with(Config {
        plan_max_agents: 1,
        ..Config::for_tests()
    })
    .await;
    let ops = s.operator("ops@example.com").await;
    let (alice, key) = s.account("alice@example.com").await;
    let (verifier, mut rx) = s
        .webhook_sink(&key, &["billing.plan_upgraded", "billing.plan_downgraded"])
        .await;

    assert_eq!(create_agent(&s, &key, "one").await.0, 201);
    let (status, body) = create_agent(&s, &key, "two").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (402, Some("quota_exceeded")),
        "{body}"
    );
    let (status, plan, _) = s.call("GET", "/v1/account/plan", Some(&key), None).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["data"]["plan"], "default");
    assert_eq!(plan["data"]["limits"]["agents"], 1);
    assert_eq!(plan["data"]["usage"]["agents"], 1);
    assert_eq!(plan["data"]["updatedAt"], Value::Null);

    // The account cannot raise its own limits; bad input is a 4xx.
    let pro = json!({ "plan": "pro", "maxAgents": 3, "maxTokensPerMonth": 200000 });
    let (status, body) = set_plan(&s, &key, &alice, pro.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    assert_eq!(set_plan(&s, &ops, "usr_nobody", pro.clone()).await.0, 404);
    let bad = json!({ "plan": "Pro!", "maxAgents": 3, "maxTokensPerMonth": 200000 });
    assert_eq!(set_plan(&s, &ops, &alice, bad).await.0, 422);

    let (status, body) = set_plan(&s, &ops, &alice, pro).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["plan"], "pro");
    assert_eq!(
        body["data"]["holder"],
        json!({ "kind": "account", "id": alice })
    );
    assert_eq!(create_agent(&s, &key, "two").await.0, 201);

    let event = common::next_event(&verifier, &mut rx, "billing.plan_upgraded").await;
    assert_eq!(event["data"]["from"]["limits"]["agents"], 1);
    assert_eq!(event["data"]["to"]["plan"], "pro");
    assert_eq!(event["data"]["to"]["limits"]["agents"], 3);
    let (status, audit, _) = s
        .call(
            "GET",
            "/v1/audit?type=billing.plan_changed",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    // Lowering a limit is a downgrade, and applies at once.
    let free = json!({ "plan": "free", "maxAgents": 2, "maxTokensPerMonth": 200000 });
    assert_eq!(set_plan(&s, &ops, &alice, free).await.0, 200);
    let (status, body) = create_agent(&s, &key, "three").await;
    assert_eq!((status, body["limit"].as_u64()), (402, Some(2)), "{body}");
    let event = common::next_event(&verifier, &mut rx, "billing.plan_downgraded").await;
    assert_eq!(event["data"]["to"]["plan"], "free");
    let (_, plan, _) = s
        .call(
            "GET",
            &format!("/v1/admin/accounts/{alice}/plan"),
            Some(&ops),
            None,
        )
        .await;
    assert_eq!(plan["data"]["limits"]["agents"], 2);
    assert_eq!(plan["data"]["usage"]["agents"], 2);
}

#[tokio::test]
async fn a_team_workspace_has_its_own_plan() {
    let s = common::start().await;
    let ops = s.operator("ops@example.com").await;
    let (alice, _key) = s.account("alice@example.com").await;
    let now = s.state.clock.now();
    let team = sigil_server::store::workspaces::Workspace {
        id: "ws_team_plan".into(),
        name: "Team".into(),
        owner_id: alice.clone(),
        personal: false,
        created_at: now,
        updated_at: now,
    };
    s.state.store.create_workspace(&team).await.unwrap();
    let pro = json!({ "plan": "team", "maxAgents": 50, "maxTokensPerMonth": 1000000 });
    let (status, body) = set_plan(&s, &ops, &team.id, pro).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["holder"]["id"], "ws_team_plan");
    assert_eq!(body["data"]["limits"]["agents"], 50);
    // The personal workspace (the account) keeps its own plan.
    let (status, body, _) = s
        .call(
            "GET",
            &format!("/v1/admin/accounts/{alice}/plan"),
            Some(&ops),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["plan"], "default");
}
