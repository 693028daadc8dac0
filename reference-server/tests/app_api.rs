//! The app API (`/app/v1`) and capability tokens, against the real server:
//! per-app pairwise slugs that apps cannot correlate, idempotent messages
//! (also across a restart), scope enforcement per route, the AI chat proxy,
//! and capability-token previews.

mod browser;
mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use browser::{authorize_url, param, pkce, Browser};
use common::TestServer;
use serde_json::{json, Value};
use sigil_server::Config;

const CB: &str = "https://app.example/cb";
const ALL: &[&str] = &["identity.read", "profile.basic", "messages.send", "ai.chat"];

/// One claim of a JWS (no verification: the server checks it).
fn claim(jwt: &str, name: &str) -> String {
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims[name].as_str().unwrap().to_owned()
}

/// A user token for `app` through the browser's code flow: (token, sub).
async fn user_token(
    s: &TestServer,
    b: &Browser,
    app: &str,
    secret: &str,
    scope: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &s.base,
        &[
            ("response_type", "code"),
            ("client_id", app),
            ("redirect_uri", CB),
            ("scope", scope),
            ("state", "st"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = b.decide(&url, "approve").await;
    let code = param(&back, "code").unwrap();
    let (status, tokens, _) = s
        .form(
            "/oauth/token",
            Some((app, secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let at = tokens["access_token"].as_str().unwrap().to_owned();
    let sub = claim(&at, "sub");
    (at, sub)
}

/// A `client_credentials` token for `app` with `scope`.
async fn app_token(s: &TestServer, app: &str, secret: &str, scope: &str) -> String {
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((app, secret)),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A raw POST: (status, body bytes as text, headers).
async fn post_raw(
    base: &str,
    path: &str,
    token: Option<&str>,
    idempotency_key: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = idempotency_key {
        req = req.header("idempotency-key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

async fn message(
    base: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, String, reqwest::header::HeaderMap) {
    post_raw(
        base,
        "/app/v1/messages",
        Some(token),
        key,
        "application/json",
        &body.to_string(),
    )
    .await
}

fn code_of(text: &str) -> String {
    serde_json::from_str::<Value>(text).unwrap_or(Value::Null)["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn apps_get_different_slugs_and_cannot_look_up_each_others_users() {
    let s = common::start().await;
    let (_, key) = s.account("owner@example.com").await;
    let (a, a_secret) = s.confidential_app(&key, ALL).await;
    let (b_app, b_secret) = s.confidential_app(&key, ALL).await;
    let browser = Browser::signed_in(&s, "user@example.com").await;
    let (user_a, sub_a) = user_token(&s, &browser, &a, &a_secret, "identity.read").await;
    let (_, sub_b) = user_token(&s, &browser, &b_app, &b_secret, "identity.read").await;
    assert_ne!(sub_a, sub_b, "one user, two apps, two slugs");
    let global = s
        .state
        .store
        .user_by_email("user@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(!sub_a.contains(&global) && !sub_b.contains(&global));

    let tok_a = app_token(&s, &a, &a_secret, "identity.read").await;
    let tok_b = app_token(&s, &b_app, &b_secret, "identity.read").await;
    let lookup = |tok: String, user: String| {
        let s = &s;
        async move {
            s.call(
                "POST",
                "/app/v1/identity/lookup",
                Some(&tok),
                Some(json!({ "userId": user })),
            )
            .await
        }
    };
    let (status, body, _) = lookup(tok_a.clone(), sub_a.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["slug"], sub_a.as_str());
    assert!(!body.to_string().contains(&global), "{body}");
    assert!(
        body["data"].get("alias").is_none(),
        "no alias was set: {body}"
    );
    let (status, body, _) = lookup(tok_b.clone(), sub_b.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["slug"], sub_b.as_str());

    // Neither app can resolve the other's slug, nor the global id.
    for (tok, user) in [
        (&tok_a, &sub_b),
        (&tok_b, &sub_a),
        (&tok_a, &global),
        (&tok_b, &global),
    ] {
        let (status, body, _) = lookup(tok.clone(), user.clone()).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    }

    // The app's user token works on the app API as well.
    let (status, body, _) = lookup(user_a, sub_a.clone()).await;
    assert_eq!(status, 200, "{body}");
}

/// An app that can message a signed-in user: (app, secret, app token, slug).
async fn messaging_setup(s: &TestServer, email: &str) -> (String, String, String, String) {
    let (_, key) = s.account(&format!("owner-{email}")).await;
    let (app, secret) = s.confidential_app(&key, ALL).await;
    let browser = Browser::signed_in(s, email).await;
    let (_, slug) = user_token(s, &browser, &app, &secret, "identity.read").await;
    let token = app_token(s, &app, &secret, "messages.send").await;
    (app, secret, token, slug)
}

#[tokio::test]
async fn messages_are_idempotent_per_app() {
    let s = common::start().await;
    let (_, _, token, slug) = messaging_setup(&s, "msg@example.com").await;
    let body = json!({ "to": slug, "subject": "Hi", "body": "hello" });

    let (status, text, _) = message(&s.base, &token, None, &body).await;
    assert_eq!(
        (status, code_of(&text).as_str()),
        (400, "idempotency_key_required")
    );

    let (status, first, headers) = message(&s.base, &token, Some("k1"), &body).await;
    assert_eq!(status, 201, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    let parsed: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(parsed["data"]["status"], "delivered");
    assert!(parsed["data"]["id"].as_str().unwrap().starts_with("msg_"));

    // The same body with other key order and spacing is the same request.
    let reordered = format!("{{ \"body\": \"hello\",  \"subject\": \"Hi\", \"to\": \"{slug}\" }}");
    for raw in [body.to_string(), reordered] {
        let (status, again, headers) = post_raw(
            &s.base,
            "/app/v1/messages",
            Some(&token),
            Some("k1"),
            "application/json",
            &raw,
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(again, first, "a replay is byte-equal");
        assert_eq!(headers["idempotent-replayed"], "true");
    }

    let changed = json!({ "to": slug, "subject": "Hi", "body": "hello!" });
    let (status, text, _) = message(&s.base, &token, Some("k1"), &changed).await;
    assert_eq!(
        (status, code_of(&text).as_str()),
        (422, "idempotency_conflict")
    );
    // A different key sends a new message.
    let (status, other, _) = message(&s.base, &token, Some("k2"), &changed).await;
    assert_eq!(status, 201);
    assert_ne!(other, first);

    // Keys are per app: another app may use `k1` for its own message.
    let (_, _, token2, slug2) = messaging_setup(&s, "msg2@example.com").await;
    let (status, text, _) = message(
        &s.base,
        &token2,
        Some("k1"),
        &json!({ "to": slug2, "body": "hey" }),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    assert_ne!(text, first);
    // ...but not to the first app's user.
    let (status, text, _) = message(
        &s.base,
        &token2,
        Some("k3"),
        &json!({ "to": slug, "body": "hey" }),
    )
    .await;
    assert_eq!((status, code_of(&text).as_str()), (404, "not_found"));
}

#[tokio::test]
async fn identity_approved_and_message_delivered_reach_the_owners_webhooks() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                if let Ok(v) = serde_json::from_str(&body) {
                    sink.lock().unwrap().push(v);
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let s = common::start().await;
    let (_, key) = s.account("owner-hook@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/webhooks",
            Some(&key),
            Some(json!({ "url": hook, "events": ["message.delivered", "identity.approved"] })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (app, secret) = s.confidential_app(&key, ALL).await;
    let browser = Browser::signed_in(&s, "hooked@example.com").await;
    let (_, slug) = user_token(&s, &browser, &app, &secret, "identity.read").await;
    let user_id = s
        .state
        .store
        .user_by_email("hooked@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let token = app_token(&s, &app, &secret, "messages.send").await;
    let (status, text, _) = message(
        &s.base,
        &token,
        Some("hook-1"),
        &json!({ "to": slug, "body": "hi" }),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let id = serde_json::from_str::<Value>(&text).unwrap()["data"]["id"].clone();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = received.lock().unwrap().clone();
        let approved = got.iter().find(|e| e["type"] == "identity.approved");
        let delivered = got.iter().find(|e| e["type"] == "message.delivered");
        if let (Some(approved), Some(delivered)) = (approved, delivered) {
            // Consent: the app's slug for the user, never the global id.
            assert_eq!(approved["data"]["appId"], app.as_str());
            assert_eq!(approved["data"]["userId"], slug.as_str());
            assert_eq!(approved["data"]["scopes"], json!(["identity.read"]));
            assert!(!approved.to_string().contains(&user_id), "{approved}");
            assert_eq!(delivered["data"]["id"], id);
            assert_eq!(delivered["data"]["to"], slug.as_str());
            assert_eq!(delivered["data"]["appId"], app.as_str());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "missing events: {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn idempotent_replay_survives_a_restart() {
    let dir = common::TempDir::new("app-api-restart");
    let config = || Config {
        database: dir.database_url(),
        issuer: Some("http://sigil.app-api.test".into()),
        ..Config::for_tests()
    };
    let first = common::start_with(config()).await;
    let (app, secret, token, slug) = messaging_setup(&first, "restart@example.com").await;
    let body = json!({ "to": slug, "body": "persisted" });
    let (status, original, _) = message(&first.base, &token, Some("durable"), &body).await;
    assert_eq!(status, 201, "{original}");

    let second = common::start_with(config()).await;
    let token2 = app_token(&second, &app, &secret, "messages.send").await;
    let (status, again, headers) = message(&second.base, &token2, Some("durable"), &body).await;
    assert_eq!(status, 201);
    assert_eq!(again, original, "the first response, after a restart");
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, text, _) = message(
        &second.base,
        &token2,
        Some("durable"),
        &json!({ "to": slug, "body": "other" }),
    )
    .await;
    assert_eq!(
        (status, code_of(&text).as_str()),
        (422, "idempotency_conflict")
    );
}

#[tokio::test]
async fn each_route_enforces_its_scope() {
    let s = common::start().await;
    let (_, key) = s.account("scopes@example.com").await;
    let (app, secret) = s.confidential_app(&key, ALL).await;
    let browser = Browser::signed_in(&s, "scoped@example.com").await;
    let (user_tok, slug) = user_token(&s, &browser, &app, &secret, "identity.read").await;
    let routes: [(&str, &str, Value); 3] = [
        (
            "/app/v1/identity/lookup",
            "identity.read",
            json!({ "userId": slug }),
        ),
        (
            "/app/v1/messages",
            "messages.send",
            json!({ "to": slug, "body": "x" }),
        ),
        (
            "/app/v1/ai/chat",
            "ai.chat",
            json!({ "messages": [{ "role": "user", "content": "hi" }] }),
        ),
    ];
    for (path, scope, body) in &routes {
        for (other_path, other_scope, _) in &routes {
            let tok = app_token(&s, &app, &secret, other_scope).await;
            let (status, text, _) = post_raw(
                &s.base,
                path,
                Some(&tok),
                Some("scope-key"),
                "application/json",
                &body.to_string(),
            )
            .await;
            if other_path == path {
                assert_ne!(status, 403, "{path} with {scope}: {text}");
                // No AI upstream here: chat gets past the scope check to 503.
                assert!(
                    status < 500 || (*path == "/app/v1/ai/chat" && status == 503),
                    "{path}: {text}"
                );
            } else {
                assert_eq!(
                    (status, code_of(&text).as_str()),
                    (403, "insufficient_scope"),
                    "{path} with only {other_scope}"
                );
            }
        }
        // A user token with only identity.read.
        let (status, text, _) = post_raw(
            &s.base,
            path,
            Some(&user_tok),
            Some("scope-key-2"),
            "application/json",
            &body.to_string(),
        )
        .await;
        if *scope == "identity.read" {
            assert_eq!(status, 200, "{text}");
        } else {
            assert_eq!(status, 403, "{path} with a user token: {text}");
        }
        // API keys and first-party credentials are not app tokens.
        let (status, text, _) = post_raw(
            &s.base,
            path,
            Some(&key),
            Some("k"),
            "application/json",
            &body.to_string(),
        )
        .await;
        assert_eq!(
            (status, code_of(&text).as_str()),
            (403, "insufficient_scope")
        );
        let (status, text, _) =
            post_raw(&s.base, path, None, Some("k"), "application/json", "{}").await;
        assert_eq!(
            (status, code_of(&text).as_str()),
            (401, "missing_credentials")
        );
        let (status, text, _) = post_raw(
            &s.base,
            path,
            Some("not.a.jwt"),
            Some("k"),
            "application/json",
            "{}",
        )
        .await;
        assert_eq!((status, code_of(&text).as_str()), (401, "invalid_token"));
    }
}

async fn chat(s: &TestServer, token: &str, body: &str) -> (u16, String) {
    let (status, text, _) = post_raw(
        &s.base,
        "/app/v1/ai/chat",
        Some(token),
        None,
        "application/json",
        body,
    )
    .await;
    (status, text)
}

async fn chat_server(upstream: Option<String>) -> (TestServer, String) {
    let s = common::start_with(Config {
        ai_upstream_url: upstream,
        ..Config::for_tests()
    })
    .await;
    let (_, key) = s.account("chat@example.com").await;
    let (app, secret) = s.confidential_app(&key, ALL).await;
    let token = app_token(&s, &app, &secret, "ai.chat").await;
    (s, token)
}

const HELLO: &str = r#"{"messages":[{"role":"user","content":"hello"}],"model":"tiny"}"#;

#[tokio::test]
async fn ai_chat_needs_an_upstream() {
    let (s, token) = chat_server(None).await;
    let (status, text) = chat(&s, &token, HELLO).await;
    assert_eq!((status, code_of(&text).as_str()), (503, "not_configured"));
}

#[tokio::test]
async fn ai_chat_proxies_to_the_upstream_and_relays_its_answer() {
    let seen: Arc<Mutex<Option<Value>>> = Arc::default();
    let sink = seen.clone();
    let upstream = axum::Router::new().route(
        "/chat",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                *sink.lock().unwrap() = Some(body.clone());
                let n = body["messages"].as_array().map_or(0, Vec::len);
                (
                    axum::http::StatusCode::ACCEPTED,
                    axum::Json(json!({ "reply": "hi there", "messages": n })),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/chat", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, upstream).await });

    let (s, token) = chat_server(Some(url)).await;
    let (status, text) = chat(&s, &token, HELLO).await;
    assert_eq!(status, 202, "the upstream's status is relayed: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body, json!({ "reply": "hi there", "messages": 1 }));
    let forwarded = seen.lock().unwrap().clone().unwrap();
    assert_eq!(forwarded, serde_json::from_str::<Value>(HELLO).unwrap());

    // Bad input never reaches the upstream and is a 4xx.
    *seen.lock().unwrap() = None;
    for bad in [
        "",
        "{",
        "[]",
        "{}",
        r#"{"messages":[]}"#,
        r#"{"messages":"hi"}"#,
        r#"{"messages":[{"role":"user"}]}"#,
        r#"{"messages":[{"role":1,"content":"x"}]}"#,
    ] {
        let (status, text) = chat(&s, &token, bad).await;
        assert!((400..500).contains(&status), "{bad:?}: {status} {text}");
    }
    assert!(seen.lock().unwrap().is_none());
}

#[tokio::test]
async fn ai_chat_upstream_down_is_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/chat", listener.local_addr().unwrap());
    drop(listener);
    let (s, token) = chat_server(Some(url)).await;
    let (status, text) = chat(&s, &token, HELLO).await;
    assert_eq!((status, code_of(&text).as_str()), (502, "upstream_error"));

    // An upstream that answers something other than JSON is 502 too.
    let upstream = axum::Router::new().route("/chat", axum::routing::post(|| async { "nope" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/chat", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, upstream).await });
    let (s, token) = chat_server(Some(url)).await;
    let (status, text) = chat(&s, &token, HELLO).await;
    assert_eq!((status, code_of(&text).as_str()), (502, "upstream_error"));
}

#[tokio::test]
async fn message_and_lookup_bad_input_is_4xx() {
    let s = common::start().await;
    let (_, key) = s.account("bad@example.com").await;
    let (app, secret) = s.confidential_app(&key, ALL).await;
    let token = app_token(&s, &app, &secret, "identity.read messages.send").await;
    let long = "x".repeat(300);
    let cases: Vec<(&str, Option<&str>, &str, String)> = vec![
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            "".into(),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            "{".into(),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            "{}".into(),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            r#"{"userId":1}"#.into(),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            r#"{"userId":""}"#.into(),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            format!(r#"{{"userId":"{long}"}}"#),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "application/json",
            r#"{"userId":"pw_x","extra":1}"#.into(),
        ),
        (
            "/app/v1/identity/lookup",
            None,
            "text/plain",
            "userId".into(),
        ),
        (
            "/app/v1/messages",
            Some("b1"),
            "application/json",
            "".into(),
        ),
        (
            "/app/v1/messages",
            Some("b2"),
            "application/json",
            "{".into(),
        ),
        (
            "/app/v1/messages",
            Some("b3"),
            "application/json",
            "[]".into(),
        ),
        (
            "/app/v1/messages",
            Some("b4"),
            "application/json",
            r#"{"to":"pw_x"}"#.into(),
        ),
        (
            "/app/v1/messages",
            Some("b5"),
            "application/json",
            r#"{"to":1,"body":"x"}"#.into(),
        ),
        (
            "/app/v1/messages",
            Some("b6"),
            "application/json",
            r#"{"to":"pw_x","body":""}"#.into(),
        ),
        (
            "/app/v1/messages",
            Some("b7"),
            "application/json",
            r#"{"to":"pw_unknown","body":"x"}"#.into(),
        ),
        (
            "/app/v1/messages",
            Some(long.as_str()),
            "application/json",
            r#"{"to":"pw_x","body":"x"}"#.into(),
        ),
        (
            "/app/v1/messages",
            Some("has space"),
            "application/json",
            r#"{"to":"pw_x","body":"x"}"#.into(),
        ),
        (
            "/app/v1/messages",
            Some("b8"),
            "application/x-www-form-urlencoded",
            "to=pw_x&body=x".into(),
        ),
    ];
    for (path, key, ct, body) in cases {
        let (status, text, _) = post_raw(&s.base, path, Some(&token), key, ct, &body).await;
        assert!(
            (400..500).contains(&status),
            "{path} {key:?} {body:?}: {status} {text}"
        );
        assert!(!code_of(&text).is_empty(), "{path} {body:?}: {text}");
    }
}

async fn create_cap(s: &TestServer, key: &str, body: Value) -> (u16, Value) {
    let (status, body, _) = s
        .call("POST", "/v1/cap-tokens", Some(key), Some(body))
        .await;
    (status, body)
}

async fn preview(s: &TestServer, token: &str, slug: &str) -> Value {
    let (status, body, _) = s
        .call(
            "POST",
            "/public/v1/cap-tokens/preview",
            None,
            Some(json!({ "token": token, "slug": slug })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn capability_tokens_preview_by_slug() {
    let s = common::start().await;
    let (_, key) = s.account("cap-owner@example.com").await;
    let (app, secret) = s
        .confidential_app(&key, &["identity.read", "messages.send"])
        .await;
    let alice = Browser::signed_in(&s, "alice@example.com").await;
    let (_, alice_slug) = user_token(&s, &alice, &app, &secret, "identity.read").await;
    let bob = Browser::signed_in(&s, "bob@example.com").await;
    let (_, bob_slug) = user_token(&s, &bob, &app, &secret, "identity.read").await;

    let (status, created) = create_cap(
        &s,
        &key,
        json!({
            "app_id": app, "scopes": ["message"], "expires_in_secs": 60,
            "origins": ["https://app.example"], "emails": ["Alice@Example.com"],
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["data"]["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("cap_"));
    assert_eq!(created["data"]["scopes"], json!(["messages.send"]));

    let p = preview(&s, &token, &alice_slug).await;
    assert_eq!(p["valid"], true, "{p}");
    assert_eq!(p["app"]["id"], app.as_str());
    assert_eq!(p["app"]["name"], "backend");
    assert_eq!(p["scopes"], json!(["messages.send"]));
    assert!(p["expires_at"].is_string());
    assert_eq!(p["bound"]["origins"], json!(["https://app.example"]));
    assert_eq!(p["allowed_for_slug"], true);
    assert!(!p.to_string().contains("alice@example.com"), "{p}");

    // Bob is a user of the app but not a bound email; a made-up slug is nobody.
    let p = preview(&s, &token, &bob_slug).await;
    assert_eq!(
        (p["valid"].clone(), p["allowed_for_slug"].clone()),
        (json!(true), json!(false))
    );
    assert!(!p.to_string().contains("bob@example.com"));
    let p = preview(&s, &token, "pw_nobody").await;
    assert_eq!(p["allowed_for_slug"], false);

    // Without bound emails any user of the app is allowed, nobody else.
    let (status, open) = create_cap(
        &s,
        &key,
        json!({ "appId": app, "scopes": ["identity.read"] }),
    )
    .await;
    assert_eq!(status, 201, "{open}");
    let open = open["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        preview(&s, &open, &bob_slug).await["allowed_for_slug"],
        true
    );
    assert!(preview(&s, &open, &bob_slug).await["expires_at"].is_null());
    assert_eq!(
        preview(&s, &open, "pw_nobody").await["allowed_for_slug"],
        false
    );

    // Garbage and unknown tokens say only `valid: false`.
    for garbage in ["", "cap_", "cap_nope", "sgl_live_x", &"cap_x".repeat(100)] {
        assert_eq!(
            preview(&s, garbage, &alice_slug).await,
            json!({ "valid": false })
        );
    }

    // Expired on the server clock.
    let (status, _, _) = s
        .call("POST", "/_test/clock", None, Some(json!({ "advance": 61 })))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        preview(&s, &token, &alice_slug).await,
        json!({ "valid": false })
    );
    assert_eq!(preview(&s, &open, &alice_slug).await["valid"], true);
}

#[tokio::test]
async fn capability_token_bad_input_is_4xx() {
    let s = common::start().await;
    let (_, key) = s.account("cap-bad@example.com").await;
    let (app, _) = s.confidential_app(&key, &["identity.read"]).await;
    let (_, other_key) = s.account("cap-other@example.com").await;
    let (other_app, _) = s.confidential_app(&other_key, &["identity.read"]).await;
    let ok = |extra: Value| {
        let mut b = json!({ "app_id": app, "scopes": ["identity.read"] });
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (
            json!({ "app_id": "app_nope", "scopes": ["identity.read"] }),
            404,
        ),
        (
            json!({ "app_id": other_app, "scopes": ["identity.read"] }),
            404,
        ),
        // A capability token never carries more than its app holds.
        (ok(json!({ "scopes": ["messages.send"] })), 403),
        (ok(json!({ "scopes": ["nope"] })), 422),
        (ok(json!({ "scopes": [] })), 422),
        (ok(json!({ "expires_in_secs": 0 })), 422),
        (ok(json!({ "expires_in_secs": -5 })), 422),
        (ok(json!({ "expires_in_secs": 1e12 })), 422),
        (ok(json!({ "origins": ["not a url"] })), 422),
        (ok(json!({ "origins": ["https://a.example/path"] })), 422),
        (ok(json!({ "emails": ["nobody"] })), 422),
        (ok(json!({ "emails": [1] })), 422),
        (ok(json!({ "unknown": true })), 422),
        (json!({ "scopes": ["identity.read"] }), 422),
        (json!([]), 422),
    ];
    for (body, want) in cases {
        let (status, got) = create_cap(&s, &key, body.clone()).await;
        assert_eq!(status, want, "{body}: {got}");
        assert!(got["code"].is_string(), "{got}");
    }
    let (status, _, _) = s
        .call("POST", "/v1/cap-tokens", None, Some(ok(json!({}))))
        .await;
    assert_eq!(status, 401);
    let user = s
        .state
        .store
        .user_by_email("cap-bad@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, read_key) = sigil_server::v1::api_keys::issue(
        &s.state,
        &user.id,
        "read".into(),
        sigil_server::scopes::preset("read").unwrap(),
        None,
        None,
    )
    .await
    .unwrap();
    let (status, body) = create_cap(&s, &read_key, ok(json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );

    for (ct, body) in [
        ("application/json", "{"),
        ("application/json", "{}"),
        ("application/json", r#"{"token":"cap_x"}"#),
        ("application/json", r#"{"token":1,"slug":"x"}"#),
        ("text/plain", "hi"),
    ] {
        let (status, text, _) = post_raw(
            &s.base,
            "/public/v1/cap-tokens/preview",
            None,
            None,
            ct,
            body,
        )
        .await;
        assert!((400..500).contains(&status), "{body}: {status} {text}");
    }
}

#[tokio::test]
async fn lookup_shows_the_alias_only_with_profile_consent() {
    let s = common::start().await;
    s.state
        .store
        .create_user(&sigil_server::store::User {
            id: "usr_alias_test".into(),
            email: "ace@example.com".into(),
            alias: Some("Ace".into()),
            created_at: s.state.clock.now(),
            disabled_at: None,
        })
        .await
        .unwrap();
    let (_, key) = s.account("alias-owner@example.com").await;
    let (a, a_secret) = s.confidential_app(&key, ALL).await;
    let (b, b_secret) = s.confidential_app(&key, ALL).await;
    let browser = Browser::signed_in(&s, "ace@example.com").await;
    let (_, sub_a) = user_token(&s, &browser, &a, &a_secret, "identity.read profile.basic").await;
    let (_, sub_b) = user_token(&s, &browser, &b, &b_secret, "identity.read").await;
    for (app, secret, sub, alias) in [
        (&a, &a_secret, &sub_a, json!("Ace")),
        (&b, &b_secret, &sub_b, Value::Null),
    ] {
        let tok = app_token(&s, app, secret, "identity.read").await;
        let (status, body, _) = s
            .call(
                "POST",
                "/app/v1/identity/lookup",
                Some(&tok),
                Some(json!({ "userId": sub })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["slug"], sub.as_str());
        assert_eq!(body["data"]["alias"], alias, "{body}");
        assert!(!body.to_string().contains("usr_alias_test"));
    }
}

/// `PATCH /v1/account` with a raw JSON body.
async fn patch_account(s: &TestServer, key: &str, body: &str) -> (u16, Value, http::HeaderMap) {
    s.raw(
        http::Request::patch(format!("{}/v1/account", s.base))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap(),
    )
    .await
}

/// A key of the account behind `key` with `scopes` (a preset name or a list).
async fn key_with(s: &TestServer, key: &str, scopes: Value) -> String {
    let field = if scopes.is_string() {
        "preset"
    } else {
        "scopes"
    };
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(key),
            Some(json!({ "name": "scoped", field: scopes })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_user_sets_and_clears_the_alias_apps_with_profile_consent_see() {
    let s = common::start().await;
    let (_, owner) = s.account("alias-apps-owner@example.com").await;
    let (a, a_secret) = s.confidential_app(&owner, ALL).await;
    let (b, b_secret) = s.confidential_app(&owner, ALL).await;
    let (user_id, user_key) = s.account("zed@example.com").await;
    let browser = Browser::signed_in(&s, "zed@example.com").await;
    let (_, sub_a) = user_token(&s, &browser, &a, &a_secret, "identity.read profile.basic").await;
    let (_, sub_b) = user_token(&s, &browser, &b, &b_secret, "identity.read").await;
    let alias_seen = |app: String, secret: String, sub: String| {
        let s = &s;
        async move {
            let tok = app_token(s, &app, &secret, "identity.read").await;
            let (status, body, _) = s
                .call(
                    "POST",
                    "/app/v1/identity/lookup",
                    Some(&tok),
                    Some(json!({ "userId": sub })),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body["data"]["alias"].clone()
        }
    };

    let (status, me, _) = s.call("GET", "/v1/account", Some(&user_key), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["id"], user_id.as_str());
    assert_eq!(me["data"]["email"], "zed@example.com");
    assert!(me["data"]["alias"].is_null() && me["data"]["createdAt"].is_string());

    let (status, me, _) = patch_account(&s, &user_key, r#"{"alias":"  Zed the Ü  "}"#).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["alias"], "Zed the Ü", "trimmed");
    assert_eq!(
        alias_seen(a.clone(), a_secret.clone(), sub_a.clone()).await,
        "Zed the Ü"
    );
    assert_eq!(
        alias_seen(b.clone(), b_secret.clone(), sub_b.clone()).await,
        Value::Null,
        "no profile.basic, no alias"
    );

    // Absent keeps it; null clears it.
    let (status, me, _) = patch_account(&s, &user_key, "{}").await;
    assert_eq!((status, &me["data"]["alias"]), (200, &json!("Zed the Ü")));
    let (status, me, _) = patch_account(&s, &user_key, r#"{"alias":null}"#).await;
    assert_eq!((status, &me["data"]["alias"]), (200, &Value::Null));
    assert_eq!(alias_seen(a, a_secret, sub_a).await, Value::Null);

    let (status, log, _) = s
        .call(
            "GET",
            "/v1/audit?type=account.updated",
            Some(&user_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    assert!(
        !log.to_string().contains("Zed"),
        "the alias stays out of the log"
    );
}

#[tokio::test]
async fn account_alias_bad_input_is_422_and_scopes_are_enforced() {
    let s = common::start().await;
    let (_, key) = s.account("alias-bad@example.com").await;
    let long = "é".repeat(65);
    for body in [
        r#"{"alias":""}"#.to_owned(),
        r#"{"alias":"   "}"#.to_owned(),
        format!(r#"{{"alias":"{long}"}}"#),
        r#"{"alias":"bell\u0007"}"#.to_owned(),
        r#"{"alias":"two\nlines"}"#.to_owned(),
        r#"{"alias":"del\u007f"}"#.to_owned(),
        r#"{"alias":5}"#.to_owned(),
        r#"{"alias":"ok","email":"x@example.com"}"#.to_owned(),
        r#""Zed""#.to_owned(),
    ] {
        let (status, res, headers) = patch_account(&s, &key, &body).await;
        assert_eq!(status, 422, "{body}: {res}");
        assert_eq!(res["code"], "validation_failed", "{body}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let (status, res, _) = patch_account(&s, &key, "{").await;
    assert_eq!((status, &res["code"]), (400, &json!("invalid_json")));
    let (status, res, _) =
        patch_account(&s, &key, &format!(r#"{{"alias":"{}"}}"#, "é".repeat(64))).await;
    assert_eq!(status, 200, "64 characters are fine: {res}");

    // `read` can look, not change; `write` excludes account administration.
    let read = key_with(&s, &key, json!("read")).await;
    let write = key_with(&s, &key, json!("write")).await;
    let other = key_with(&s, &key, json!(["keys.read"])).await;
    for k in [&read, &write] {
        let (status, _, _) = s.call("GET", "/v1/account", Some(k), None).await;
        assert_eq!(status, 200);
        let (status, res, _) = patch_account(&s, k, r#"{"alias":"nope"}"#).await;
        assert_eq!((status, &res["code"]), (403, &json!("insufficient_scope")));
    }
    let (status, res, _) = s.call("GET", "/v1/account", Some(&other), None).await;
    assert_eq!((status, &res["code"]), (403, &json!("insufficient_scope")));
    let (status, _, _) = s.call("GET", "/v1/account", None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_user_token_cannot_manage_the_apps_webhooks() {
    let s = common::start().await;
    let (_, key) = s.account("wh-user-token@example.com").await;
    let (app, secret) = s
        .confidential_app(&key, &["identity.read", "webhooks.read", "webhooks.write"])
        .await;
    let browser = Browser::signed_in(&s, "wh-user@example.com").await;
    let (user, _) = user_token(&s, &browser, &app, &secret, "webhooks.read webhooks.write").await;
    assert!(claim(&user, "scope").contains("webhooks.read"));
    let (status, res, _) = s.call("GET", "/app/v1/webhooks", Some(&user), None).await;
    assert_eq!(
        (status, &res["code"]),
        (403, &json!("insufficient_scope")),
        "{res}"
    );
    assert!(res["detail"]
        .as_str()
        .unwrap()
        .contains("client_credentials"));
    // The app's own token may.
    let token = app_token(&s, &app, &secret, "webhooks.read").await;
    let (status, res, _) = s.call("GET", "/app/v1/webhooks", Some(&token), None).await;
    assert_eq!(status, 200, "{res}");
}
