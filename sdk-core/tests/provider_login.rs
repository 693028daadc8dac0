//! `POST /auth/oauth/exchange` from a client that has no session yet: the
//! app has just been redirected back with a provider-login code and holds
//! no tokens. The exchange must go out once, without `Authorization`, and
//! must not try to obtain a token first.
// The wiremock harness sends through the reqwest transport.
#![cfg(feature = "reqwest")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use sigil::{ClientAuth, Error, Management, MemoryStorage, OAuthClient, Renewal, Session};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client whose session holds nothing: no access token, no refresh
/// token. Any authenticated call on it fails with `NotAuthenticated`.
fn tokenless(server: &MockServer, clock: Arc<TestClock>) -> (Arc<Session>, Management) {
    let client = OAuthClient::new(
        metadata(&server.uri()),
        "app_1",
        ClientAuth::None,
        runtime(clock),
    );
    let session = Arc::new(Session::new(
        client,
        Arc::new(MemoryStorage::default()),
        Renewal::RefreshToken,
    ));
    let m = Management::new(session.clone(), &server.uri()).unwrap();
    (session, m)
}

fn session_json() -> serde_json::Value {
    json!({
        "data": {
            "accessToken": "at_from_provider",
            "tokenType": "Bearer",
            "expiresIn": 900,
            "scope": "openid profile",
            "refreshToken": "sgl_rt_1",
            "user": {"id": "sub_1", "email": "ada@example.com", "provider": "acme", "isNewUser": true}
        },
        "meta": {"requestId": "r", "issuedAt": "2026-01-01T00:00:00Z"}
    })
}

#[tokio::test]
async fn exchange_works_without_a_session_and_sends_no_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/exchange"))
        .and(body_json(json!({"code": "sgl_pc_abc"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json()))
        .expect(1)
        .mount(&server)
        .await;
    let (session, m) = tokenless(&server, TestClock::at(T0));
    assert!(session.tokens().await.unwrap().is_none());

    let s = m.provider_login().exchange("sgl_pc_abc").await.unwrap();
    assert_eq!(s.access_token.expose(), "at_from_provider");
    assert_eq!(s.refresh_token.expose(), "sgl_rt_1");
    assert_eq!(s.expires_in, 900);
    assert_eq!(s.user.id, "sub_1");
    assert!(s.user.is_new_user);

    // Exactly one request reached the server: no token endpoint, no
    // renewal attempt, and the exchange itself carried no bearer token.
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].url.path(), "/auth/oauth/exchange");
    assert!(
        !received[0].headers.contains_key("authorization"),
        "{:?}",
        received[0].headers
    );
    assert!(received[0].headers.contains_key("user-agent"));
    // The session is left as it was.
    assert!(session.tokens().await.unwrap().is_none());
}

#[tokio::test]
async fn bindings_reach_the_exchange_by_name_without_a_session() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json()))
        .expect(1)
        .mount(&server)
        .await;
    let (_, m) = tokenless(&server, TestClock::at(T0));
    let data = m
        .call("providerLogin.exchange", json!(["sgl_pc_abc"]))
        .await
        .unwrap();
    assert_eq!(data["user"]["provider"], "acme");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert!(!received[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn only_the_exchange_skips_the_session() {
    let server = MockServer::start().await;
    let (_, m) = tokenless(&server, TestClock::at(T0));
    // An authenticated operation on the same client still needs tokens,
    // and fails before anything is sent.
    let e = m.api_keys().list().await.unwrap_err();
    assert!(matches!(e, Error::NotAuthenticated(_)), "{e:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
    let public: Vec<_> = sigil::api::OPERATIONS
        .iter()
        .filter(|op| !op.requires_auth())
        .map(|op| op.name)
        .collect();
    assert_eq!(public, ["providerLogin.exchange"]);
}

#[tokio::test]
async fn a_rejected_code_is_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/exchange"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/problem+json")
                .set_body_json(json!({
                    "type": "about:blank", "title": "Bad Request", "status": 400,
                    "detail": "the code was already used", "code": "invalid_grant",
                    "requestId": "req_9"
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (_, m) = tokenless(&server, TestClock::at(T0));
    let e = m
        .provider_login()
        .exchange("sgl_pc_used")
        .await
        .unwrap_err();
    match &e {
        Error::Api {
            status,
            code,
            request_id,
            ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(code, "invalid_grant");
            assert_eq!(request_id.as_deref(), Some("req_9"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.code(), "invalid_grant");
}

#[tokio::test]
async fn a_rate_limited_exchange_waits_and_retries() {
    // A 429 is answered before the code is looked at, so the retry spends
    // nothing: the runtime's policy applies, as on authenticated calls.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/exchange"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json()))
        .expect(1)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let (_, m) = tokenless(&server, clock.clone());
    let s = m.provider_login().exchange("sgl_pc_abc").await.unwrap();
    assert_eq!(s.user.id, "sub_1");
    let slept = clock.slept();
    assert_eq!(slept.len(), 1, "{slept:?}");
    assert!(slept[0] >= Duration::from_secs(2) && slept[0] <= Duration::from_millis(2200));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert!(received
        .iter()
        .all(|r| !r.headers.contains_key("authorization")));
}

#[tokio::test]
async fn a_503_is_never_retried_because_the_code_may_be_spent() {
    // A proxy may answer 503 after the server consumed the code; a replay
    // would be refused and revoke the tokens the first exchange issued.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth/exchange"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .expect(1)
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let (_, m) = tokenless(&server, clock.clone());
    let e = m.provider_login().exchange("sgl_pc_abc").await.unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
    assert!(clock.slept().is_empty(), "{:?}", clock.slept());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
