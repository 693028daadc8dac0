//! Webhooks against the real server: registration, signed delivery of the
//! events actions emit, secret rotation, retries (500, 429 + Retry-After,
//! hang, reset), 410, the SSRF guard, deliveries and redelivery, delivery
//! across a `kill -9`, delivery throughput, and app-scoped endpoints
//! (`/app/v1/webhooks`): who receives what, and isolation between scopes.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sigil_server::Config;
use tokio::sync::mpsc;

/// One request a receiver got.
struct Hit {
    at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

impl Hit {
    fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_owned()
    }
}

type Answer = Arc<dyn Fn(usize) -> Response + Send + Sync>;

/// An HTTP receiver on 127.0.0.1 answering the n-th request (from 0) with
/// `answer(n)`; returns its URL and the stream of hits.
async fn receiver(answer: Answer) -> (String, mpsc::UnboundedReceiver<Hit>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let rx = serve_receiver(listener, answer);
    (url, rx)
}

fn serve_receiver(
    listener: tokio::net::TcpListener,
    answer: Answer,
) -> mpsc::UnboundedReceiver<Hit> {
    let (tx, rx) = mpsc::unbounded_channel();
    let count = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (tx, count, answer) = (tx.clone(), count.clone(), answer.clone());
        async move {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(Hit {
                at: Instant::now(),
                headers,
                body,
            });
            answer(n)
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    rx
}

fn ok() -> Answer {
    Arc::new(|_| StatusCode::NO_CONTENT.into_response())
}

async fn next_hit(rx: &mut mpsc::UnboundedReceiver<Hit>, within: Duration) -> Hit {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("no webhook arrived in time")
        .expect("receiver stopped")
}

async fn register(s: &common::TestServer, key: &str, url: &str, events: Value) -> (String, String) {
    register_in(s, "/v1", key, url, events).await
}

/// Registers an endpoint under `api` (`/v1` or `/app/v1`): (id, secret).
async fn register_in(
    s: &common::TestServer,
    api: &str,
    credential: &str,
    url: &str,
    events: Value,
) -> (String, String) {
    let (status, body, _) = s
        .call(
            "POST",
            &format!("{api}/webhooks"),
            Some(credential),
            Some(json!({ "url": url, "events": events })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["secret"].as_str().unwrap().to_owned(),
    )
}

/// Creates an API key (emits `key.created`); returns its id.
async fn make_key(s: &common::TestServer, key: &str, name: &str) -> String {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(key),
            Some(json!({ "name": name, "preset": "read" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn deliveries(s: &common::TestServer, key: &str, hook: &str) -> Vec<Value> {
    deliveries_in(s, "/v1", key, hook).await
}

async fn deliveries_in(
    s: &common::TestServer,
    api: &str,
    credential: &str,
    hook: &str,
) -> Vec<Value> {
    let (status, body, _) = s
        .call(
            "GET",
            &format!("{api}/webhooks/{hook}/deliveries"),
            Some(credential),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

/// Polls the deliveries until `done` holds (bounded).
async fn wait_deliveries(
    s: &common::TestServer,
    key: &str,
    hook: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let list = deliveries(s, key, hook).await;
        if done(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never settled: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn register_shows_the_secret_once() {
    let s = common::start().await;
    let (_, key) = s.account("wh-register@example.com").await;
    let (id, secret) = register(&s, &key, "http://127.0.0.1:9/x", json!(["key.created"])).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(sigil::Webhook::new(&[&secret]).is_ok());

    let (status, list, _) = s.call("GET", "/v1/webhooks", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"][0]["id"], id.as_str());
    let (status, one, _) = s
        .call("GET", &format!("/v1/webhooks/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["data"]["events"], json!(["key.created"]));
    for text in [list.to_string(), one.to_string()] {
        assert!(!text.contains("whsec_"), "a secret leaked: {text}");
        assert!(!text.contains("\"secret\""), "{text}");
    }

    // Unknown event types, bad URLs and missing scope are refused.
    for (body, want) in [
        (
            json!({ "url": "http://127.0.0.1:9/", "events": ["nope.happened"] }),
            422,
        ),
        (json!({ "url": "http://127.0.0.1:9/", "events": [] }), 422),
        (json!({ "url": "ftp://127.0.0.1/", "events": ["*"] }), 422),
        (json!({ "url": "not a url", "events": ["*"] }), 422),
        (
            json!({ "url": "http://u:p@127.0.0.1/", "events": ["*"] }),
            422,
        ),
        (json!({ "events": ["*"] }), 422),
    ] {
        let (status, res, _) = s
            .call("POST", "/v1/webhooks", Some(&key), Some(body.clone()))
            .await;
        assert_eq!(status, want, "{body} -> {res}");
        assert!(res["code"].is_string(), "{res}");
    }
    let (status, _, _) = s
        .call("GET", "/v1/webhooks/whk_nope", Some(&key), None)
        .await;
    assert_eq!(status, 404);
    // Another account does not see it.
    let (_, other) = s.account("wh-register-other@example.com").await;
    let (status, _, _) = s
        .call("GET", &format!("/v1/webhooks/{id}"), Some(&other), None)
        .await;
    assert_eq!(status, 404);

    let (status, _, _) = s
        .call("DELETE", &format!("/v1/webhooks/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = s
        .call("GET", &format!("/v1/webhooks/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_action_emits_a_signed_event() {
    let s = common::start().await;
    let (_, key) = s.account("wh-emit@example.com").await;
    let (url, mut rx) = receiver(ok()).await;
    let (_, secret) = register(&s, &key, &url, json!(["key.created"])).await;
    let created = make_key(&s, &key, "emitted").await;

    let hit = next_hit(&mut rx, Duration::from_secs(5)).await;
    let verified = sigil::Webhook::new(&[&secret])
        .unwrap()
        .verify(&hit.headers, &hit.body)
        .expect("the signature verifies with the registered secret");
    let event = verified.json().unwrap();
    assert_eq!(event["type"], "key.created");
    assert_eq!(event["data"]["keyId"], created.as_str());
    assert!(event["timestamp"].is_string());
    assert!(hit.id().starts_with("msg_"));
    assert_eq!(hit.headers["content-type"], "application/json");
    // A wrong secret does not verify.
    let wrong = sigil::webhook::generate_secret();
    assert!(sigil::Webhook::new(&[&wrong])
        .unwrap()
        .verify(&hit.headers, &hit.body)
        .is_err());
}

#[tokio::test]
async fn every_reachable_event_is_emitted_by_its_action() {
    let s = common::start().await;
    let (_, key) = s.account("wh-all@example.com").await;
    let (url, mut rx) = receiver(ok()).await;
    let (_, secret) = register(&s, &key, &url, json!(["*"])).await;

    let made = make_key(&s, &key, "k").await;
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/api-keys/{made}/revoke"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, pol, _) = s
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(json!({ "name": "no-messages", "rules": [{ "effect": "deny", "match": { "scopes": ["messages.send"] } }] })),
        )
        .await;
    assert_eq!(status, 201, "{pol}");
    let policy = pol["data"]["id"].as_str().unwrap().to_owned();
    let (status, agent, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({ "name": "bot" })),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    let agent = agent["data"]["id"].as_str().unwrap().to_owned();
    let (status, tok, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(&key),
            Some(json!({ "agent_id": agent, "scope": ["identity.read"] })),
        )
        .await;
    assert_eq!(status, 201, "{tok}");
    let jti = tok["data"]["jti"].as_str().unwrap().to_owned();
    let (status, denied, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(&key),
            Some(json!({ "agent_id": agent, "scope": ["messages.send"] })),
        )
        .await;
    assert_eq!(status, 403, "{denied}");
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/tokens/{jti}/revoke"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = s
        .call(
            "PATCH",
            &format!("/v1/policies/{policy}"),
            Some(&key),
            Some(json!({ "is_active": false })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{agent}/revoke"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (app, _) = s.confidential_app(&key, &["profile.basic"]).await;
    let (status, res, _) = s
        .call(
            "PATCH",
            &format!("/v1/apps/{app}"),
            Some(&key),
            Some(json!({ "scopes": ["profile.basic", "identity.read"] })),
        )
        .await;
    assert_eq!(status, 200, "{res}");

    let want = [
        "key.created",
        "key.revoked",
        "policy.created",
        "agent.created",
        "token.issued",
        "token.denied",
        "token.revoked",
        "policy.deactivated",
        "agent.revoked",
        "permission.changed",
    ];
    let verifier = sigil::Webhook::new(&[&secret]).unwrap();
    let mut got = Vec::new();
    while got.len() < want.len() {
        let hit = next_hit(&mut rx, Duration::from_secs(5)).await;
        let event = verifier
            .verify(&hit.headers, &hit.body)
            .unwrap()
            .json()
            .unwrap();
        got.push(event["type"].as_str().unwrap().to_owned());
        if event["type"] == "permission.changed" {
            assert_eq!(event["data"]["appId"], app.as_str());
        }
    }
    got.sort();
    let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_during_the_overlap() {
    let s = common::start().await;
    let (_, key) = s.account("wh-rotate@example.com").await;
    let (url, mut rx) = receiver(ok()).await;
    let (id, old) = register(&s, &key, &url, json!(["key.created"])).await;
    let (status, body, _) = s
        .call(
            "POST",
            &format!("/v1/webhooks/{id}/rotate"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let new = body["data"]["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    assert!(
        body["data"]["previousSecretExpiresAt"].is_string(),
        "{body}"
    );

    make_key(&s, &key, "after-rotation").await;
    let hit = next_hit(&mut rx, Duration::from_secs(5)).await;
    for secret in [&old, &new] {
        sigil::Webhook::new(&[secret])
            .unwrap()
            .verify(&hit.headers, &hit.body)
            .expect("each secret verifies alone during the overlap");
    }
    let signatures = hit.headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");

    // Past the overlap (server clock moved 2 days on), only the new one signs.
    let later = s.state.clock.now() + 2 * 86_400;
    let (status, _, _) = s
        .call("POST", "/_test/clock", None, Some(json!({ "set": later })))
        .await;
    assert_eq!(status, 200);
    make_key(&s, &key, "after-overlap").await;
    let hit = next_hit(&mut rx, Duration::from_secs(5)).await;
    let ts: i64 = hit.headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(sigil::Webhook::new(&[&new])
        .unwrap()
        .verify_at(&hit.headers, &hit.body, ts)
        .is_ok());
    assert!(sigil::Webhook::new(&[&old])
        .unwrap()
        .verify_at(&hit.headers, &hit.body, ts)
        .is_err());
}

#[tokio::test]
async fn a_500_is_retried_with_the_same_webhook_id() {
    let s = common::start().await;
    let (_, key) = s.account("wh-500@example.com").await;
    let answer: Answer = Arc::new(|n| {
        if n == 0 {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        } else {
            StatusCode::OK.into_response()
        }
    });
    let (url, mut rx) = receiver(answer).await;
    let (hook, secret) = register(&s, &key, &url, json!(["key.created"])).await;
    make_key(&s, &key, "retried").await;
    let first = next_hit(&mut rx, Duration::from_secs(5)).await;
    let second = next_hit(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(first.id(), second.id());
    assert_eq!(first.body, second.body);
    sigil::Webhook::new(&[&secret])
        .unwrap()
        .verify(&second.headers, &second.body)
        .unwrap();
    let list = wait_deliveries(&s, &key, &hook, Duration::from_secs(5), |l| {
        l[0]["status"] == "delivered"
    })
    .await;
    assert_eq!(list[0]["attempts"], 2);
    assert_eq!(list[0]["lastStatusCode"], 200);
    assert_eq!(list[0]["webhookId"], first.id().as_str());
}

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let s = common::start().await;
    let (_, key) = s.account("wh-429@example.com").await;
    let answer: Answer = Arc::new(|n| {
        if n == 0 {
            let mut res = StatusCode::TOO_MANY_REQUESTS.into_response();
            res.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            res
        } else {
            StatusCode::OK.into_response()
        }
    });
    let (url, mut rx) = receiver(answer).await;
    register(&s, &key, &url, json!(["key.created"])).await;
    make_key(&s, &key, "throttled").await;
    let first = next_hit(&mut rx, Duration::from_secs(5)).await;
    let second = next_hit(&mut rx, Duration::from_secs(5)).await;
    let gap = second.at - first.at;
    // The test-mode schedule alone would retry after 5 ms.
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    assert_eq!(first.id(), second.id());
}

#[tokio::test]
async fn a_410_disables_the_endpoint() {
    let s = common::start().await;
    let (_, key) = s.account("wh-410@example.com").await;
    let answer: Answer = Arc::new(|_| StatusCode::GONE.into_response());
    let (url, mut rx) = receiver(answer).await;
    let (hook, _) = register(&s, &key, &url, json!(["key.created"])).await;
    make_key(&s, &key, "gone").await;
    next_hit(&mut rx, Duration::from_secs(5)).await;
    let list = wait_deliveries(&s, &key, &hook, Duration::from_secs(5), |l| {
        l[0]["status"] == "stopped"
    })
    .await;
    assert_eq!(list[0]["lastStatusCode"], 410);
    // The outcome is written first, then the endpoint disabled (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, one, _) = s
            .call("GET", &format!("/v1/webhooks/{hook}"), Some(&key), None)
            .await;
        if one["data"]["status"] == "disabled" {
            break;
        }
        assert!(Instant::now() < deadline, "never disabled: {one}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Nothing more is sent or even queued to it.
    make_key(&s, &key, "after-gone").await;
    assert!(
        tokio::time::timeout(Duration::from_millis(500), rx.recv())
            .await
            .is_err(),
        "a disabled endpoint received a delivery"
    );
    assert_eq!(deliveries(&s, &key, &hook).await.len(), 1);
    // Redelivery to a disabled endpoint is refused.
    let dlv = list[0]["id"].as_str().unwrap();
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/webhooks/{hook}/deliveries/{dlv}/redeliver"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 409);
}

/// A TCP receiver that accepts and never answers; counts connections.
async fn hanging() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    (url, accepted)
}

/// A TCP receiver that resets every connection once it has read a little.
async fn resetting() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 64];
            let _ = conn.readable().await;
            let _ = conn.try_read(&mut buf);
            let _ = conn.set_zero_linger();
            drop(conn);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn hanging_and_resetting_receivers_do_not_hold_up_others() {
    let s = common::start().await;
    let (_, key) = s.account("wh-faults@example.com").await;
    let (hang_url, hang_count) = hanging().await;
    let (reset_url, reset_count) = resetting().await;
    let (ok_url, mut rx) = receiver(ok()).await;
    let (hang_hook, _) = register(&s, &key, &hang_url, json!(["*"])).await;
    let (reset_hook, _) = register(&s, &key, &reset_url, json!(["*"])).await;
    register(&s, &key, &ok_url, json!(["*"])).await;

    for i in 0..5 {
        let emitted = Instant::now();
        make_key(&s, &key, &format!("k{i}")).await;
        let hit = next_hit(&mut rx, Duration::from_millis(800)).await;
        assert!(hit.at - emitted < Duration::from_millis(800));
    }
    // Both faulty receivers are retried: the hang after the 1 s test-mode
    // timeout, the reset on the test-mode schedule.
    let deadline = Instant::now() + Duration::from_secs(10);
    while hang_count.load(Ordering::SeqCst) < 6 || reset_count.load(Ordering::SeqCst) < 10 {
        assert!(
            Instant::now() < deadline,
            "not retried: hang {} reset {}",
            hang_count.load(Ordering::SeqCst),
            reset_count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hang = wait_deliveries(&s, &key, &hang_hook, Duration::from_secs(5), |l| {
        l.iter().any(|d| d["lastError"] == "timed out")
    })
    .await;
    assert!(hang.iter().all(|d| d["status"] == "pending"), "{hang:?}");
    let reset = wait_deliveries(&s, &key, &reset_hook, Duration::from_secs(5), |l| {
        l.iter().all(|d| d["attempts"].as_i64() >= Some(2))
    })
    .await;
    assert!(
        reset
            .iter()
            .all(|d| d["status"] == "pending" && d["lastError"].is_string()),
        "{reset:?}"
    );
}

#[tokio::test]
async fn the_ssrf_guard_refuses_inward_targets_outside_dev_and_test_mode() {
    let s = common::start_with(Config {
        test_mode: false,
        dev: false,
        ..Config::for_tests()
    })
    .await;
    let (_, key) = s.account("wh-ssrf@example.com").await;
    for url in [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://192.168.0.10/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8080/",
    ] {
        let (status, body, _) = s
            .call(
                "POST",
                "/v1/webhooks",
                Some(&key),
                Some(json!({ "url": url, "events": ["*"] })),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["code"], "validation_failed");
    }
    // A public address literal is accepted (nothing is sent to it).
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/webhooks",
            Some(&key),
            Some(json!({ "url": "https://93.184.216.34/hook", "events": ["policy.created"] })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn deliveries_are_listed_and_can_be_redelivered() {
    let s = common::start().await;
    let (_, key) = s.account("wh-redeliver@example.com").await;
    let (url, mut rx) = receiver(ok()).await;
    let (hook, secret) = register(&s, &key, &url, json!(["key.created"])).await;
    make_key(&s, &key, "once").await;
    let first = next_hit(&mut rx, Duration::from_secs(5)).await;
    let list = wait_deliveries(&s, &key, &hook, Duration::from_secs(5), |l| {
        l.len() == 1 && l[0]["status"] == "delivered"
    })
    .await;
    let d = &list[0];
    assert_eq!(d["eventType"], "key.created");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["lastStatusCode"], 204);
    assert!(
        d["deliveredAt"].is_string() && d["nextAttemptAt"].is_null(),
        "{d}"
    );
    let dlv = d["id"].as_str().unwrap().to_owned();

    let (status, res, _) = s
        .call(
            "POST",
            &format!("/v1/webhooks/{hook}/deliveries/{dlv}/redeliver"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 202, "{res}");
    let again = next_hit(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(again.id(), first.id(), "the webhook-id is stable");
    assert_eq!(again.body, first.body);
    sigil::Webhook::new(&[&secret])
        .unwrap()
        .verify(&again.headers, &again.body)
        .unwrap();
    wait_deliveries(&s, &key, &hook, Duration::from_secs(5), |l| {
        l[0]["status"] == "delivered"
    })
    .await;

    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/webhooks/{hook}/deliveries/dlv_nope/redeliver"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = s
        .call(
            "GET",
            &format!("/v1/webhooks/{hook}/deliveries?limit=0"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn no_event_is_lost_across_a_kill_9() {
    let dir = common::TempDir::new("webhooks");
    let db = dir.database_url();
    let envs = [
        ("SIGIL_TEST_MODE", "true"),
        ("SIGIL_ISSUER", "http://sigil.webhooks.test"),
        ("SIGIL_WEBHOOK_RETRY_SCALE", "0.0001"),
    ];
    let key = common::create_key_cli(&db, "wh-kill@example.com", &[], &envs, None);
    // A port with nothing listening yet: every attempt before the restart fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");

    let mut first = common::BinServer::start(&db, &envs, None).await;
    let (status, body, _) = first
        .http
        .call(
            "POST",
            "/v1/webhooks",
            Some(&key),
            Some(json!({ "url": url, "events": ["key.created"] })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let hook = body["data"]["id"].as_str().unwrap().to_owned();
    let secret = body["data"]["secret"].as_str().unwrap().to_owned();
    let (status, _, _) = first
        .http
        .call(
            "POST",
            "/v1/api-keys",
            Some(&key),
            Some(json!({ "name": "before-kill", "preset": "read" })),
        )
        .await;
    assert_eq!(status, 201);
    let (_, list, _) = first
        .http
        .call(
            "GET",
            &format!("/v1/webhooks/{hook}/deliveries"),
            Some(&key),
            None,
        )
        .await;
    let webhook_id = list["data"][0]["webhookId"].as_str().unwrap().to_owned();
    first.kill();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let mut rx = serve_receiver(listener, ok());
    let second = common::BinServer::start(&db, &envs, None).await;
    let hit = next_hit(&mut rx, Duration::from_secs(20)).await;
    assert_eq!(hit.id(), webhook_id);
    let event = sigil::Webhook::new(&[&secret])
        .unwrap()
        .verify(&hit.headers, &hit.body)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(event["type"], "key.created");
    assert_eq!(event["data"]["name"], "before-kill");
    drop(second);
}

/// A receiver that takes `hold` to answer each request, and records the
/// most requests it had open at once.
async fn slow_receiver(hold: Duration) -> (String, Arc<AtomicUsize>, mpsc::UnboundedReceiver<Hit>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (tx, rx) = mpsc::unbounded_channel();
    let recorded = most.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (open, most, tx) = (open.clone(), most.clone(), tx.clone());
        async move {
            let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now_open, Ordering::SeqCst);
            tokio::time::sleep(hold).await;
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(Hit {
                at: Instant::now(),
                headers,
                body,
            });
            StatusCode::NO_CONTENT
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, recorded, rx)
}

#[tokio::test]
async fn an_endpoint_never_has_more_attempts_in_flight_than_its_limit() {
    const LIMIT: u32 = 4;
    const EVENTS: usize = 60;
    let s = common::start_with(Config {
        webhook_in_flight_per_endpoint: LIMIT,
        webhook_in_flight: 64,
        ..Config::for_tests()
    })
    .await;
    let (user, key) = s.account("wh-limit@example.com").await;
    let (url, most, mut rx) = slow_receiver(Duration::from_millis(40)).await;
    register(&s, &key, &url, json!(["key.created"])).await;
    // Emitted while the first attempts are still open, so that claims find
    // the endpoint partly busy.
    for i in 0..EVENTS {
        s.state
            .webhooks
            .emit(&user, "key.created", json!({ "n": i }))
            .await
            .unwrap();
        if i % 3 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let mut ids = std::collections::HashSet::new();
    while ids.len() < EVENTS {
        ids.insert(next_hit(&mut rx, Duration::from_secs(10)).await.id());
    }
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= LIMIT as usize,
        "{most} attempts open at once, limit {LIMIT}"
    );
    assert!(most > 1, "the limit is used, not only one at a time");
}

#[tokio::test]
async fn delivery_throughput_to_a_local_receiver() {
    const EVENTS: usize = 2000;
    let s = common::start().await;
    let (user, key) = s.account("wh-throughput@example.com").await;
    let (url, mut rx) = receiver(ok()).await;
    register(&s, &key, &url, json!(["key.created"])).await;
    let start = Instant::now();
    // Eight concurrent emitters, as concurrent requests would be.
    let emitters: Vec<_> = (0..8)
        .map(|t| {
            let (hooks, user) = (s.state.webhooks.clone(), user.clone());
            tokio::spawn(async move {
                for i in 0..EVENTS / 8 {
                    hooks
                        .emit(&user, "key.created", json!({ "t": t, "n": i }))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    while ids.len() < EVENTS {
        let hit = next_hit(&mut rx, Duration::from_secs(30)).await;
        ids.insert(hit.id());
    }
    let total = start.elapsed();
    for e in emitters {
        e.await.unwrap();
    }
    eprintln!(
        "webhook throughput: {EVENTS} events emitted and delivered in {total:.2?} \
         = {:.0} events/s end to end (in-memory SQLite, one local receiver)",
        EVENTS as f64 / total.as_secs_f64()
    );
}

// ---------------------------------------------------------------------------
// /app/v1/webhooks

const APP_SCOPES: &[&str] = &["messages.send", "webhooks.read", "webhooks.write"];

/// A confidential app of `key`'s account allowed `APP_SCOPES`, with a user
/// it knows as `slug`, and its `client_credentials` token for `scope`:
/// (app id, token).
async fn app_of(s: &common::TestServer, key: &str, slug: &str, scope: &str) -> (String, String) {
    let (app, secret) = s.confidential_app(key, APP_SCOPES).await;
    let user = sigil_server::seed::user(&s.state, &format!("{slug}@example.com"))
        .await
        .unwrap();
    s.state
        .store
        .remember_subject(&app, slug, &user.id, s.state.clock.now())
        .await
        .unwrap();
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((&app, &secret)),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (app, body["access_token"].as_str().unwrap().to_owned())
}

/// Sends a message to `slug` as the app (emits `message.delivered`).
async fn send_message(s: &common::TestServer, token: &str, slug: &str) -> String {
    let req = http::Request::post(format!("{}/app/v1/messages", s.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", sigil_server::crypto::random_base62(12))
        .body(json!({ "to": slug, "body": "hi" }).to_string().into_bytes())
        .unwrap();
    let (status, body, _) = s.raw(req).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

fn types(list: &[Value]) -> Vec<&str> {
    list.iter()
        .map(|d| d["eventType"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_apps_endpoints_receive_only_that_apps_events() {
    let s = common::start().await;
    let (_, key) = s.account("wh-apps@example.com").await;
    let all = "messages.send webhooks.read webhooks.write";
    let (app_a, token_a) = app_of(&s, &key, "alice", all).await;
    let (_, token_b) = app_of(&s, &key, "bob", all).await;
    let (url_acct, mut rx_acct) = receiver(ok()).await;
    let (url_a, mut rx_a) = receiver(ok()).await;
    let (url_b, _rx_b) = receiver(ok()).await;
    let (acct_hook, _) = register(&s, &key, &url_acct, json!(["*"])).await;
    let (hook_a, secret_a) = register_in(&s, "/app/v1", &token_a, &url_a, json!(["*"])).await;
    let (hook_b, _) = register_in(&s, "/app/v1", &token_b, &url_b, json!(["*"])).await;

    let msg_a = send_message(&s, &token_a, "alice").await;
    let hit = next_hit(&mut rx_a, Duration::from_secs(5)).await;
    let event = sigil::Webhook::new(&[&secret_a])
        .unwrap()
        .verify(&hit.headers, &hit.body)
        .expect("signed with the app endpoint's secret")
        .json()
        .unwrap();
    assert_eq!(event["type"], "message.delivered");
    assert_eq!(event["data"]["id"], msg_a.as_str());
    assert_eq!(event["data"]["appId"], app_a.as_str());
    let acct_hit = next_hit(&mut rx_acct, Duration::from_secs(5)).await;
    assert_eq!(acct_hit.id(), hit.id(), "one event, one webhook-id");

    send_message(&s, &token_b, "bob").await;
    // An account-only event (no app context).
    make_key(&s, &key, "account-only").await;
    // A change to A's scopes happens in A's context.
    let (status, body, _) = s
        .call(
            "PATCH",
            &format!("/v1/apps/{app_a}"),
            Some(&key),
            Some(json!({ "scopes": ["messages.send", "webhooks.read", "webhooks.write", "identity.read"] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The outbox rows are written before each response, so this is final.
    let acct = deliveries(&s, &key, &acct_hook).await;
    let mut got = types(&acct);
    got.sort_unstable();
    assert_eq!(
        got,
        [
            "key.created",
            "message.delivered",
            "message.delivered",
            "permission.changed"
        ]
    );
    let a = deliveries_in(&s, "/app/v1", &token_a, &hook_a).await;
    assert_eq!(
        types(&a),
        ["permission.changed", "message.delivered"],
        "not B's, not the account's"
    );
    let b = deliveries_in(&s, "/app/v1", &token_b, &hook_b).await;
    assert_eq!(types(&b), ["message.delivered"]);
    assert_ne!(a[1]["webhookId"], b[0]["webhookId"]);
}

#[tokio::test]
async fn app_and_account_endpoints_are_invisible_to_each_other() {
    let s = common::start().await;
    let (_, key) = s.account("wh-iso@example.com").await;
    let all = "webhooks.read webhooks.write";
    let (_, token_a) = app_of(&s, &key, "ann", all).await;
    let (_, token_b) = app_of(&s, &key, "ben", all).await;
    let (url, _rx) = receiver(ok()).await;
    let (acct_hook, _) = register(&s, &key, &url, json!(["*"])).await;
    let (hook_a, _) = register_in(&s, "/app/v1", &token_a, &url, json!(["*"])).await;
    let (hook_b, _) = register_in(&s, "/app/v1", &token_b, &url, json!(["*"])).await;

    let ids = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, body, _) = s.call("GET", "/v1/webhooks", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), [acct_hook.as_str()]);
    let (status, body, _) = s
        .call("GET", "/app/v1/webhooks", Some(&token_a), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), [hook_a.as_str()]);

    let cross = [
        ("/app/v1", token_a.as_str(), acct_hook.as_str()),
        ("/app/v1", token_a.as_str(), hook_b.as_str()),
        ("/v1", key.as_str(), hook_a.as_str()),
    ];
    for (api, cred, hook) in cross {
        for (method, path) in [
            ("GET", format!("{api}/webhooks/{hook}")),
            ("GET", format!("{api}/webhooks/{hook}/deliveries")),
            ("POST", format!("{api}/webhooks/{hook}/rotate")),
            (
                "POST",
                format!("{api}/webhooks/{hook}/deliveries/dlv_x/redeliver"),
            ),
            ("DELETE", format!("{api}/webhooks/{hook}")),
        ] {
            let (status, body, _) = s.call(method, &path, Some(cred), None).await;
            assert_eq!(
                (status, &body["code"]),
                (404, &json!("not_found")),
                "{method} {path}"
            );
        }
    }
    // Nothing was deleted by the refused calls.
    for (api, cred, hook) in [
        ("/v1", key.as_str(), &acct_hook),
        ("/app/v1", token_a.as_str(), &hook_a),
        ("/app/v1", token_b.as_str(), &hook_b),
    ] {
        let (status, _, _) = s
            .call("GET", &format!("{api}/webhooks/{hook}"), Some(cred), None)
            .await;
        assert_eq!(status, 200, "{api} {hook}");
    }
    // An API key is not an app token.
    let (status, body, _) = s.call("GET", "/app/v1/webhooks", Some(&key), None).await;
    assert_eq!((status, &body["code"]), (403, &json!("insufficient_scope")));
}

#[tokio::test]
async fn an_app_rotates_lists_redelivers_and_deletes_its_endpoints() {
    let s = common::start().await;
    let (_, key) = s.account("wh-app-ops@example.com").await;
    let (_, token) = app_of(
        &s,
        &key,
        "cleo",
        "messages.send webhooks.read webhooks.write",
    )
    .await;
    let (url, mut rx) = receiver(ok()).await;
    let (hook, old_secret) =
        register_in(&s, "/app/v1", &token, &url, json!(["message.delivered"])).await;
    send_message(&s, &token, "cleo").await;
    let first = next_hit(&mut rx, Duration::from_secs(5)).await;

    let (status, rotated, _) = s
        .call(
            "POST",
            &format!("/app/v1/webhooks/{hook}/rotate"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != old_secret);
    assert!(rotated["data"]["previousSecretExpiresAt"].is_string());
    let (_, read, _) = s
        .call(
            "GET",
            &format!("/app/v1/webhooks/{hook}"),
            Some(&token),
            None,
        )
        .await;
    assert!(read["data"].get("secret").is_none(), "shown once: {read}");

    let deadline = Instant::now() + Duration::from_secs(5);
    let list = loop {
        let list = deliveries_in(&s, "/app/v1", &token, &hook).await;
        if list[0]["status"] == "delivered" {
            break list;
        }
        assert!(Instant::now() < deadline, "never delivered: {list:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let dlv = list[0]["id"].as_str().unwrap();
    let (status, res, _) = s
        .call(
            "POST",
            &format!("/app/v1/webhooks/{hook}/deliveries/{dlv}/redeliver"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 202, "{res}");
    let again = next_hit(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(again.id(), first.id());
    for secret in [&old_secret, &new_secret] {
        sigil::Webhook::new(&[secret])
            .unwrap()
            .verify(&again.headers, &again.body)
            .expect("both secrets sign during the overlap");
    }

    let (status, _, _) = s
        .call(
            "DELETE",
            &format!("/app/v1/webhooks/{hook}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = s
        .call(
            "GET",
            &format!("/app/v1/webhooks/{hook}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn app_webhooks_need_their_scope_and_refuse_bad_input() {
    // Outside test mode, so the SSRF guard applies as on /v1.
    let s = common::start_with(Config {
        test_mode: false,
        dev: false,
        ..Config::for_tests()
    })
    .await;
    let (_, key) = s.account("wh-app-bad@example.com").await;
    let (_, send_only) = app_of(&s, &key, "dora", "messages.send").await;
    for (method, path) in [("POST", "/app/v1/webhooks"), ("GET", "/app/v1/webhooks")] {
        let body = (method == "POST")
            .then(|| json!({ "url": "https://93.184.216.34/h", "events": ["*"] }));
        let (status, res, _) = s.call(method, path, Some(&send_only), body).await;
        assert_eq!(
            (status, &res["code"]),
            (403, &json!("insufficient_scope")),
            "{method} {path}"
        );
    }
    let (status, _, headers) = s.call("GET", "/app/v1/webhooks", None, None).await;
    assert_eq!(status, 401);
    assert!(headers.contains_key("www-authenticate"));

    let (_, token) = app_of(&s, &key, "eve", "webhooks.read webhooks.write").await;
    let post = |body: &'static str| {
        http::Request::post(format!("{}/app/v1/webhooks", s.base))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    for (body, want) in [
        ("{", 400),
        ("[1,2]", 422),
        (
            r#"{"url":"https://93.184.216.34/h","events":["*"],"secret":"x"}"#,
            422,
        ),
        (r#"{"url":"https://93.184.216.34/h"}"#, 422),
        (r#"{"url":"https://93.184.216.34/h","events":[]}"#, 422),
        (
            r#"{"url":"https://93.184.216.34/h","events":["nope"]}"#,
            422,
        ),
        (r#"{"url":"ftp://93.184.216.34/h","events":["*"]}"#, 422),
        (r#"{"url":"not a url","events":["*"]}"#, 422),
        (r#"{"url":"http://127.0.0.1:9/h","events":["*"]}"#, 422),
        (r#"{"url":"http://169.254.169.254/","events":["*"]}"#, 422),
        (r#"{"url":42,"events":["*"]}"#, 422),
    ] {
        let (status, res, headers) = s.raw(post(body)).await;
        assert_eq!(status, want, "{body}: {res}");
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{body}"
        );
        assert!(res["code"].is_string(), "{body}: {res}");
    }
    let (hook, _) = register_in(
        &s,
        "/app/v1",
        &token,
        "https://93.184.216.34/hook",
        json!(["message.delivered"]),
    )
    .await;
    for q in ["?limit=0", "?limit=501", "?limit=x"] {
        let (status, res, _) = s
            .call(
                "GET",
                &format!("/app/v1/webhooks/{hook}/deliveries{q}"),
                Some(&token),
                None,
            )
            .await;
        assert!((400..500).contains(&status), "{q}: {status} {res}");
    }
}

/// On a file database (several connections), concurrent actions that each
/// write an outbox row, while the worker writes delivery results, never fail
/// with SQLITE_BUSY: every issuance succeeds and every event is delivered
/// once per endpoint.
#[tokio::test]
async fn concurrent_emits_on_a_file_database_all_succeed_and_deliver() {
    let dir = common::TempDir::new("webhooks-concurrent");
    let s = common::start_with(Config {
        database: dir.database_url(),
        ..Config::for_tests()
    })
    .await;
    let (_, key) = s.account("wh-concurrent@example.com").await;
    let (url, mut rx) = receiver(ok()).await;
    register(&s, &key, &url, json!(["token.issued"])).await;
    let (status, agent, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({ "name": "busy" })),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    let agent = agent["data"]["id"].as_str().unwrap().to_owned();

    const N: usize = 200;
    let http = s.http();
    let calls: Vec<_> = (0..N)
        .map(|_| {
            let (http, key, agent) = (http.clone(), key.clone(), agent.clone());
            tokio::spawn(async move {
                http.call(
                    "POST",
                    "/v1/tokens",
                    Some(&key),
                    Some(json!({ "agent_id": agent, "scope": ["agents.read"] })),
                )
                .await
            })
        })
        .collect();
    for call in calls {
        let (status, body, _) = call.await.unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let mut ids = std::collections::HashSet::new();
    while ids.len() < N {
        let hit = next_hit(&mut rx, Duration::from_secs(10)).await;
        ids.insert(hit.headers["webhook-id"].to_str().unwrap().to_owned());
    }
}
