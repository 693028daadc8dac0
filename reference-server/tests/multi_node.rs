//! Two `sigil-server` processes on one PostgreSQL database behave as one
//! server: a revocation on one node is refused on the other (the delay is
//! printed), refresh-token reuse across nodes revokes the family, both
//! nodes append to one valid audit chain, each webhook event is delivered
//! once, and a `kill -9` of one node during load loses no acknowledged
//! write or webhook event while the other keeps serving.
//!
//! Runs only when `SIGIL_TEST_POSTGRES` names a server
//! (scripts/test-postgres.sh); on SQLite there is one node by design.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{BinServer, Http, TempDir};

/// The same issuer on both nodes, as behind one public URL.
const ENV: [(&str, &str); 3] = [
    ("SIGIL_ISSUER", "http://nodes.sigil.test"),
    ("SIGIL_TEST_MODE", "true"),
    ("SIGIL_LOG", "warn"),
];

struct Nodes {
    _dir: TempDir,
    database: String,
    key: String,
    a: BinServer,
    b: BinServer,
}

/// Two nodes on a fresh schema, and a `full` key; `None` without PostgreSQL.
async fn two_nodes(tag: &str) -> Option<Nodes> {
    if std::env::var("SIGIL_TEST_POSTGRES").is_err() {
        eprintln!("skipped: SIGIL_TEST_POSTGRES is not set (scripts/test-postgres.sh sets it)");
        return None;
    }
    let dir = TempDir::new(tag);
    let database = dir.database_url();
    let log = dir.0.join("nodes.log");
    let key = common::create_key_cli(&database, "nodes@example.com", "full", &ENV, Some(&log));
    let a = BinServer::start(&database, &ENV, Some(&log)).await;
    let b = BinServer::start(&database, &ENV, Some(&log)).await;
    Some(Nodes {
        _dir: dir,
        database,
        key,
        a,
        b,
    })
}

/// Prints a measured figure, and appends it to `SIGIL_TEST_FIGURES` (which
/// scripts/test-postgres.sh prints, since cargo hides a passing test's output).
fn figure(line: String) {
    println!("{line}");
    if let Ok(path) = std::env::var("SIGIL_TEST_FIGURES") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "  {line}").unwrap();
    }
}

fn ok(what: &str, status: u16, body: &Value) {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
}

/// Polls `refused` every 10 ms until it holds, bounded at 10 s; the delay.
async fn until_refused<F, Fut>(what: &str, mut refused: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if refused().await {
            let delay = start.elapsed();
            figure(format!(
                "cross-node revocation delay, {what}: {} ms",
                delay.as_millis()
            ));
            return delay;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: the other node still accepts it after 10 s");
}

async fn new_key(http: &Http, key: &str, name: &str) -> (String, String) {
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/api-keys",
            Some(key),
            Some(json!({"name": name, "preset": "read"})),
        )
        .await;
    ok("create key", status, &body);
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["key"].as_str().unwrap().to_owned(),
    )
}

/// An agent and a policy letting it hold `agents.read`.
async fn agent(http: &Http, key: &str) -> String {
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/policies",
            Some(key),
            Some(json!({"name": "allow", "rules": [{"effect": "allow", "match": {"scopes": ["agents.read"]}}]})),
        )
        .await;
    ok("create policy", status, &body);
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/agents",
            Some(key),
            Some(json!({"name": "worker"})),
        )
        .await;
    ok("create agent", status, &body);
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn agent_token(http: &Http, key: &str, agent: &str) -> (String, String) {
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/tokens",
            Some(key),
            Some(json!({"agent_id": agent, "scope": ["agents.read"], "ttl": 600})),
        )
        .await;
    ok("issue agent token", status, &body);
    (
        body["data"]["token"].as_str().unwrap().to_owned(),
        body["data"]["jti"].as_str().unwrap().to_owned(),
    )
}

async fn verifies(http: &Http, token: &str) -> bool {
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/tokens/verify",
            None,
            Some(json!({"token": token, "required_scope": "agents.read"})),
        )
        .await;
    assert!(status == 200 || status == 401, "{status} {body}");
    body["data"]["valid"] == true
}

#[tokio::test]
async fn a_revocation_on_one_node_is_refused_on_the_other() {
    let Some(n) = two_nodes("nodes-revoke").await else {
        return;
    };
    let (a, b) = (&n.a.http, &n.b.http);

    // Both nodes serve one JWKS.
    let (_, jwks_a, _) = a.call("GET", "/.well-known/jwks.json", None, None).await;
    let (_, jwks_b, _) = b.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks_a, jwks_b);
    assert_eq!(
        jwks_a["keys"].as_array().unwrap().len(),
        1,
        "one key, not one per node"
    );

    // An API key, cached by node B, revoked on node A.
    let (id, secret) = new_key(a, &n.key, "short-lived").await;
    let (status, _, _) = b.call("GET", "/v1/api-keys", Some(&secret), None).await;
    assert_eq!(status, 200);
    let (status, body, _) = a
        .call(
            "POST",
            &format!("/v1/api-keys/{id}/revoke"),
            Some(&n.key),
            None,
        )
        .await;
    ok("revoke key", status, &body);
    let key_delay = until_refused("API key", || async {
        b.call("GET", "/v1/api-keys", Some(&secret), None).await.0 == 401
    })
    .await;

    // An agent token verified by node B from memory, revoked on node A.
    let agent = agent(a, &n.key).await;
    let (token, jti) = agent_token(a, &n.key, &agent).await;
    assert!(verifies(b, &token).await);
    let (status, body, _) = a
        .call(
            "POST",
            &format!("/v1/tokens/{jti}/revoke"),
            Some(&n.key),
            None,
        )
        .await;
    ok("revoke token", status, &body);
    let token_delay = until_refused("agent token (tokens/verify)", || async {
        !verifies(b, &token).await
    })
    .await;

    // A paused agent's other tokens, likewise.
    let (token, _) = agent_token(b, &n.key, &agent).await;
    assert!(verifies(a, &token).await);
    let (status, body, _) = b
        .call(
            "POST",
            &format!("/v1/agents/{agent}/pause"),
            Some(&n.key),
            None,
        )
        .await;
    ok("pause agent", status, &body);
    let agent_delay = until_refused("paused agent", || async { !verifies(a, &token).await }).await;

    for delay in [key_delay, token_delay, agent_delay] {
        assert!(delay < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn refresh_token_reuse_across_nodes_revokes_the_family() {
    let Some(n) = two_nodes("nodes-refresh").await else {
        return;
    };
    // A confidential app, and a refresh token minted as a sign-in would.
    let (status, app, _) = n
        .a
        .http
        .call(
            "POST",
            "/v1/apps",
            Some(&n.key),
            Some(json!({"name": "web", "redirectUris": ["https://app.example/cb"], "scopes": ["identity.read"]})),
        )
        .await;
    ok("create app", status, &app);
    let client = (
        app["data"]["clientId"].as_str().unwrap().to_owned(),
        app["data"]["clientSecret"].as_str().unwrap().to_owned(),
    );
    let seeder = sigil_server::AppState::new(sigil_server::Config {
        database: n.database.clone(),
        ..sigil_server::Config::for_tests()
    })
    .await
    .unwrap();
    let user = sigil_server::seed::user(&seeder, "reader@example.com")
        .await
        .unwrap();
    for round in 0..5 {
        let refresh = sigil_server::tokens::refresh_token(
            &seeder,
            &format!("fam_{round}"),
            &client.0,
            Some(&user.id),
            "identity.read",
            &format!("sid_{round}"),
        )
        .await
        .unwrap();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        let basic = Some((client.0.as_str(), client.1.as_str()));
        let (on_a, on_b) = tokio::join!(
            n.a.http.form("/oauth/token", basic, &form),
            n.b.http.form("/oauth/token", basic, &form)
        );
        let results = [on_a, on_b];
        let winners: Vec<&Value> = results
            .iter()
            .filter(|(s, _, _)| *s == 200)
            .map(|(_, body, _)| body)
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one node rotates it"
        );
        let loser = results.iter().find(|(s, _, _)| *s != 200).unwrap();
        assert_eq!(
            (loser.0, loser.1["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // The reuse revoked the family: the winner's new token is dead too.
        let rotated = winners[0]["refresh_token"].as_str().unwrap();
        let form = [("grant_type", "refresh_token"), ("refresh_token", rotated)];
        for node in [&n.a.http, &n.b.http] {
            let (status, body, _) = node.form("/oauth/token", basic, &form).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{body}"
            );
        }
    }
}

/// What a [`counting_sink`] received: deliveries per `webhook-id`, and the
/// `keyId` of each event.
type Seen = Arc<Mutex<(HashMap<String, usize>, BTreeSet<String>)>>;

/// A receiver counting each verified event by `webhook-id`.
async fn counting_sink(http: &Http, key: &str, events: &[&str]) -> Seen {
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/webhooks",
            Some(key),
            Some(json!({"url": url, "events": events})),
        )
        .await;
    ok("create webhook", status, &body);
    let verifier =
        Arc::new(sigil::Webhook::new(&[body["data"]["secret"].as_str().unwrap()]).unwrap());
    let counts = seen.clone();
    let app =
        axum::Router::new().fallback(move |headers: http::HeaderMap, body: axum::body::Bytes| {
            let counts = counts.clone();
            let verified = verifier.verify(&headers, &body).is_ok();
            async move {
                if !verified {
                    return http::StatusCode::BAD_REQUEST;
                }
                let id = headers["webhook-id"].to_str().unwrap().to_owned();
                let event: Value = serde_json::from_slice(&body).unwrap();
                let mut counts = counts.lock().unwrap();
                *counts.0.entry(id).or_default() += 1;
                if let Some(key_id) = event["data"]["keyId"].as_str() {
                    counts.1.insert(key_id.to_owned());
                }
                http::StatusCode::NO_CONTENT
            }
        });
    tokio::spawn(async move { axum::serve(listener, app).await });
    seen
}

/// Waits, bounded by `within`, until every key of `ids` had its event.
async fn wait_for_events(seen: &Seen, ids: &[String], within: Duration) {
    let start = Instant::now();
    let missing = || {
        let seen = seen.lock().unwrap();
        ids.iter().filter(|id| !seen.1.contains(*id)).count()
    };
    while missing() > 0 && start.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates `count` keys, alternating nodes, `parallel` at a time; returns
/// the ids of those acknowledged (2xx) and whether each node answered.
async fn key_load(nodes: &[Http], key: &str, count: usize, parallel: usize) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let http = nodes[i % nodes.len()].clone();
        let key = key.to_owned();
        tasks.spawn(async move {
            // Built here rather than with `Http::call`, which panics when the
            // node it calls is gone: a refused request is just not acknowledged.
            let body = json!({"name": format!("load-{i}"), "preset": "read"}).to_string();
            let req = http::Request::post(format!("{}/v1/api-keys", http.base))
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(body.into_bytes())
                .unwrap();
            let res = sigil::Runtime::native()
                .with_retry(sigil::RetryPolicy::NONE)
                .transport
                .send(req)
                .await
                .ok()?;
            if !res.status().is_success() {
                return None;
            }
            let body: Value = serde_json::from_slice(res.body()).ok()?;
            body["data"]["id"].as_str().map(str::to_owned)
        });
        if tasks.len() >= parallel {
            if let Some(Ok(Some(id))) = tasks.join_next().await {
                acknowledged.push(id);
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(Some(id)) = done {
            acknowledged.push(id);
        }
    }
    acknowledged
}

async fn listed_keys(http: &Http, key: &str) -> BTreeSet<String> {
    let (status, body, _) = http.call("GET", "/v1/api-keys", Some(key), None).await;
    ok("list keys", status, &body);
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn audit_valid(http: &Http, key: &str) -> Value {
    let (status, body, _) = http.call("GET", "/v1/audit/verify", Some(key), None).await;
    ok("audit verify", status, &body);
    assert_eq!(body["data"]["valid"], true, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn two_nodes_keep_one_audit_chain_and_deliver_each_event_once() {
    let Some(n) = two_nodes("nodes-chain").await else {
        return;
    };
    let seen = counting_sink(&n.a.http, &n.key, &["key.created"]).await;
    let nodes = [n.a.http.clone(), n.b.http.clone()];
    let ids = key_load(&nodes, &n.key, 300, 32).await;
    assert_eq!(ids.len(), 300);

    for node in &nodes {
        let verdict = audit_valid(node, &n.key).await;
        assert!(verdict["entries"].as_i64().unwrap() >= 300, "{verdict}");
    }
    wait_for_events(&seen, &ids, Duration::from_secs(20)).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.0.len(), 300, "every key.created event arrived");
    let twice: Vec<_> = seen.0.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}

#[tokio::test]
async fn a_node_killed_under_load_loses_no_acknowledged_write() {
    let Some(mut n) = two_nodes("nodes-kill").await else {
        return;
    };
    let seen = counting_sink(&n.b.http, &n.key, &["key.created"]).await;
    let nodes = [n.a.http.clone(), n.b.http.clone()];
    let load = tokio::spawn({
        let key = n.key.clone();
        async move { key_load(&nodes, &key, 600, 32).await }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    n.a.kill();
    let acknowledged = load.await.unwrap();
    figure(format!(
        "kill -9 under load: {} of 600 key creations acknowledged",
        acknowledged.len()
    ));
    assert!(acknowledged.len() >= 300, "node B kept serving its half");

    // Node B still serves, and holds every acknowledged key.
    let (_, fresh) = new_key(&n.b.http, &n.key, "after-the-kill").await;
    let listed = listed_keys(&n.b.http, &fresh).await;
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !listed.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but gone: {lost:?}");
    audit_valid(&n.b.http, &n.key).await;

    // Each acknowledged key's event arrives (deliveries node A had claimed
    // are retried once their lease ends).
    wait_for_events(&seen, &acknowledged, Duration::from_secs(30)).await;
    let seen = seen.lock().unwrap();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !seen.1.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged, event never delivered: {lost:?}"
    );
    figure(format!(
        "kill -9 under load: {} key.created events delivered, none of the acknowledged lost",
        seen.0.len()
    ));
}
