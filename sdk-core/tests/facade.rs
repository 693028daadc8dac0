//! The binding-neutral facade against wiremock: what every binding relies on
//! (pending transactions, single-use callbacks, cached key exchange, the
//! operation table, abort, corrupt storage, token events), with the requests
//! counted.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::json;
use sigil::facade::{
    AuthorizationOptions, KeyValueStore, MemoryStore, RequestInit, TokenEvent, TokenListener,
};
use sigil::{Error, Sigil};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer, config: serde_json::Value, store: Arc<MemoryStore>) -> Sigil {
    let mut config = config;
    config["issuer"] = server.uri().into();
    config["discover"] = false.into();
    Sigil::from_json(config, runtime(TestClock::at(T0)), Some(store)).unwrap()
}

async fn token_endpoint(server: &MockServer, expected: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("at1", Some("rt1"), 600)))
        .expect(expected)
        .mount(server)
        .await;
}

#[tokio::test]
async fn callback_spends_its_pending_transaction_once() {
    let server = MockServer::start().await;
    token_endpoint(&server, 1).await;
    let store = Arc::new(MemoryStore::default());
    let c = client(
        &server,
        json!({ "clientId": "app_1", "redirectUri": "http://127.0.0.1/cb" }),
        store.clone(),
    );
    let start = c
        .authorization_url(AuthorizationOptions::default())
        .await
        .unwrap();
    assert!(
        start.url.contains("code_challenge_method=S256"),
        "{}",
        start.url
    );
    let key = format!("sigil:pending:{}", start.state);
    assert!(store.get(&key).await.unwrap().is_some());

    let callback = format!(
        "http://127.0.0.1/cb?code=c1&state={}&iss={}",
        start.state,
        server.uri()
    );
    let tokens = c.handle_callback(&callback).await.unwrap();
    assert_eq!(tokens.access_token, "at1");
    assert_eq!(
        c.tokens().await.unwrap().unwrap().refresh_token.as_deref(),
        Some("rt1")
    );
    assert!(store.get(&key).await.unwrap().is_none());
    // A replayed callback finds no transaction and sends nothing.
    assert!(matches!(
        c.handle_callback(&callback).await,
        Err(Error::StateMismatch)
    ));
}

#[tokio::test]
async fn a_denied_callback_is_typed_and_still_spends_the_transaction() {
    let server = MockServer::start().await;
    token_endpoint(&server, 0).await;
    let store = Arc::new(MemoryStore::default());
    let c = client(&server, json!({ "clientId": "app_1" }), store.clone());
    let start = c
        .authorization_url(AuthorizationOptions {
            redirect_uri: Some("http://127.0.0.1/cb".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let denied = format!(
        "http://127.0.0.1/cb?error=access_denied&state={}&iss={}",
        start.state,
        server.uri()
    );
    let e = c.handle_callback(&denied).await.unwrap_err();
    assert_eq!(
        (e.code(), e.kind().class_name()),
        ("access_denied", "OAuthError")
    );
    assert_eq!(e.info().error.as_deref(), Some("access_denied"));
    assert!(store
        .get(&format!("sigil:pending:{}", start.state))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_configured_api_key_is_exchanged_once_and_cached() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/token/exchange"))
        .and(body_string_contains("sgl_test_k"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "accessToken": "at-key", "expiresIn": 600 } }))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, json!({ "apiKey": "sgl_test_k" }), Arc::default());
    let calls = (0..20).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.access_token().await })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "at-key");
    }
    assert_eq!(
        c.exchange_api_key(None, vec![]).await.unwrap().access_token,
        "at-key"
    );
}

#[tokio::test]
async fn operations_send_the_typed_call_and_refuse_bad_arguments_unsent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/token/exchange"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "accessToken": "at-key", "expiresIn": 600 } })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/api-keys/key_1"))
        .and(header("authorization", "Bearer at-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {
            "id": "key_1", "name": "ci", "prefix": "sgl_test_abc", "last4": "wxyz", "masked": "sgl_test_abc…wxyz",
            "scopes": ["keys.read"], "appId": null, "status": "active",
            "expiresAt": null, "revokedAt": null, "createdAt": "2026-01-01T00:00:00Z"
        }, "meta": { "requestId": "r1" } })))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, json!({ "apiKey": "sgl_test_k" }), Arc::default());
    let key = c.call("apiKeys.get", json!(["key_1"])).await.unwrap();
    assert_eq!(key["name"], "ci");
    assert_eq!(key["scopes"], json!(["keys.read"]));
    for (op, args) in [
        ("apiKeys.get", json!([42])),
        ("apiKeys.nope", json!([])),
        ("agents.create", json!([{ "name": "a", "extra": 1 }])),
        ("apiKeys.list", json!(["unexpected"])),
    ] {
        let e = c.call(op, args).await.unwrap_err();
        assert_eq!(e.kind().class_name(), "InvalidInputError", "{op}: {e}");
    }
    assert!(sigil::facade::OPERATIONS.len() >= 50);
}

#[tokio::test]
async fn an_aborted_request_ends_at_once_with_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/token/exchange"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "accessToken": "at-key", "expiresIn": 600 } })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let c = client(&server, json!({ "apiKey": "sgl_test_k" }), Arc::default());
    let (handle, registration) = sigil::facade::AbortHandle::new_pair();
    let call = tokio::spawn({
        let c = c.clone();
        async move {
            let init = RequestInit {
                url: "/slow".into(),
                ..Default::default()
            };
            c.request(init, Some(registration)).await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.abort();
    let e = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("abort ends the call")
        .unwrap()
        .unwrap_err();
    assert_eq!((e.code(), e.kind().class_name()), ("aborted", "AbortError"));
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl TokenListener for Recorder {
    fn on_event(&self, event: &TokenEvent) {
        let value = serde_json::to_value(event).unwrap();
        self.0
            .lock()
            .unwrap()
            .push(value["type"].as_str().unwrap().to_owned());
    }
}

#[tokio::test]
async fn corrupt_storage_is_reported_discarded_and_the_session_recovers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/token/exchange"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "accessToken": "at-key", "expiresIn": 600 } })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::default());
    store.set("sigil:tokens", "[1,2".into()).await.unwrap();
    let c = client(&server, json!({ "apiKey": "sgl_test_k" }), store.clone());
    let events = Arc::new(Recorder::default());
    c.on_change(events.clone());
    let e = c.access_token().await.unwrap_err();
    assert_eq!(e.kind().class_name(), "StorageError");
    assert_eq!(c.access_token().await.unwrap(), "at-key");
    let stored: serde_json::Value =
        serde_json::from_str(&store.get("sigil:tokens").await.unwrap().unwrap()).unwrap();
    assert_eq!(stored["access_token"], "at-key");
    assert_eq!(*events.0.lock().unwrap(), ["discarded", "refreshed"]);
}

#[tokio::test]
async fn config_mistakes_are_input_errors_naming_the_member() {
    let e = Sigil::from_json(
        json!({ "issuer": "https://a.example", "apikey": "x" }),
        runtime(TestClock::at(T0)),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput(ref m) if m.contains("apikey")),
        "{e}"
    );
    let e = Sigil::from_json(
        json!({ "issuer": "not a url" }),
        runtime(TestClock::at(T0)),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = Sigil::from_json(json!({ "issuer": 5 }), runtime(TestClock::at(T0)), None).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
}

#[test]
fn unix_seconds_takes_finite_numbers_and_names_the_argument_otherwise() {
    use sigil::facade::unix_seconds;
    assert_eq!(unix_seconds("now", None).unwrap(), None);
    assert_eq!(
        unix_seconds("now", Some(1700000000.9)).unwrap(),
        Some(1700000000)
    );
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = unix_seconds("options.now", Some(bad)).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert_eq!(
            e.to_string(),
            "invalid input: options.now must be UNIX seconds"
        );
    }
}
