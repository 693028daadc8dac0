//! Two `sigil-server` processes on one PostgreSQL database behave as one
//! server: a revocation on one node is refused on the other (the delay is
//! printed), refresh-token reuse across nodes revokes the family, both
//! nodes append to one valid audit chain, each webhook event is delivered
//! once, a `kill -9` of one node during load loses no acknowledged
//! write or webhook event while the other keeps serving, a moderation or
//! plan change on one node holds on the other, and a node whose listener
//! lost the database reloads what it missed.
//!
//! Runs only when `SIGIL_TEST_POSTGRES` names a server
//! (scripts/test-postgres.sh); on SQLite there is one node by design.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::{expect_2xx, BinServer, Http, TempDir};

/// The same issuer on both nodes, as behind one public URL; rate limits
/// (per node) out of the way of the load runs.
const ENV: [(&str, &str); 8] = [
    ("SIGIL_ISSUER", "http://nodes.sigil.test"),
    ("SIGIL_TEST_MODE", "true"),
    ("SIGIL_LOG", "warn"),
    ("SIGIL_KEY_RATE", "1000000"),
    ("SIGIL_KEY_BURST", "1000000"),
    ("SIGIL_IP_RATE", "1000000"),
    ("SIGIL_IP_BURST", "1000000"),
    ("SIGIL_PLAN_MAX_AGENTS", "1000000"),
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
    let key = common::create_key_cli(&database, "nodes@example.com", &[], &ENV, Some(&log));
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

/// POSTs `body` (or nothing) to `path` with `key`; the answer's `data`,
/// after checking it is a 2xx.
async fn post(http: &Http, key: &str, path: &str, body: Option<Value>) -> Value {
    let (status, answer, _) = http.call("POST", path, Some(key), body).await;
    expect_2xx(path, status, &answer);
    answer["data"].clone()
}

/// `data[field]` as a string.
fn text(data: &Value, field: &str) -> String {
    data[field].as_str().unwrap().to_owned()
}

async fn new_key(http: &Http, key: &str, name: &str) -> (String, String) {
    let data = post(
        http,
        key,
        "/v1/api-keys",
        Some(json!({"name": name, "preset": "read"})),
    )
    .await;
    (text(&data, "id"), text(&data, "key"))
}

/// A confidential app with `scopes`: (client id, client secret).
async fn app(http: &Http, key: &str, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": "app", "redirectUris": ["https://app.example/cb"], "scopes": scopes});
    let data = post(http, key, "/v1/apps", Some(body)).await;
    (text(&data, "clientId"), text(&data, "clientSecret"))
}

/// An agent and a policy letting it hold `agents.read`: (id, agent key).
async fn agent(http: &Http, key: &str) -> (String, String) {
    let rules = json!([{"effect": "allow", "match": {"scopes": ["agents.read"]}}]);
    post(
        http,
        key,
        "/v1/policies",
        Some(json!({"name": "allow", "rules": rules})),
    )
    .await;
    let data = post(http, key, "/v1/agents", Some(json!({"name": "worker"}))).await;
    (text(&data, "id"), text(&data, "agentKey"))
}

async fn agent_token(http: &Http, key: &str, agent: &str) -> (String, String) {
    let body = json!({"agent_id": agent, "scope": ["agents.read"], "ttl": 600});
    let data = post(http, key, "/v1/tokens", Some(body)).await;
    (text(&data, "token"), text(&data, "jti"))
}

/// An in-process server state on `database`, to seed what only a browser
/// flow would otherwise make (a signed-in user, a refresh token).
async fn seeder(database: &str) -> sigil_server::AppState {
    sigil_server::AppState::new(sigil_server::Config {
        database: database.to_owned(),
        ..sigil_server::Config::for_tests()
    })
    .await
    .unwrap()
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
    post(a, &n.key, &format!("/v1/api-keys/{id}/revoke"), None).await;
    let key_delay = until_refused("API key", || async {
        b.call("GET", "/v1/api-keys", Some(&secret), None).await.0 == 401
    })
    .await;

    // An OAuth access token introspected on node B, revoked on node A.
    let client = app(a, &n.key, &["identity.read"]).await;
    let basic = Some((client.0.as_str(), client.1.as_str()));
    let access = a.client_credentials(basic).await;
    let active = |node: &Http| {
        let node = node.clone();
        let access = access.clone();
        let client = client.clone();
        async move {
            let (status, body, _) = node
                .form(
                    "/oauth/introspect",
                    Some((&client.0, &client.1)),
                    &[("token", &access)],
                )
                .await;
            expect_2xx("introspect", status, &body);
            body["active"] == true
        }
    };
    assert!(active(b).await);
    let (status, body, _) = a.form("/oauth/revoke", basic, &[("token", &access)]).await;
    expect_2xx("revoke access token", status, &body);
    let access_delay = until_refused("access token (introspection)", || {
        let still = active(b);
        async move { !still.await }
    })
    .await;

    // An agent token verified by node B from memory, revoked on node A.
    let (agent, _) = agent(a, &n.key).await;
    let (token, jti) = agent_token(a, &n.key, &agent).await;
    assert!(verifies(b, &token).await);
    post(a, &n.key, &format!("/v1/tokens/{jti}/revoke"), None).await;
    let token_delay = until_refused("agent token (tokens/verify)", || async {
        !verifies(b, &token).await
    })
    .await;

    // A paused agent's other tokens, likewise.
    let (token, _) = agent_token(b, &n.key, &agent).await;
    assert!(verifies(a, &token).await);
    post(b, &n.key, &format!("/v1/agents/{agent}/pause"), None).await;
    let agent_delay = until_refused("paused agent", || async { !verifies(a, &token).await }).await;

    for delay in [key_delay, access_delay, token_delay, agent_delay] {
        assert!(delay < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn refresh_token_reuse_across_nodes_revokes_the_family() {
    let Some(n) = two_nodes("nodes-refresh").await else {
        return;
    };
    // A confidential app, and a refresh token minted as a sign-in would.
    let client = app(&n.a.http, &n.key, &["identity.read"]).await;
    let seeder = seeder(&n.database).await;
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
    let data = post(
        http,
        key,
        "/v1/webhooks",
        Some(json!({"url": url, "events": events})),
    )
    .await;
    let verifier = Arc::new(sigil::Webhook::new(&[text(&data, "secret")]).unwrap());
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

/// POSTs `body` to `path` on `base`; the answer's `data`, or `None` when
/// the node refused or is gone. Not `Http::call`, which panics when the node
/// it calls is gone: a refused request is just not acknowledged.
async fn acknowledged(base: &str, path: &str, key: &str, body: Value) -> Option<Value> {
    let req = http::Request::post(format!("{base}{path}"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.to_string().into_bytes())
        .unwrap();
    let (status, answer, _) = common::try_send(req).await?;
    (200..300).contains(&status).then(|| answer["data"].clone())
}

/// Sends `count` requests `request(i)` = (path, body), alternating nodes,
/// `parallel` at a time; returns the `data[field]` of each acknowledged one.
async fn load(
    nodes: &[Http],
    key: &str,
    count: usize,
    parallel: usize,
    field: &'static str,
    request: impl Fn(usize) -> (&'static str, Value),
) -> Vec<String> {
    let mut done = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let base = nodes[i % nodes.len()].base.clone();
        let key = key.to_owned();
        let (path, body) = request(i);
        tasks.spawn(async move {
            let data = acknowledged(&base, path, &key, body).await?;
            data[field].as_str().map(str::to_owned)
        });
        if tasks.len() >= parallel {
            if let Some(Ok(Some(id))) = tasks.join_next().await {
                done.push(id);
            }
        }
    }
    while let Some(finished) = tasks.join_next().await {
        if let Ok(Some(id)) = finished {
            done.push(id);
        }
    }
    done
}

/// Creates `count` keys across `nodes`; the ids of those acknowledged.
async fn key_load(nodes: &[Http], key: &str, count: usize, parallel: usize) -> Vec<String> {
    load(nodes, key, count, parallel, "id", |i| {
        (
            "/v1/api-keys",
            json!({"name": format!("load-{i}"), "preset": "read"}),
        )
    })
    .await
}

/// The `subject` of every audit entry of type `kind` that `key` may read.
async fn audit_subjects(http: &Http, key: &str, kind: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/audit?limit=500&type={kind}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, body, _) = http.call("GET", &path, Some(key), None).await;
        expect_2xx("audit list", status, &body);
        for entry in body["data"].as_array().unwrap() {
            if let Some(subject) = entry["subject"].as_str() {
                out.insert(subject.to_owned());
            }
        }
        match body["meta"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn listed_keys(http: &Http, key: &str) -> BTreeSet<String> {
    let (status, body, _) = http.call("GET", "/v1/api-keys", Some(key), None).await;
    expect_2xx("list keys", status, &body);
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn audit_valid(http: &Http, key: &str) -> Value {
    let (status, body, _) = http.call("GET", "/v1/audit/verify", Some(key), None).await;
    expect_2xx("audit verify", status, &body);
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
    let (agent, _) = agent(&n.b.http, &n.key).await;
    let nodes = [n.a.http.clone(), n.b.http.clone()];
    let keys = tokio::spawn({
        let (nodes, key) = (nodes.clone(), n.key.clone());
        async move { key_load(&nodes, &key, 600, 32).await }
    });
    // Agent tokens too: their audit entries are queued after the response.
    let tokens = tokio::spawn({
        let (nodes, key) = (nodes.clone(), n.key.clone());
        async move {
            load(&nodes, &key, 600, 16, "jti", move |_| {
                (
                    "/v1/tokens",
                    json!({"agent_id": agent, "scope": ["agents.read"], "ttl": 600}),
                )
            })
            .await
        }
    });
    let apps = tokio::spawn({
        let (nodes, key) = (nodes.clone(), n.key.clone());
        async move {
            load(&nodes, &key, 200, 8, "clientId", |i| {
                let body = json!({"name": format!("app-{i}"), "redirectUris": ["https://app.example/cb"],
                                  "scopes": ["identity.read"]});
                ("/v1/apps", body)
            })
            .await
        }
    });
    let agents = tokio::spawn({
        let (nodes, key) = (nodes.clone(), n.key.clone());
        async move {
            load(&nodes, &key, 200, 8, "id", |i| {
                ("/v1/agents", json!({"name": format!("agent-{i}")}))
            })
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    n.a.kill();
    let acknowledged = keys.await.unwrap();
    let issued = tokens.await.unwrap();
    let (apps, agents) = (apps.await.unwrap(), agents.await.unwrap());
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
    // Every acknowledged app and agent is there.
    for (kind, ids) in [("apps", &apps), ("agents", &agents)] {
        for id in ids {
            let (status, body, _) =
                n.b.http
                    .call("GET", &format!("/v1/{kind}/{id}"), Some(&n.key), None)
                    .await;
            expect_2xx("read an acknowledged app or agent", status, &body);
        }
    }
    // Every acknowledged agent token's row is there: node B can revoke it.
    for jti in &issued {
        let (status, body, _) =
            n.b.http
                .call(
                    "POST",
                    &format!("/v1/tokens/{jti}/revoke"),
                    Some(&n.key),
                    None,
                )
                .await;
        expect_2xx("revoke an acknowledged token", status, &body);
    }
    figure(format!(
        "kill -9 under load: {} apps, {} agents and {} agent tokens acknowledged, all there",
        apps.len(),
        agents.len(),
        issued.len()
    ));
    // Issuance audit entries are written after the response by design: the
    // ones node A had queued died with it. Reported, not asserted.
    let audited = audit_subjects(&n.b.http, &n.key, "token.issued").await;
    let unaudited = issued.iter().filter(|jti| !audited.contains(*jti)).count();
    figure(format!(
        "kill -9 under load: {unaudited} of {} acknowledged agent-token issuances have no audit entry (queued after the response)",
        issued.len()
    ));

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

/// A `POST /v1/tokens` for `agent`, signed with its key for the shared
/// issuer's URL (RFC 9421, with `nonce`), to be sent to `node`.
fn signed_issuance(
    node: &Http,
    agent: &str,
    agent_key: &str,
    nonce: &str,
) -> http::Request<Vec<u8>> {
    use base64::Engine as _;
    let seed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(agent_key.strip_prefix("sgl_ask_").unwrap())
        .unwrap();
    let key = sigil::httpsig::SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &seed.try_into().unwrap(),
    ));
    let body = json!({"agent_id": agent, "scope": ["agents.read"], "ttl": 60});
    let mut req = http::Request::post(format!("{}/v1/tokens", ENV[0].1))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut params =
        sigil::httpsig::SignParams::new(agent, ["@method", "@target-uri", "content-digest"], now);
    params.expires = Some(now + 60);
    params.nonce = Some(nonce.to_owned());
    sigil::httpsig::sign_request(&mut req, &key, &params).unwrap();
    *req.uri_mut() = format!("{}/v1/tokens", node.base).parse().unwrap();
    req
}

#[tokio::test]
async fn a_nonce_used_on_one_node_is_a_replay_on_the_other() {
    let Some(n) = two_nodes("nodes-nonce").await else {
        return;
    };
    let (agent, agent_key) = agent(&n.a.http, &n.key).await;

    // Used on A, replayed on B.
    let nonce = sigil_server::crypto::random_base62(16);
    let (status, body, _) =
        common::send(signed_issuance(&n.a.http, &agent, &agent_key, &nonce)).await;
    expect_2xx("signed issuance", status, &body);
    let (status, body, _) =
        common::send(signed_issuance(&n.b.http, &agent, &agent_key, &nonce)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("replayed_nonce")),
        "{body}"
    );

    // Sent to both nodes at once: one issues, the other refuses.
    for _ in 0..5 {
        let nonce = sigil_server::crypto::random_base62(16);
        let (on_a, on_b) = tokio::join!(
            common::send(signed_issuance(&n.a.http, &agent, &agent_key, &nonce)),
            common::send(signed_issuance(&n.b.http, &agent, &agent_key, &nonce))
        );
        let mut statuses = [on_a.0, on_b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 401], "{} / {}", on_a.1, on_b.1);
    }
}

/// `POST /app/v1/messages` with an `Idempotency-Key`: (status, body,
/// whether it was a replay).
async fn message(node: &Http, token: &str, key: &str, body: &Value) -> (u16, Value, bool) {
    let req = http::Request::post(format!("{}/app/v1/messages", node.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_string().into_bytes())
        .unwrap();
    let (status, answer, headers) = common::send(req).await;
    (status, answer, headers.contains_key("idempotent-replayed"))
}

#[tokio::test]
async fn an_idempotency_key_holds_across_nodes() {
    let Some(n) = two_nodes("nodes-idempotency").await else {
        return;
    };
    let (client_id, client_secret) =
        app(&n.a.http, &n.key, &["identity.read", "messages.send"]).await;
    // A user who signed in to the app, as the code flow would record it.
    let seeder = seeder(&n.database).await;
    let user = sigil_server::seed::user(&seeder, "reader@example.com")
        .await
        .unwrap();
    let now = seeder.clock.now();
    let sub = sigil_server::crypto::pairwise_sub(&seeder.pairwise_secret, &client_id, &user.id);
    seeder
        .store
        .remember_subject(&client_id, &sub, &user.id, now)
        .await
        .unwrap();
    seeder
        .store
        .record_consent(&user.id, &client_id, &["identity.read".to_owned()], now)
        .await
        .unwrap();
    let (status, token, _) =
        n.a.http
            .form(
                "/oauth/token",
                Some((&client_id, &client_secret)),
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "messages.send"),
                ],
            )
            .await;
    expect_2xx("app token", status, &token);
    let token = token["access_token"].as_str().unwrap().to_owned();
    let body = json!({"to": sub, "subject": "Hi", "body": "hello"});

    // Sent on A, replayed on B.
    let (status, first, replayed) = message(&n.a.http, &token, "k1", &body).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, again, replayed) = message(&n.b.http, &token, "k1", &body).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again, first);

    // Sent to both at once: one message, the same answer twice.
    for round in 0..5 {
        let key = format!("race-{round}");
        let (on_a, on_b) = tokio::join!(
            message(&n.a.http, &token, &key, &body),
            message(&n.b.http, &token, &key, &body)
        );
        assert_eq!((on_a.0, on_b.0), (201, 201), "{} / {}", on_a.1, on_b.1);
        assert_eq!(on_a.1, on_b.1, "one message, one answer");
        assert!(on_a.2 != on_b.2, "exactly one of them is the replay");
    }
}

#[tokio::test]
async fn nodes_due_to_rotate_together_rotate_once() {
    let Some(database) = common::fresh_postgres() else {
        eprintln!("skipped: SIGIL_TEST_POSTGRES is not set");
        return;
    };
    // Started together on an empty database: one first key, not two.
    let (a, b) = tokio::join!(seeder(&database), seeder(&database));
    assert_eq!(a.keys.current().kid(), b.keys.current().kid());
    assert_eq!(a.store.signing_keys().await.unwrap().len(), 1);

    let (later, max_age) = (a.clock.now() + 31 * 86_400, 30 * 86_400);
    let (on_a, on_b) = tokio::join!(
        a.keys.rotate_if_older(a.store.as_ref(), later, max_age),
        b.keys.rotate_if_older(b.store.as_ref(), later, max_age)
    );
    let mut rotated = [on_a.unwrap(), on_b.unwrap()];
    rotated.sort_unstable();
    assert_eq!(rotated, [false, true], "exactly one node rotated");
    assert_eq!(a.store.signing_keys().await.unwrap().len(), 2);
    assert_eq!(a.keys.current().kid(), b.keys.current().kid());
}

#[tokio::test]
async fn a_node_whose_listener_lost_its_connection_reloads_what_it_missed() {
    let Some(n) = two_nodes("nodes-listener").await else {
        return;
    };
    let (a, b) = (&n.a.http, &n.b.http);
    let (id, secret) = new_key(a, &n.key, "cached").await;
    let (status, _, _) = b.call("GET", "/v1/api-keys", Some(&secret), None).await;
    assert_eq!(status, 200, "node B caches the key");

    // Cut every listener's connection (waiting until each backend has gone,
    // so no NOTIFY can still reach it), then revoke at once: the NOTIFY
    // reaches no node (a listener waits half a second before reconnecting).
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&std::env::var("SIGIL_TEST_POSTGRES").unwrap())
        .await
        .unwrap();
    // This test's own nodes only (their connections carry the schema's name):
    // the suite's other tests share the cluster.
    let schema = n.database.rsplit("application_name=").next().unwrap();
    let cutting = Instant::now();
    let cut: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) AS gone \
         FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND application_name = $1) AS cut \
         WHERE gone",
    )
    .bind(schema)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(cut, 2, "both nodes' listeners were cut");
    post(a, &n.key, &format!("/v1/api-keys/{id}/revoke"), None).await;

    // Node B heard nothing; reconnecting, it reloads everything.
    until_refused("API key, revoked while the listener was cut", || async {
        b.call("GET", "/v1/api-keys", Some(&secret), None).await.0 == 401
    })
    .await;
    // A listener reconnects half a second after it lost the database, so an
    // earlier refusal came from elsewhere and proved nothing. (Other tests'
    // notifications on the shared database used to empty node B's cache.)
    let since_cut = cutting.elapsed();
    assert!(
        since_cut >= Duration::from_millis(500),
        "refused {} ms after the cut, before the listener could reconnect",
        since_cut.as_millis()
    );
}

#[tokio::test]
async fn moderation_and_plan_changes_on_one_node_hold_on_the_other() {
    let Some(n) = two_nodes("nodes-trust").await else {
        return;
    };
    let (a, b) = (&n.a.http, &n.b.http);
    let ops = common::create_key_cli(&n.database, "ops@example.com", &["--operator"], &ENV, None);
    let owner = sigil_server::seed::user(&seeder(&n.database).await, "nodes@example.com")
        .await
        .unwrap()
        .id;
    let admin_put = |path: String, body: Value| {
        let ops = ops.clone();
        async move {
            let (status, answer, _) = a.call("PUT", &path, Some(&ops), Some(body)).await;
            expect_2xx(&path, status, &answer);
        }
    };
    let exchange = || async {
        let body = json!({ "apiKey": n.key });
        b.call("POST", "/auth/token/exchange", None, Some(body))
            .await
            .0
    };

    // Node B reads (and caches) the owner's moderation state, then node A
    // disables the account: node B stops issuing tokens, and starts again
    // once node A lifts it.
    assert_eq!(exchange().await, 200);
    let moderation = format!("/v1/admin/users/{owner}/moderation");
    admin_put(
        moderation.clone(),
        json!({ "state": "disabled", "reason": "abuse" }),
    )
    .await;
    until_refused("disabled account (API-key exchange)", || async {
        exchange().await == 403
    })
    .await;
    admin_put(moderation, json!({ "state": "clean", "reason": "appeal" })).await;
    until_refused(
        "re-enabled account (API-key exchange succeeds again)",
        || async { exchange().await == 200 },
    )
    .await;

    // Node B reads (and caches) the plan creating an agent; node A lowers the
    // plan to the one agent there is: node B refuses the next with 402.
    let create = || async {
        let body = json!({ "name": "worker" });
        b.call("POST", "/v1/agents", Some(&n.key), Some(body))
            .await
            .0
    };
    assert_eq!(create().await, 201);
    let plan = json!({ "plan": "tiny", "maxAgents": 1, "maxTokensPerMonth": 1000 });
    admin_put(format!("/v1/admin/accounts/{owner}/plan"), plan).await;
    until_refused("lowered plan (agent creation is 402)", || async {
        create().await == 402
    })
    .await;
}
