//! Sessions against wiremock: single-flight renewal, rotation, events,
//! logout, and `request()`'s 401 / 429 / 503 rules.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use sigil::{
    ClientAuth, Error, MemoryStorage, OAuthClient, Renewal, Session, SessionEvent, TokenSet,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn tokens(access: &str, refresh: Option<&str>, expires_at: u64) -> TokenSet {
    let mut t = TokenSet::from_json(
        serde_json::to_vec(&token_json(access, refresh, 0))
            .unwrap()
            .as_slice(),
        std::time::Duration::ZERO,
    )
    .unwrap();
    t.expires_at = Some(expires_at);
    t
}

fn session(server: &MockServer, clock: Arc<TestClock>, renewal: Renewal) -> Session {
    let client = OAuthClient::new(
        metadata(&server.uri()),
        "app_1",
        ClientAuth::Basic("s".into()),
        runtime(clock),
    );
    Session::new(client, Arc::new(MemoryStorage::default()), renewal)
}

fn record_events(s: &Session) -> Arc<Mutex<Vec<SessionEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    s.on_change(move |e| sink.lock().unwrap().push(e.clone()));
    events
}

#[tokio::test]
async fn fifty_concurrent_callers_cause_exactly_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_json("fresh", Some("rt2"), 600))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let s = Arc::new(session(&server, TestClock::at(T0), Renewal::RefreshToken));
    s.set_tokens(tokens("stale", Some("rt1"), T0 + 10))
        .await
        .unwrap();
    let events = record_events(&s);

    let callers: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.access_token().await })
        })
        .collect();
    for c in callers {
        assert_eq!(c.await.unwrap().unwrap().expose(), "fresh");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let stored = s.tokens().await.unwrap().unwrap();
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "rt2",
        "rotated token kept"
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0], SessionEvent::Refreshed(t) if t.access_token.expose() == "fresh"));
}

#[tokio::test]
async fn rotation_uses_the_newest_refresh_token_each_time() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .and(wiremock::matchers::body_string_contains(
            "refresh_token=rt1",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("a2", Some("rt2"), 600)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .and(wiremock::matchers::body_string_contains(
            "refresh_token=rt2",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("a3", Some("rt3"), 600)))
        .expect(1)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let s = session(&server, clock.clone(), Renewal::RefreshToken);
    s.set_tokens(tokens("a1", Some("rt1"), T0)).await.unwrap();
    assert_eq!(s.access_token().await.unwrap().expose(), "a2");
    assert_eq!(
        s.access_token().await.unwrap().expose(),
        "a2",
        "fresh: no refresh"
    );
    clock.advance(Duration::from_secs(600));
    assert_eq!(s.access_token().await.unwrap().expose(), "a3");
}

#[tokio::test]
async fn skew_window_triggers_early_renewal() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("new", Some("r"), 600)))
        .expect(1)
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken)
        .with_skew(Duration::from_secs(120));
    // Expires in 100 s: inside a 120 s skew window.
    s.set_tokens(tokens("old", Some("r"), T0 + 100))
        .await
        .unwrap();
    assert_eq!(s.access_token().await.unwrap().expose(), "new");
}

#[tokio::test]
async fn invalid_grant_ends_the_session() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error":"invalid_grant"})),
        )
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken);
    s.set_tokens(tokens("a", Some("r"), T0)).await.unwrap();
    let events = record_events(&s);
    let e = s.access_token().await.unwrap_err();
    // The typed "sign in again", still carrying the server's refusal.
    assert!(matches!(&e, Error::LoginRequired(cause) if matches!(**cause, Error::OAuth { .. })));
    assert_eq!(e.kind().class_name(), "LoginRequiredError");
    assert_eq!((e.code(), e.status()), ("invalid_grant", Some(400)));
    assert_eq!(e.info().class, "LoginRequiredError");
    assert!(s.tokens().await.unwrap().is_none());
    assert_eq!(*events.lock().unwrap(), vec![SessionEvent::Expired]);
    assert_eq!(
        s.access_token().await.unwrap_err().code(),
        "not_authenticated"
    );
}

#[tokio::test]
async fn transient_refresh_failure_keeps_the_tokens() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken);
    s.set_tokens(tokens("a", Some("r"), T0)).await.unwrap();
    assert_eq!(s.access_token().await.unwrap_err().status(), Some(500));
    assert!(s.tokens().await.unwrap().is_some());
}

#[tokio::test]
async fn api_key_session_is_cached_and_renewed() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/token/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": {"accessToken": "k1", "expiresIn": 600}})))
        .expect(2)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let s = session(
        &server,
        clock.clone(),
        Renewal::ApiKey {
            key: "sgl_test_k".into(),
            scopes: vec![],
        },
    );
    for _ in 0..5 {
        assert_eq!(s.access_token().await.unwrap().expose(), "k1");
    }
    clock.advance(Duration::from_secs(590));
    s.access_token().await.unwrap();
}

#[tokio::test]
async fn logout_revokes_refresh_and_access_tokens_and_clears() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken);
    s.set_tokens(tokens("a", Some("r"), T0 + 600))
        .await
        .unwrap();
    let events = record_events(&s);
    s.logout().await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    let bodies: Vec<String> = reqs
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into())
        .collect();
    assert!(
        bodies[0].contains("token=r&token_type_hint=refresh_token"),
        "{bodies:?}"
    );
    assert!(bodies[1].contains("token=a&token_type_hint=access_token"));
    assert!(s.tokens().await.unwrap().is_none());
    assert_eq!(*events.lock().unwrap(), vec![SessionEvent::LoggedOut]);
}

#[tokio::test]
async fn request_401_refreshes_once_and_replays() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/things"))
        .and(header("authorization", "Bearer old"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/things"))
        .and(header("authorization", "Bearer new"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("new", Some("r2"), 600)))
        .expect(1)
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken);
    s.set_tokens(tokens("old", Some("r"), T0 + 600))
        .await
        .unwrap();
    let res = s
        .request(
            http::Request::get(format!("{}/v1/things", server.uri()))
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.body(), b"ok");
}

#[tokio::test]
async fn request_second_401_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/things"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "title":"Unauthorized","status":401,"code":"invalid_token","requestId":"r"})))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("new", Some("r2"), 600)))
        .expect(1)
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken);
    s.set_tokens(tokens("old", Some("r"), T0 + 600))
        .await
        .unwrap();
    let e = s
        .request(
            http::Request::get(format!("{}/v1/things", server.uri()))
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Api { status: 401, code, .. } if code == "invalid_token"));
}

#[tokio::test]
async fn request_honours_retry_after_seconds_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/v1/x"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let s = session(&server, clock.clone(), Renewal::RefreshToken);
    s.set_tokens(tokens("a", None, T0 + 6000)).await.unwrap();
    s.request(
        http::Request::get(format!("{}/v1/x", server.uri()))
            .body(vec![])
            .unwrap(),
    )
    .await
    .unwrap();
    let slept = clock.slept();
    assert_eq!(slept.len(), 2);
    for d in slept {
        assert!(
            d >= Duration::from_secs(2) && d <= Duration::from_millis(2200),
            "{d:?}"
        );
    }
}

#[tokio::test]
async fn request_honours_retry_after_http_date_on_503() {
    let server = MockServer::start().await;
    let clock = TestClock::at(T0);
    let at = std::time::UNIX_EPOCH + Duration::from_secs(T0 + 5);
    Mock::given(path("/v1/x"))
        .respond_with(
            ResponseTemplate::new(503).insert_header("retry-after", httpdate::fmt_http_date(at)),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/x"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let s = session(&server, clock.clone(), Renewal::RefreshToken);
    s.set_tokens(tokens("a", None, T0 + 6000)).await.unwrap();
    s.request(
        http::Request::get(format!("{}/v1/x", server.uri()))
            .body(vec![])
            .unwrap(),
    )
    .await
    .unwrap();
    let slept = clock.slept();
    assert_eq!(slept.len(), 1);
    assert!(slept[0] >= Duration::from_secs(5) && slept[0] <= Duration::from_millis(5500));
}

#[tokio::test]
async fn request_gives_up_after_bounded_retries_with_typed_retry_after() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/x"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(serde_json::json!({"error":{"code":"rate_limited","message":"slow"},"retryAfter":1})),
        )
        .expect(4) // 1 + max_retries (3)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let s = session(&server, clock.clone(), Renewal::RefreshToken);
    s.set_tokens(tokens("a", None, T0 + 6000)).await.unwrap();
    let e = s
        .request(
            http::Request::get(format!("{}/v1/x", server.uri()))
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { status: 429, .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(clock.slept().len(), 3);
}

#[tokio::test]
async fn a_503_without_retry_after_fails_at_once_with_its_code() {
    let server = MockServer::start().await;
    Mock::given(path("/app/v1/ai/chat"))
        .respond_with(ResponseTemplate::new(503).set_body_json(serde_json::json!({
            "type": "about:blank", "title": "Service Unavailable", "status": 503,
            "code": "not_configured", "requestId": "req_1",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let s = session(&server, clock.clone(), Renewal::RefreshToken);
    s.set_tokens(tokens("a", None, T0 + 6000)).await.unwrap();
    let e = s
        .request(
            http::Request::post(format!("{}/app/v1/ai/chat", server.uri()))
                .body(b"{}".to_vec())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 503, .. }), "{e:?}");
    assert_eq!(e.code(), "not_configured");
    assert!(clock.slept().is_empty());
}

#[tokio::test]
async fn retry_after_beyond_the_cap_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/x"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let s = session(&server, clock.clone(), Renewal::RefreshToken);
    s.set_tokens(tokens("a", None, T0 + 6000)).await.unwrap();
    let e = s
        .request(
            http::Request::get(format!("{}/v1/x", server.uri()))
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 503, .. }));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert!(clock.slept().is_empty());
}

#[tokio::test]
async fn messages_get_one_idempotency_key_kept_across_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/app/v1/messages"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/app/v1/messages"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let s = session(&server, TestClock::at(T0), Renewal::RefreshToken);
    s.set_tokens(tokens("a", None, T0 + 6000)).await.unwrap();
    s.request(
        http::Request::post(format!("{}/app/v1/messages", server.uri()))
            .body(b"{}".to_vec())
            .unwrap(),
    )
    .await
    .unwrap();
    let keys: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    assert!(keys[0].len() >= 32);
}

/// A lock two sessions share, as browser tabs share one through Web Locks.
#[derive(Default)]
struct TabLock(Arc<tokio::sync::Mutex<()>>);

struct TabGuard(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

impl sigil::SharedLockGuard for TabGuard {}

#[async_trait::async_trait]
impl sigil::SharedLock for TabLock {
    async fn acquire(&self) -> sigil::Result<Box<dyn sigil::SharedLockGuard>> {
        Ok(Box::new(TabGuard(self.0.clone().lock_owned().await)))
    }
}

#[tokio::test]
async fn two_sessions_on_one_storage_refresh_once_with_a_shared_lock() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_json("fresh", Some("rt2"), 600))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let storage = Arc::new(MemoryStorage::default());
    let lock = Arc::new(TabLock::default());
    let tab = |clock| {
        let client = OAuthClient::new(
            metadata(&server.uri()),
            "app_1",
            ClientAuth::None,
            runtime(clock),
        );
        Arc::new(
            Session::new(client, storage.clone(), Renewal::RefreshToken)
                .with_shared_lock(lock.clone()),
        )
    };
    let (a, b) = (tab(TestClock::at(T0)), tab(TestClock::at(T0)));
    a.set_tokens(tokens("stale", Some("rt1"), T0 + 10))
        .await
        .unwrap();
    let (ta, tb) = tokio::join!(a.access_token(), b.access_token());
    assert_eq!(ta.unwrap().expose(), "fresh");
    assert_eq!(tb.unwrap().expose(), "fresh");
}
