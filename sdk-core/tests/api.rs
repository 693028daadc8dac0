//! The typed `/v1` and `/app/v1` clients against wiremock: request shapes,
//! envelope unwrapping, safe path building, secrets, and typed errors.
// The wiremock harness sends through the reqwest transport.
#![cfg(feature = "reqwest")]

mod common;

use std::sync::Arc;

use common::*;
use std::time::Duration;

use serde_json::{json, Value};
use sigil::api::{
    AgentQuery, AgentStatus, ApprovalStatus, AuditFilter, AuditFormat, ChainVerdict,
    DeliveryStatus, DomainStatus, Effect, Issuance, NewAgent, NewApiKey, NewApp, NewMessage,
    NewPolicy, NewWebhook, PolicyUpdate, Rule, RuleLimit, RuleMatch, TokenRequest, TokenVerdict,
    Webhooks,
};
use sigil::{AppApi, ClientAuth, Error, Management, MemoryStorage, OAuthClient, Renewal, Session};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn session(server: &MockServer) -> Arc<Session> {
    Mock::given(path("/auth/token/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": {"accessToken": "at", "expiresIn": 600}})))
        .mount(server)
        .await;
    let client = OAuthClient::new(
        metadata(&server.uri()),
        "cli",
        ClientAuth::None,
        runtime(TestClock::at(T0)),
    );
    let session = Session::new(
        client,
        Arc::new(MemoryStorage::default()),
        Renewal::ApiKey {
            key: "sgl_live_k".into(),
            scopes: vec![],
        },
    );
    Arc::new(session)
}

async fn management(server: &MockServer) -> Management {
    Management::new(session(server).await, &server.uri()).unwrap()
}

fn key_json(id: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "name": "ci", "prefix": "sgl_live_abc", "last4": "wxyz",
        "masked": "sgl_live_abc…wxyz", "scopes": ["keys.read"], "appId": null, "status": "active",
        "expiresAt": null, "revokedAt": null, "lastUsedAt": null, "createdAt": "2026-01-01T00:00:00Z"})
}

#[tokio::test]
async fn create_key_sends_camel_case_and_unwraps_the_envelope() {
    let server = MockServer::start().await;
    let mut created = key_json("key_1");
    created["key"] = "sgl_live_abcdefghijklmnopqrstuvwxyz0123456789ab".into();
    Mock::given(method("POST"))
        .and(path("/v1/api-keys"))
        .and(header("authorization", "Bearer at"))
        .and(body_json(
            serde_json::json!({"name": "ci", "preset": "read", "expiresInDays": 30}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "data": created, "meta": {"requestId": "r", "issuedAt": "2026-01-01T00:00:00Z"}})))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;
    let k = m
        .api_keys()
        .create(&NewApiKey {
            name: "ci".into(),
            preset: Some("read".into()),
            expires_in_days: Some(30),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(k.info.id, "key_1");
    assert!(k.key.expose().starts_with("sgl_live_"));
    assert!(
        !format!("{k:?}").contains("0123456789ab"),
        "secret redacted in Debug"
    );
}

#[tokio::test]
async fn ids_are_percent_encoded_into_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/api-keys/..%2Fapps"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": key_json("x")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    management(&server)
        .await
        .api_keys()
        .get("../apps")
        .await
        .unwrap();
}

#[tokio::test]
async fn errors_are_typed_and_delete_needs_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/apps"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "type": "about:blank", "title": "Forbidden", "status": 403,
            "detail": "needs apps.write", "code": "insufficient_scope", "requestId": "req_1"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/apps/app_1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/apps"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"nope\": 1}"))
        .mount(&server)
        .await;
    let m = management(&server).await;
    let e = m
        .apps()
        .create(&NewApp {
            name: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Api { status: 403, code, .. } if code == "insufficient_scope"));
    assert_eq!(e.request_id(), Some("req_1"));
    m.apps().delete("app_1").await.unwrap();
    assert_eq!(
        m.apps().list().await.unwrap_err().code(),
        "invalid_response"
    );
}

async fn app_api(server: &MockServer) -> AppApi {
    AppApi::new(session(server).await, &server.uri()).unwrap()
}

/// A `{data, meta}` answer.
fn envelope(status: u16, data: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "data": data, "meta": {"requestId": "req_x", "issuedAt": "2026-01-01T00:00:00Z"}}))
}

/// Requests that reached the API (the session's key exchange left out).
async fn api_requests(server: &MockServer) -> Vec<wiremock::Request> {
    let all = server.received_requests().await.unwrap();
    all.into_iter()
        .filter(|r| r.url.path() != "/auth/token/exchange")
        .collect()
}

const AGENT_KEY: &str = "sgl_ask_c2VjcmV0LXNlZWQtMzItYnl0ZXMtbG9uZy1lbm91Z2g";

fn agent_json(status: &str) -> Value {
    json!({"id": "agt_1", "name": "bot", "description": null, "status": status,
        "publicKey": "cHVi", "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"})
}

fn approval_json(status: &str) -> Value {
    json!({"id": "apv_1", "status": status, "agentId": "agt_1", "policyId": "pol_1",
        "scope": ["files.read"], "ttl": 300, "targetService": "files", "intent": "sync",
        "createdAt": "2026-01-01T00:00:00Z", "decidedAt": null, "collectedAt": null})
}

fn token_json() -> Value {
    json!({"token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZ3RfMSJ9.c2lnbmF0dXJlLXRhaWw",
        "tokenType": "Bearer", "expiresIn": 300, "jti": "atk_1"})
}

#[tokio::test]
async fn agents_create_list_and_transition() {
    let server = MockServer::start().await;
    let mut created = agent_json("active");
    created["agentKey"] = AGENT_KEY.into();
    Mock::given(method("POST"))
        .and(path("/v1/agents"))
        .and(body_json(
            json!({"name": "bot", "description": "syncs files"}),
        ))
        .respond_with(envelope(201, created))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/agents"))
        .and(query_param("limit", "10"))
        .and(query_param("offset", "20"))
        .and(query_param("status", "paused"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [agent_json("paused")],
            "meta": {"requestId": "r", "limit": 10, "offset": 20, "hasMore": true}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/agents/agt_1/pause"))
        .respond_with(envelope(200, agent_json("paused")))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;

    let agent = m
        .agents()
        .create(&NewAgent {
            name: "bot".into(),
            description: Some("syncs files".into()),
        })
        .await
        .unwrap();
    assert_eq!(agent.agent_key.expose(), AGENT_KEY);
    assert_eq!(agent.agent.status, AgentStatus::Active);
    let printed = format!("{agent:?}");
    assert!(
        !printed.contains(&AGENT_KEY[12..]),
        "agent key redacted: {printed}"
    );

    let page = m
        .agents()
        .list(&AgentQuery {
            limit: Some(10),
            offset: Some(20),
            status: Some(AgentStatus::Paused),
        })
        .await
        .unwrap();
    assert!(page.has_more);
    assert_eq!(page.agents[0].public_key, "cHVi");

    let paused = m.agents().pause("agt_1").await.unwrap();
    assert_eq!(paused.status, AgentStatus::Paused);
}

#[tokio::test]
async fn token_issue_decodes_both_the_token_and_the_held_approval() {
    let server = MockServer::start().await;
    let request = json!({"agent_id": "agt_1", "scope": ["files.read"], "ttl": 60,
        "target_service": "files", "intent": "sync"});
    Mock::given(method("POST"))
        .and(path("/v1/tokens"))
        .and(body_json(&request))
        .respond_with(envelope(201, token_json()))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/tokens"))
        .and(body_json(&request))
        .respond_with(envelope(202, approval_json("pending")))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;
    let ask = TokenRequest {
        agent_id: "agt_1".into(),
        scope: vec!["files.read".into()],
        ttl: Some(60),
        target_service: Some("files".into()),
        intent: Some("sync".into()),
    };

    let Issuance::Issued(token) = m.tokens().issue(&ask).await.unwrap() else {
        panic!("201 is a token");
    };
    assert_eq!(token.jti, "atk_1");
    assert_eq!(token.expires_in, 300);
    assert!(token.token.expose().ends_with("c2lnbmF0dXJlLXRhaWw"));
    assert!(!format!("{token:?}").contains("c2lnbmF0dXJlLXRhaWw"));

    let Issuance::HeldForApproval(held) = m.tokens().issue(&ask).await.unwrap() else {
        panic!("202 is a held approval");
    };
    assert_eq!(held.id, "apv_1");
    assert_eq!(held.status, ApprovalStatus::Pending);
    assert_eq!(held.target_service, "files");
}

#[tokio::test]
async fn token_verify_single_batch_and_revoke() {
    let server = MockServer::start().await;
    let valid = json!({"valid": true, "agent_id": "agt_1", "scope": ["files.read"],
        "aud": "files", "intent": null, "exp": 1_700_000_300, "jti": "atk_1"});
    let invalid = json!({"valid": false, "reason": "token_revoked"});
    Mock::given(method("POST"))
        .and(path("/v1/tokens/verify"))
        .and(body_json(
            json!({"token": "t1", "required_scope": "files.read"}),
        ))
        .respond_with(envelope(200, valid.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/tokens/verify/batch"))
        .and(body_json(json!({"tokens": ["t1", "t2"]})))
        .respond_with(envelope(200, json!({"results": [valid, invalid]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/tokens/atk_1/revoke"))
        .respond_with(envelope(
            200,
            json!({"jti": "atk_1", "agentId": "agt_1", "revoked": true}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;

    let TokenVerdict::Valid(claims) = m.tokens().verify("t1", Some("files.read")).await.unwrap()
    else {
        panic!("valid");
    };
    assert_eq!(claims.agent_id, "agt_1");
    assert_eq!(claims.aud.as_deref(), Some("files"));
    assert_eq!(claims.exp, 1_700_000_300);

    let verdicts = m.tokens().verify_batch(&["t1", "t2"], None).await.unwrap();
    assert!(matches!(verdicts[0], TokenVerdict::Valid(_)));
    assert_eq!(
        verdicts[1],
        TokenVerdict::Invalid {
            reason: "token_revoked".into()
        }
    );

    let revoked = m.tokens().revoke("atk_1").await.unwrap();
    assert!(revoked.revoked);
    assert_eq!(revoked.agent_id, "agt_1");
}

#[tokio::test]
async fn a_batch_of_101_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let m = management(&server).await;
    let tokens = vec!["t"; 101];
    let e = m.tokens().verify_batch(&tokens, None).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn policies_send_snake_case_rules_and_approvals_flow() {
    let server = MockServer::start().await;
    let rules = json!([{"effect": "throttle", "match": {"scopes": ["files.*"]},
        "limit": {"count": 5, "window_secs": 60}}]);
    let policy = json!({"id": "pol_1", "name": "cap", "description": null, "priority": 200,
        "rules": rules, "isActive": true, "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z"});
    Mock::given(method("POST"))
        .and(path("/v1/policies"))
        .and(body_json(
            json!({"name": "cap", "priority": 200, "rules": rules, "is_active": true}),
        ))
        .respond_with(envelope(201, policy.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let mut inactive = policy;
    inactive["isActive"] = false.into();
    Mock::given(method("PATCH"))
        .and(path("/v1/policies/pol_1"))
        .and(body_json(json!({"is_active": false})))
        .respond_with(envelope(200, inactive))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/approvals"))
        .and(query_param("status", "pending"))
        .respond_with(envelope(200, json!([approval_json("pending")])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/approvals/apv_1/grant"))
        .respond_with(envelope(200, approval_json("granted")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/approvals/apv_1/token"))
        .respond_with(envelope(201, token_json()))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;

    let rule = Rule {
        effect: Effect::Throttle,
        matcher: RuleMatch {
            scopes: Some(vec!["files.*".into()]),
            ..Default::default()
        },
        limit: Some(RuleLimit {
            count: 5,
            window_secs: 60,
        }),
    };
    let created = m
        .policies()
        .create(&NewPolicy {
            name: "cap".into(),
            priority: Some(200),
            rules: vec![rule.clone()],
            is_active: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.rules, vec![rule]);
    assert!(created.is_active);
    let updated = m
        .policies()
        .update(
            "pol_1",
            &PolicyUpdate {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!updated.is_active);

    let pending = m
        .approvals()
        .list(Some(ApprovalStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending[0].id, "apv_1");
    let granted = m.approvals().grant("apv_1").await.unwrap();
    assert_eq!(granted.status, ApprovalStatus::Granted);
    let token = m.approvals().collect("apv_1").await.unwrap();
    assert_eq!(token.jti, "atk_1");
}

#[tokio::test]
async fn audit_filters_cursor_verify_and_raw_export() {
    let server = MockServer::start().await;
    let entry = json!({"seq": 7, "id": "aud_7", "ts": "2026-01-01T00:00:00Z",
        "type": "key.created", "actor": "usr_1", "subject": "key_1", "data": {"prefix": "sgl_live_abc"},
        "prevHash": "00", "hash": "ab"});
    Mock::given(method("GET"))
        .and(path("/v1/audit"))
        .and(query_param("type", "key.created"))
        .and(query_param("since", "1700000000"))
        .and(query_param("limit", "1"))
        .and(query_param("cursor", "YTE6Ng"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [entry], "meta": {"requestId": "r", "nextCursor": "YTE6Nw"}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/audit/verify"))
        .respond_with(envelope(
            200,
            json!({"valid": false, "broken_at": 3, "reason": "hash mismatch"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let csv = "seq,id,ts,type,actor,subject,data,prev_hash,hash\r\n7,aud_7,...\r\n";
    Mock::given(method("GET"))
        .and(path("/v1/audit/export"))
        .and(query_param("format", "csv"))
        .and(query_param("actor", "usr_1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/csv; charset=utf-8")
                .set_body_string(csv),
        )
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;

    let filter = AuditFilter {
        event_type: Some("key.created".into()),
        since: Some("1700000000".into()),
        ..Default::default()
    };
    let page = m
        .audit()
        .list(&filter, Some(1), Some("YTE6Ng"))
        .await
        .unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("YTE6Nw"));
    assert_eq!(page.entries[0].event_type, "key.created");
    assert_eq!(page.entries[0].data["prefix"], "sgl_live_abc");
    let verdict = m.audit().verify().await.unwrap();
    assert_eq!(
        verdict,
        ChainVerdict::Broken {
            broken_at: 3,
            reason: "hash mismatch".into()
        }
    );
    let actor = AuditFilter {
        actor: Some("usr_1".into()),
        ..Default::default()
    };
    let bytes = m.audit().export(AuditFormat::Csv, &actor).await.unwrap();
    assert_eq!(bytes, csv.as_bytes());
}

fn webhook_json() -> Value {
    json!({"id": "whk_1", "url": "https://example.com/hook", "events": ["*"],
        "description": null, "status": "active", "disabledAt": null, "disabledReason": null,
        "previousSecretExpiresAt": null, "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z"})
}

/// Drives every webhook operation of one scope against `base` paths.
async fn exercise_webhooks(server: &MockServer, base: &str, hooks: Webhooks<'_>) {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let mut with_secret = webhook_json();
    with_secret["secret"] = secret.into();
    let delivery = json!({"id": "dlv_1", "webhookId": "msg_1", "eventType": "key.created",
        "status": "failed", "attempts": 8, "lastStatusCode": 500, "lastError": null,
        "lastAttemptAt": null, "nextAttemptAt": null, "deliveredAt": null,
        "createdAt": "2026-01-01T00:00:00Z"});
    let mut pending = delivery.clone();
    pending["status"] = "pending".into();
    let routes: [(&str, String, ResponseTemplate); 6] = [
        ("POST", base.into(), envelope(201, with_secret.clone())),
        ("GET", base.into(), envelope(200, json!([webhook_json()]))),
        (
            "POST",
            format!("{base}/whk_1/rotate"),
            envelope(200, with_secret),
        ),
        (
            "GET",
            format!("{base}/whk_1/deliveries"),
            envelope(200, json!([delivery])),
        ),
        (
            "POST",
            format!("{base}/whk_1/deliveries/dlv_1/redeliver"),
            envelope(202, pending),
        ),
        (
            "DELETE",
            format!("{base}/whk_1"),
            ResponseTemplate::new(204),
        ),
    ];
    for (verb, at, answer) in routes {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(answer)
            .expect(1)
            .mount(server)
            .await;
    }

    let created = hooks
        .create(&NewWebhook {
            url: "https://example.com/hook".into(),
            events: vec!["*".into()],
            description: None,
        })
        .await
        .unwrap();
    assert_eq!(created.secret.expose(), secret);
    assert!(!format!("{created:?}").contains(&secret[12..]));
    assert_eq!(hooks.list().await.unwrap()[0].id, "whk_1");
    assert_eq!(
        hooks.rotate_secret("whk_1").await.unwrap().secret.expose(),
        secret
    );
    let deliveries = hooks.deliveries("whk_1", Some(5)).await.unwrap();
    assert_eq!(deliveries[0].status, DeliveryStatus::Failed);
    assert_eq!(deliveries[0].last_status_code, Some(500));
    let again = hooks.redeliver("whk_1", "dlv_1").await.unwrap().unwrap();
    assert_eq!(again.status, DeliveryStatus::Pending);
    hooks.delete("whk_1").await.unwrap();

    let sent = api_requests(server).await;
    let create = sent.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&create.body).unwrap(),
        json!({"url": "https://example.com/hook", "events": ["*"]})
    );
    let listed = sent
        .iter()
        .find(|r| r.url.path().ends_with("/deliveries"))
        .unwrap();
    assert_eq!(listed.url.query(), Some("limit=5"));
}

#[tokio::test]
async fn webhooks_under_v1() {
    let server = MockServer::start().await;
    let m = management(&server).await;
    exercise_webhooks(&server, "/v1/webhooks", m.webhooks()).await;
}

#[tokio::test]
async fn webhooks_under_app_v1() {
    let server = MockServer::start().await;
    let app = app_api(&server).await;
    exercise_webhooks(&server, "/app/v1/webhooks", app.webhooks()).await;
}

#[tokio::test]
async fn domains_add_verify_delete() {
    let server = MockServer::start().await;
    let domain = |status: &str| {
        json!({"id": "dom_1", "domain": "example.com", "status": status,
            "record": {"type": "TXT", "name": "_sigil-challenge.example.com",
                "value": "sigil-verification=abc"},
            "createdAt": "2026-01-01T00:00:00Z", "verifiedAt": null})
    };
    Mock::given(method("POST"))
        .and(path("/v1/domains"))
        .and(body_json(json!({"domain": "example.com"})))
        .respond_with(envelope(201, domain("pending")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/domains/dom_1/verify"))
        .respond_with(envelope(200, domain("verified")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/domains/dom_1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;
    let added = m.domains().add("example.com").await.unwrap();
    assert_eq!(added.status, DomainStatus::Pending);
    assert_eq!(added.record.record_type, "TXT");
    assert_eq!(added.record.name, "_sigil-challenge.example.com");
    assert_eq!(
        m.domains().verify("dom_1").await.unwrap().status,
        DomainStatus::Verified
    );
    m.domains().delete("dom_1").await.unwrap();
}

#[tokio::test]
async fn app_identity_lookup_and_raw_ai_chat() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/v1/identity/lookup"))
        .and(header("authorization", "Bearer at"))
        .and(body_json(json!({"userId": "slug_1"})))
        .respond_with(envelope(200, json!({"slug": "slug_1", "alias": "ada"})))
        .expect(1)
        .mount(&server)
        .await;
    let chat = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let answer = json!({"choices": [{"message": {"role": "assistant", "content": "hello"}}]});
    Mock::given(method("POST"))
        .and(path("/app/v1/ai/chat"))
        .and(body_json(&chat))
        .respond_with(ResponseTemplate::new(200).set_body_json(&answer))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_api(&server).await;
    let who = app.lookup_identity("slug_1").await.unwrap();
    assert_eq!(who.slug, "slug_1");
    assert_eq!(who.alias.as_deref(), Some("ada"));
    assert_eq!(app.ai_chat(&chat).await.unwrap(), answer);
}

#[tokio::test]
async fn messages_get_an_idempotency_key_and_keep_the_callers_own() {
    let server = MockServer::start().await;
    let message = json!({"to": "slug_1", "body": "hello"});
    Mock::given(method("POST"))
        .and(path("/app/v1/messages"))
        .and(body_json(&message))
        .respond_with(envelope(
            201,
            json!({"id": "msg_1", "status": "delivered", "to": "slug_1",
                "createdAt": "2026-01-01T00:00:00Z"}),
        ))
        .expect(3)
        .mount(&server)
        .await;
    let app = app_api(&server).await;
    let new = NewMessage {
        to: "slug_1".into(),
        body: "hello".into(),
        ..Default::default()
    };
    let sent = app.send_message(&new, None).await.unwrap();
    assert_eq!(sent.id, "msg_1");
    app.send_message(&new, None).await.unwrap();
    app.send_message(&new, Some("order-42")).await.unwrap();

    let keys: Vec<String> = api_requests(&server)
        .await
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .expect("every message carries a key")
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(!keys[0].is_empty());
    assert_ne!(keys[0], keys[1], "a fresh key per call");
    assert_eq!(keys[2], "order-42", "the caller's key is kept");
}

#[tokio::test]
async fn new_resources_surface_typed_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/agents"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "application/problem+json")
                .set_body_json(json!({"type": "about:blank", "title": "Forbidden",
                    "status": 403, "detail": "needs agents.write",
                    "code": "insufficient_scope", "requestId": "req_403"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/tokens"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .insert_header("content-type", "application/problem+json")
                .set_body_json(json!({"type": "about:blank", "title": "Too Many Requests",
                    "status": 429, "code": "policy_throttled", "requestId": "req_429",
                    "retryAfter": 120})),
        )
        // 120 s is beyond the default policy's longest wait: one attempt.
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;

    let e = m
        .agents()
        .create(&NewAgent {
            name: "bot".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Api { status: 403, code, .. } if code == "insufficient_scope"));
    assert_eq!(e.request_id(), Some("req_403"));

    let e = m
        .tokens()
        .issue(&TokenRequest {
            agent_id: "agt_1".into(),
            scope: vec!["files.read".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::RateLimited { status: 429, code, .. } if code == "policy_throttled"),
        "{e:?}"
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(e.request_id(), Some("req_429"));
}
