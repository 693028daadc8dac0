//! sdk-core's typed API clients (`sigil::Management`, `sigil::AppApi`)
//! driven end to end against a real in-process server: one test per
//! resource, every call through the typed client (raw HTTP only for set-up
//! the SDK has no call for). The server is the source of truth for shapes.

mod browser;
mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use browser::Browser;
use common::TestServer;
use hickory_proto::op::{Message, OpCode, ResponseCode};
use serde_json::{json, Value};
use sigil::api::{
    AccountUpdate, AgentQuery, AgentStatus, ApprovalStatus, AuditFilter, AuditFormat, ChainVerdict,
    DomainStatus, Effect, Issuance, NewAgent, NewApp, NewCapToken, NewMessage, NewPolicy,
    NewWebhook, PolicyUpdate, Rule, RuleLimit, RuleMatch, TokenRequest, TokenVerdict,
    WebhookStatus,
};
use sigil::{
    AppApi, AuthorizationRequest, ClientAuth, Error, Management, MemoryStorage, OAuthClient,
    Renewal, Runtime, Session,
};
use sigil_server::Config;

const CB: &str = "https://app.example/cb";

async fn client(base: &str, id: &str, auth: ClientAuth) -> OAuthClient {
    OAuthClient::discover(base, id, auth, Runtime::native())
        .await
        .unwrap()
}

/// `Management` over a renewing session on a fresh account's `full` key.
async fn management(s: &TestServer, email: &str) -> Management {
    let (_, key) = s.account(email).await;
    management_with(s, key).await
}

/// `Management` over a renewing session on `key`.
async fn management_with(s: &TestServer, key: String) -> Management {
    let session = Session::new(
        client(&s.base, "cli", ClientAuth::None).await,
        Arc::new(MemoryStorage::default()),
        Renewal::ApiKey {
            key: key.into(),
            scopes: vec![],
        },
    );
    Management::new(Arc::new(session), &s.base).unwrap()
}

async fn new_agent(m: &Management, name: &str) -> String {
    let agent = NewAgent {
        name: name.into(),
        description: None,
    };
    m.agents().create(&agent).await.unwrap().agent.id
}

fn request(agent_id: &str, scope: &[&str]) -> TokenRequest {
    TokenRequest {
        agent_id: agent_id.into(),
        scope: scope.iter().map(|s| s.to_string()).collect(),
        ttl: Some(120),
        target_service: Some("files-api".into()),
        intent: Some("sync".into()),
    }
}

/// Issues a token that must not be held or refused; returns (token, jti).
async fn issue(m: &Management, agent_id: &str, scope: &[&str]) -> (String, String) {
    match m.tokens().issue(&request(agent_id, scope)).await.unwrap() {
        Issuance::Issued(t) => (t.token.expose().to_owned(), t.jti),
        Issuance::HeldForApproval(a) => panic!("held for approval: {a:?}"),
    }
}

/// The reason of an invalid verdict; panics on a valid one.
fn reason(verdict: &TokenVerdict) -> &str {
    match verdict {
        TokenVerdict::Invalid { reason } => reason,
        TokenVerdict::Valid(v) => panic!("expected invalid, got {v:?}"),
    }
}

/// An `Error::Api`'s (status, code).
fn api_error(e: &Error) -> (u16, &str) {
    match e {
        Error::Api { status, code, .. } => (*status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A loopback URL nobody listens on.
fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/hook")
}

/// `agents()`: the key shown once, pages and the status filter, and pause,
/// resume and revoke as `tokens().verify` sees them.
#[tokio::test]
async fn agents_create_list_get_pause_resume_revoke() {
    let s = common::start().await;
    let m = management(&s, "agents@example.com").await;

    let created = m
        .agents()
        .create(&NewAgent {
            name: "bot".into(),
            description: Some("syncs files".into()),
        })
        .await
        .unwrap();
    let key = created.agent_key.expose().to_owned();
    assert!(key.starts_with("sgl_ask_"), "{key}");
    assert!(!format!("{created:?}").contains(&key), "agent key redacted");
    assert_eq!(created.agent.status, AgentStatus::Active);
    assert_eq!(created.agent.description.as_deref(), Some("syncs files"));
    let id = created.agent.id.clone();
    let second = new_agent(&m, "two").await;
    let third = new_agent(&m, "three").await;

    // Two pages cover the three agents exactly once (same-second creations
    // have no defined order, so compare as sets).
    let page = |limit, offset| AgentQuery {
        limit: Some(limit),
        offset: Some(offset),
        status: None,
    };
    let first = m.agents().list(&page(2, 0)).await.unwrap();
    assert_eq!(first.agents.len(), 2);
    assert!(first.has_more);
    let last = m.agents().list(&page(2, 2)).await.unwrap();
    assert_eq!(last.agents.len(), 1);
    assert!(!last.has_more);
    let mut seen: Vec<_> = first
        .agents
        .iter()
        .chain(&last.agents)
        .map(|a| a.id.clone())
        .collect();
    seen.sort();
    let mut all = vec![id.clone(), second, third];
    all.sort();
    assert_eq!(seen, all);
    assert_eq!(m.agents().get(&id).await.unwrap(), created.agent);

    // Pausing blocks the agent's tokens at once; resuming lets them verify.
    let (token, _) = issue(&m, &id, &["keys.read"]).await;
    let paused = m.agents().pause(&id).await.unwrap();
    assert_eq!(paused.status, AgentStatus::Paused);
    let only_paused = m
        .agents()
        .list(&AgentQuery {
            status: Some(AgentStatus::Paused),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        only_paused
            .agents
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );
    let verdict = m.tokens().verify(&token, None).await.unwrap();
    assert_eq!(reason(&verdict), "agent_inactive");
    assert_eq!(
        m.agents().resume(&id).await.unwrap().status,
        AgentStatus::Active
    );
    assert!(matches!(
        m.tokens().verify(&token, None).await.unwrap(),
        TokenVerdict::Valid(v) if v.agent_id == id
    ));

    // Revoked for good: its tokens fail, and it cannot be resumed.
    assert_eq!(
        m.agents().revoke(&id).await.unwrap().status,
        AgentStatus::Revoked
    );
    let verdict = m.tokens().verify(&token, None).await.unwrap();
    assert_eq!(reason(&verdict), "agent_inactive");
    let e = m.agents().resume(&id).await.unwrap_err();
    assert_eq!(api_error(&e), (409, "agent_revoked"));
    let e = m.agents().get("agt_missing").await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
}

/// `tokens()`: issue (201), verify with and without the required scope,
/// batches (101 refused locally), revocation.
#[tokio::test]
async fn tokens_issue_verify_batch_and_revoke() {
    let s = common::start().await;
    let m = management(&s, "tokens@example.com").await;
    let agent = new_agent(&m, "bot").await;

    let issued = match m
        .tokens()
        .issue(&request(&agent, &["keys.read"]))
        .await
        .unwrap()
    {
        Issuance::Issued(t) => t,
        Issuance::HeldForApproval(a) => panic!("held: {a:?}"),
    };
    assert_eq!(issued.token_type, "Bearer");
    assert_eq!(issued.expires_in, 120);
    assert!(issued.jti.starts_with("atk_"), "{}", issued.jti);
    let token = issued.token.expose().to_owned();
    assert!(!format!("{issued:?}").contains(&token), "token redacted");

    match m.tokens().verify(&token, Some("keys.read")).await.unwrap() {
        TokenVerdict::Valid(v) => {
            assert_eq!(v.agent_id, agent);
            assert_eq!(v.scope, ["keys.read"]);
            assert_eq!(v.aud.as_deref(), Some("files-api"));
            assert_eq!(v.intent.as_deref(), Some("sync"));
            assert_eq!(v.jti, issued.jti);
            assert!(v.exp > 0);
        }
        other => panic!("{other:?}"),
    }
    let verdict = m.tokens().verify(&token, Some("keys.write")).await.unwrap();
    assert_eq!(reason(&verdict), "insufficient_scope");
    let verdict = m.tokens().verify("not-a-token", None).await.unwrap();
    assert_eq!(reason(&verdict), "malformed_token");

    // A batch answers in order, the bad one in its place.
    let (other, _) = issue(&m, &agent, &["keys.read", "agents.read"]).await;
    let batch = m
        .tokens()
        .verify_batch(&[&token, "not-a-token", &other], Some("keys.read"))
        .await
        .unwrap();
    assert_eq!(batch.len(), 3);
    assert!(matches!(&batch[0], TokenVerdict::Valid(v) if v.jti == issued.jti));
    assert_eq!(reason(&batch[1]), "malformed_token");
    assert!(matches!(&batch[2], TokenVerdict::Valid(v) if v.scope.len() == 2));
    let too_many = vec![token.as_str(); 101];
    let e = m.tokens().verify_batch(&too_many, None).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");

    let revoked = m.tokens().revoke(&issued.jti).await.unwrap();
    assert_eq!(
        (
            revoked.jti.as_str(),
            revoked.agent_id.as_str(),
            revoked.revoked
        ),
        (issued.jti.as_str(), agent.as_str(), true)
    );
    let verdict = m.tokens().verify(&token, None).await.unwrap();
    assert_eq!(reason(&verdict), "token_revoked");
    let e = m.tokens().revoke("atk_missing").await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
}

/// `policies()` and `approvals()`: deny, hold, grant and collect, reject,
/// throttle, deactivate, delete.
#[tokio::test]
async fn policies_deny_hold_for_approval_update_and_delete() {
    let s = common::start().await;
    let m = management(&s, "policies@example.com").await;
    let denied_agent = new_agent(&m, "denied").await;
    let held_agent = new_agent(&m, "held").await;
    let only = |agent: &str| RuleMatch {
        agents: Some(vec![agent.to_owned()]),
        ..Default::default()
    };

    let deny = m
        .policies()
        .create(&NewPolicy {
            name: "no keys".into(),
            priority: Some(500),
            rules: vec![Rule {
                effect: Effect::Deny,
                matcher: only(&denied_agent),
                limit: None,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(deny.is_active);
    assert_eq!(deny.priority, 500);
    assert_eq!(deny.rules[0].matcher, only(&denied_agent));
    let e = m
        .tokens()
        .issue(&request(&denied_agent, &["keys.read"]))
        .await
        .unwrap_err();
    assert_eq!(api_error(&e), (403, "policy_denied"));

    let hold = m
        .policies()
        .create(&NewPolicy {
            name: "ask me".into(),
            rules: vec![Rule {
                effect: Effect::RequireApproval,
                matcher: only(&held_agent),
                limit: None,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hold.priority, 100, "server default");
    let approval = match m
        .tokens()
        .issue(&request(&held_agent, &["keys.read"]))
        .await
        .unwrap()
    {
        Issuance::HeldForApproval(a) => a,
        Issuance::Issued(_) => panic!("issued despite require_approval"),
    };
    assert_eq!(approval.status, ApprovalStatus::Pending);
    assert_eq!(
        (approval.agent_id.as_str(), approval.policy_id.as_str()),
        (held_agent.as_str(), hold.id.as_str())
    );
    assert_eq!(
        (approval.ttl, approval.target_service.as_str()),
        (120, "files-api")
    );
    let pending = m
        .approvals()
        .list(Some(ApprovalStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending, std::slice::from_ref(&approval));
    let e = m.approvals().collect(&approval.id).await.unwrap_err();
    assert_eq!(api_error(&e), (409, "approval_pending"));
    let granted = m.approvals().grant(&approval.id).await.unwrap();
    assert_eq!(granted.status, ApprovalStatus::Granted);
    assert!(granted.decided_at.is_some());
    let token = m.approvals().collect(&approval.id).await.unwrap();
    assert!(matches!(
        m.tokens().verify(token.token.expose(), Some("keys.read")).await.unwrap(),
        TokenVerdict::Valid(v) if v.agent_id == held_agent && v.jti == token.jti
    ));
    let e = m.approvals().collect(&approval.id).await.unwrap_err();
    assert_eq!(api_error(&e), (409, "approval_collected"));
    assert_eq!(
        m.approvals()
            .list(Some(ApprovalStatus::Collected))
            .await
            .unwrap()[0]
            .id,
        approval.id
    );

    // A rejected request's token cannot be collected.
    let rejected = match m
        .tokens()
        .issue(&request(&held_agent, &["agents.read"]))
        .await
        .unwrap()
    {
        Issuance::HeldForApproval(a) => m.approvals().reject(&a.id).await.unwrap(),
        Issuance::Issued(_) => panic!("issued despite require_approval"),
    };
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    let e = m.approvals().collect(&rejected.id).await.unwrap_err();
    assert_eq!(api_error(&e), (403, "approval_rejected"));

    // A spent throttle is a typed 429 with the server's Retry-After (an hour:
    // beyond the retry policy, so the SDK does not wait it out).
    let throttled_agent = new_agent(&m, "throttled").await;
    let throttle = m
        .policies()
        .create(&NewPolicy {
            name: "one an hour".into(),
            rules: vec![Rule {
                effect: Effect::Throttle,
                matcher: only(&throttled_agent),
                limit: Some(RuleLimit {
                    count: 1,
                    window_secs: 3600,
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        throttle.rules[0].limit,
        Some(RuleLimit {
            count: 1,
            window_secs: 3600
        })
    );
    issue(&m, &throttled_agent, &["keys.read"]).await;
    let e = m
        .tokens()
        .issue(&request(&throttled_agent, &["keys.read"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::RateLimited { status: 429, code, .. } if code == "policy_throttled"),
        "{e:?}"
    );
    assert!(e.retry_after().is_some_and(|d| d.as_secs() > 3000), "{e:?}");
    m.policies().delete(&throttle.id).await.unwrap();

    // Deactivating the deny policy lets the agent's requests through.
    let off = m
        .policies()
        .update(
            &deny.id,
            &PolicyUpdate {
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!off.is_active);
    assert_eq!(off.name, "no keys");
    issue(&m, &denied_agent, &["keys.read"]).await;
    assert!(!m.policies().get(&deny.id).await.unwrap().is_active);
    let listed: Vec<_> = m
        .policies()
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, [deny.id.clone(), hold.id.clone()], "by priority");

    m.policies().delete(&deny.id).await.unwrap();
    m.policies().delete(&hold.id).await.unwrap();
    let e = m.policies().get(&deny.id).await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
    assert!(m.policies().list().await.unwrap().is_empty());
}

/// `audit()`: a type filter over two cursor pages, the chain check, and
/// both export formats.
#[tokio::test]
async fn audit_pages_by_cursor_verifies_and_exports() {
    let s = common::start().await;
    let m = management(&s, "audit@example.com").await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(new_agent(&m, name).await);
    }
    let filter = AuditFilter {
        event_type: Some("agent.created".into()),
        ..Default::default()
    };

    // Oldest first, two per page.
    let first = m.audit().list(&filter, Some(2), None).await.unwrap();
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = m
        .audit()
        .list(&filter, Some(2), Some(&cursor))
        .await
        .unwrap();
    assert_eq!(second.next_cursor, None);
    let entries: Vec<_> = first.entries.iter().chain(&second.entries).collect();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|e| e.event_type == "agent.created"));
    let subjects: Vec<_> = entries.iter().map(|e| e.subject.clone().unwrap()).collect();
    assert_eq!(subjects, ids);
    assert_eq!(entries[0].data, json!({ "name": "a" }));
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
    let e = m
        .audit()
        .list(&filter, None, Some("forged"))
        .await
        .unwrap_err();
    assert_eq!(api_error(&e), (422, "validation_failed"));

    match m.audit().verify().await.unwrap() {
        ChainVerdict::Intact { entries } => assert!(entries >= 3, "{entries}"),
        broken => panic!("{broken:?}"),
    }

    let csv = m.audit().export(AuditFormat::Csv, &filter).await.unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "header and three rows: {csv}");
    assert!(ids.iter().all(|id| csv.contains(id.as_str())));
    let exported = m.audit().export(AuditFormat::Json, &filter).await.unwrap();
    let exported: Vec<Value> = serde_json::from_slice(&exported).unwrap();
    assert_eq!(exported.len(), 3);
    assert_eq!(exported[2]["subject"], ids[2].as_str());
    assert_eq!(exported[0]["type"], "agent.created");
}

/// `webhooks()` under `/v1`: register (secret once), read, rotate, a real
/// delivery, redeliver, delete.
#[tokio::test]
async fn webhooks_register_rotate_deliver_and_delete() {
    let s = common::start().await;
    let m = management(&s, "hooks@example.com").await;
    let url = dead_url();

    let created = m
        .webhooks()
        .create(&NewWebhook {
            url: url.clone(),
            events: vec!["agent.created".into()],
            description: Some("ops".into()),
        })
        .await
        .unwrap();
    let secret = created.secret.expose().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(!format!("{created:?}").contains(&secret), "secret redacted");
    let hook = created.webhook;
    assert_eq!(
        (hook.url.as_str(), hook.status, hook.description.as_deref()),
        (url.as_str(), WebhookStatus::Active, Some("ops"))
    );
    assert_eq!(hook.events, ["agent.created"]);
    assert_eq!(
        m.webhooks().list().await.unwrap(),
        std::slice::from_ref(&hook)
    );
    assert_eq!(m.webhooks().get(&hook.id).await.unwrap(), hook);
    let e = m
        .webhooks()
        .create(&NewWebhook {
            url: url.clone(),
            events: vec!["no.such.event".into()],
            description: None,
        })
        .await
        .unwrap_err();
    assert_eq!(api_error(&e).0, 422);

    let rotated = m.webhooks().rotate_secret(&hook.id).await.unwrap();
    assert_ne!(rotated.secret.expose(), secret);
    assert!(rotated.webhook.previous_secret_expires_at.is_some());

    // An event the endpoint subscribes to queues one delivery.
    new_agent(&m, "bot").await;
    let deliveries = m.webhooks().deliveries(&hook.id, Some(10)).await.unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let delivery = &deliveries[0];
    assert_eq!(delivery.event_type, "agent.created");
    assert!(delivery.webhook_id.starts_with("msg_"), "{delivery:?}");
    let again = m
        .webhooks()
        .redeliver(&hook.id, &delivery.id)
        .await
        .unwrap()
        .expect("the redelivered delivery");
    assert_eq!(again.id, delivery.id);
    assert_eq!(again.webhook_id, delivery.webhook_id);
    let e = m
        .webhooks()
        .redeliver(&hook.id, "dlv_missing")
        .await
        .unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));

    m.webhooks().delete(&hook.id).await.unwrap();
    let e = m.webhooks().get(&hook.id).await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
    assert!(m.webhooks().list().await.unwrap().is_empty());
}

/// A DNS server on loopback that answers NXDOMAIN to every query.
async fn nxdomain_server() -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut response = Message::response(request.metadata.id, OpCode::Query);
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.metadata.authoritative = true;
            response.metadata.response_code = ResponseCode::NXDomain;
            for query in &request.queries {
                response.add_query(query.clone());
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
        }
    });
    addr
}

/// `domains()`: add (the TXT record to publish), read, a typed failure to
/// verify an unpublished record, delete.
#[tokio::test]
async fn domains_add_list_get_verify_unpublished_and_delete() {
    let s = common::start_with(Config {
        dns_resolver: Some(nxdomain_server().await),
        ..Config::for_tests()
    })
    .await;
    let m = management(&s, "domains@example.com").await;

    let added = m.domains().add("Example.COM.").await.unwrap();
    assert_eq!(added.domain, "example.com");
    assert_eq!(added.status, DomainStatus::Pending);
    assert_eq!(added.record.record_type, "TXT");
    assert_eq!(added.record.name, "_sigil-challenge.example.com");
    assert!(added.record.value.starts_with("sigil-verification="));
    assert_eq!(added.verified_at, None);
    assert_eq!(
        m.domains().list().await.unwrap(),
        std::slice::from_ref(&added)
    );
    assert_eq!(m.domains().get(&added.id).await.unwrap(), added);
    let e = m.domains().add("example.com").await.unwrap_err();
    assert_eq!(api_error(&e), (409, "domain_exists"));

    // Nothing is published: a typed 422, and the domain stays pending.
    let e = m.domains().verify(&added.id).await.unwrap_err();
    assert_eq!(api_error(&e), (422, "verification_failed"));
    assert_eq!(
        m.domains().get(&added.id).await.unwrap().status,
        DomainStatus::Pending
    );

    m.domains().delete(&added.id).await.unwrap();
    let e = m.domains().get(&added.id).await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
    assert!(m.domains().list().await.unwrap().is_empty());
}

/// An app (all app-API scopes), a user who authorized it through the
/// browser flow, and `AppApi` over the app's `client_credentials` session.
struct AppSetup {
    api: AppApi,
    /// The app owner's management API.
    management: Management,
    /// The user's pairwise slug at this app.
    slug: String,
}

async fn app_setup(s: &TestServer) -> AppSetup {
    const SCOPES: &[&str] = &[
        "identity.read",
        "messages.send",
        "ai.chat",
        "webhooks.read",
        "webhooks.write",
    ];
    let (_, key) = s.account("owner@example.com").await;
    let (id, secret) = s.confidential_app(&key, SCOPES).await;
    let m = management_with(s, key).await;
    let app = client(&s.base, &id, ClientAuth::Basic(secret.clone().into())).await;

    // A user authorizes the app (the SDK builds the URL and redeems the
    // code; the test browser signs in and approves).
    let (url, pending) = app
        .authorization_url(&AuthorizationRequest {
            redirect_uri: CB.into(),
            scopes: vec!["identity.read".into()],
            extra: vec![],
        })
        .unwrap();
    let browser = Browser::signed_in(s, "user@example.com").await;
    let back = browser.decide(&url, "approve").await;
    let user = app.handle_callback(&back, pending).await.unwrap();
    let slug = app
        .introspect(user.access_token.expose(), None)
        .await
        .unwrap()
        .sub
        .expect("the user's pairwise sub");

    let session = Session::new(
        app,
        Arc::new(MemoryStorage::default()),
        Renewal::ClientCredentials {
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
        },
    );
    AppSetup {
        api: AppApi::new(Arc::new(session), &s.base).unwrap(),
        management: m,
        slug,
    }
}

/// `AppApi` over a `client_credentials` session: identity lookup, messages
/// with the session's and the caller's idempotency keys, ai/chat unset.
#[tokio::test]
async fn app_api_identity_messages_and_ai_chat() {
    let s = common::start().await;
    let AppSetup { api, slug, .. } = app_setup(&s).await;

    let e = api.lookup_identity("usr_unknown").await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
    let me = api.lookup_identity(&slug).await.unwrap();
    assert_eq!((me.slug.as_str(), me.alias), (slug.as_str(), None));

    // Without a key of ours the session adds a fresh one per call.
    let message = NewMessage {
        to: slug.clone(),
        subject: Some("hi".into()),
        body: "hello".into(),
    };
    let a = api.send_message(&message, None).await.unwrap();
    let b = api.send_message(&message, None).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(
        (a.status.as_str(), a.to.as_str()),
        ("delivered", slug.as_str())
    );
    // With ours, a retry replays the first answer.
    let first = api.send_message(&message, Some("order-42")).await.unwrap();
    let replay = api.send_message(&message, Some("order-42")).await.unwrap();
    assert_eq!(replay, first);
    let changed = NewMessage {
        body: "changed".into(),
        ..message.clone()
    };
    let e = api
        .send_message(&changed, Some("order-42"))
        .await
        .unwrap_err();
    assert_eq!(api_error(&e), (422, "idempotency_conflict"));
    let e = api
        .send_message(
            &NewMessage {
                to: "usr_unknown".into(),
                ..message
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));

    // No upstream configured: 503 `not_configured` once retries are spent.
    let chat = json!({ "messages": [{ "role": "user", "content": "hi" }] });
    let e = api.ai_chat(&chat).await.unwrap_err();
    assert_eq!(api_error(&e), (503, "not_configured"));
}

/// `AppApi::webhooks()` (`/app/v1/webhooks`): the app's own endpoints,
/// apart from the owner's, receiving its `message.delivered` events.
#[tokio::test]
async fn app_scoped_webhooks_are_the_apps_own() {
    let s = common::start().await;
    let AppSetup {
        api,
        management,
        slug,
    } = app_setup(&s).await;
    let url = dead_url();

    let created = api
        .webhooks()
        .create(&NewWebhook {
            url: url.clone(),
            events: vec!["message.delivered".into()],
            description: None,
        })
        .await
        .unwrap();
    assert!(created.secret.expose().starts_with("whsec_"));
    let hook = created.webhook;
    assert_eq!(
        api.webhooks().list().await.unwrap(),
        std::slice::from_ref(&hook)
    );
    assert_eq!(api.webhooks().get(&hook.id).await.unwrap(), hook);
    // The owner's own endpoints (`/v1/webhooks`) are another set.
    let e = management.webhooks().get(&hook.id).await.unwrap_err();
    assert_eq!(api_error(&e), (404, "not_found"));
    assert!(management.webhooks().list().await.unwrap().is_empty());

    let rotated = api.webhooks().rotate_secret(&hook.id).await.unwrap();
    assert_ne!(rotated.secret.expose(), created.secret.expose());

    // A message to one of the app's users is delivered to its endpoint.
    let message = NewMessage {
        to: slug,
        subject: None,
        body: "hello".into(),
    };
    api.send_message(&message, None).await.unwrap();
    let deliveries = api.webhooks().deliveries(&hook.id, None).await.unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].event_type, "message.delivered");
    let again = api
        .webhooks()
        .redeliver(&hook.id, &deliveries[0].id)
        .await
        .unwrap();
    assert_eq!(again.map(|d| d.id), Some(deliveries[0].id.clone()));

    api.webhooks().delete(&hook.id).await.unwrap();
    assert!(api.webhooks().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn workspaces_client_against_the_server() {
    let s = common::start().await;
    let (user, key) = s.account("sdk-ws@example.com").await;
    s.account("sdk-ws-other@example.com").await;
    let m = management_with(&s, key).await;
    let ws = m.workspaces();

    let list = ws.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, user);
    assert!(list[0].personal);
    assert_eq!(list[0].role, None, "a key's token has no role");
    let renamed = ws.rename(&user, "Mine").await.unwrap();
    assert_eq!(renamed.name, "Mine");
    assert_eq!(ws.get(&user).await.unwrap().name, "Mine");
    let members = ws.members(&user).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].user_id.as_str(), members[0].role.as_str()),
        (user.as_str(), "owner")
    );

    let other = sigil::api::NewWorkspaceMember {
        email: "sdk-ws-other@example.com".into(),
        role: "member".into(),
    };
    let e = ws.add_member(&user, &other).await.unwrap_err();
    assert_eq!(api_error(&e), (409, "personal_workspace"));
    let e = ws.create("Team").await.unwrap_err();
    assert_eq!(api_error(&e), (403, "user_required"));
    let e = ws.set_role(&user, &user, "admin").await.unwrap_err();
    assert_eq!(api_error(&e), (403, "owner_required"));
    let e = ws.remove_member(&user, "usr_nope").await.unwrap_err();
    assert_eq!(api_error(&e), (404, "member_not_found"));
    let e = ws.get("ws_elsewhere").await.unwrap_err();
    assert_eq!(api_error(&e), (404, "workspace_not_found"));
}

#[tokio::test]
async fn account_and_capability_tokens_against_the_server() {
    let s = common::start().await;
    let (user, key) = s.account("sdk-account@example.com").await;
    let m = management_with(&s, key).await;

    let me = m.account().get().await.unwrap();
    assert_eq!(
        (me.id.as_str(), me.email.as_str(), me.alias.as_deref()),
        (user.as_str(), "sdk-account@example.com", None)
    );
    let set = AccountUpdate {
        alias: Some(Some("  Ada  ".into())),
    };
    assert_eq!(
        m.account().update(&set).await.unwrap().alias.as_deref(),
        Some("Ada")
    );
    let keep = AccountUpdate::default();
    assert_eq!(
        m.account().update(&keep).await.unwrap().alias.as_deref(),
        Some("Ada")
    );
    let clear = AccountUpdate { alias: Some(None) };
    assert_eq!(m.account().update(&clear).await.unwrap().alias, None);
    let bad = AccountUpdate {
        alias: Some(Some("\u{7}".into())),
    };
    assert_eq!(
        api_error(&m.account().update(&bad).await.unwrap_err()),
        (422, "validation_failed")
    );

    let app = NewApp {
        name: "front".into(),
        redirect_uris: vec![CB.into()],
        allowed_origins: vec![],
        public: true,
        scopes: Some(vec!["identity.read".into()]),
    };
    let app = m.apps().create(&app).await.unwrap().app.id;
    let request = NewCapToken {
        app_id: app.clone(),
        scopes: vec!["identity.read".into()],
        expires_in_secs: Some(3600),
        origins: vec!["https://app.example".into()],
        emails: vec!["Reader@Example.com".into()],
    };
    let cap = m.cap_tokens().create(&request).await.unwrap();
    assert!(cap.token.starts_with("cap_"), "{cap:?}");
    assert_eq!(cap.app_id, app);
    assert_eq!(cap.emails, ["reader@example.com"]);
    assert!(cap.expires_at.is_some());
    let elsewhere = NewCapToken {
        app_id: "app_nope".into(),
        ..request
    };
    let e = m.cap_tokens().create(&elsewhere).await.unwrap_err();
    assert_eq!(api_error(&e).0, 404);
}
