//! The token client against a wiremock authorization server: each grant's
//! wire format, client authentication, and each failure path.

mod common;

use common::*;
use sigil::client::token_type;
use sigil::{ClientAuth, Error, OAuthClient, Secret, TokenExchangeRequest};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn client(server: &MockServer, auth: ClientAuth) -> OAuthClient {
    OAuthClient::new(
        metadata(&server.uri()),
        "app_1",
        auth,
        runtime(TestClock::at(T0)),
    )
}

fn form(req: &Request) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

#[tokio::test]
async fn client_credentials_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", "Basic YXBwXzE6c2VjcmV0"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("at", None, 600)))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, ClientAuth::Basic("secret".into()));
    let t = c.client_credentials(&["keys.read".into()]).await.unwrap();
    assert_eq!(t.access_token.expose(), "at");
    assert_eq!(t.expires_at, Some(T0 + 600));
    let req = &server.received_requests().await.unwrap()[0];
    let f = form(req);
    assert_eq!(f["scope"], "keys.read");
    assert!(!f.contains_key("client_secret"));
}

#[tokio::test]
async fn client_secret_post_and_public_client() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("at", Some("rt2"), 600)))
        .mount(&server)
        .await;
    let c = client(&server, ClientAuth::Post("s3cret".into()));
    c.client_credentials(&[]).await.unwrap();
    let f = form(&server.received_requests().await.unwrap()[0]);
    assert_eq!(
        (f["client_id"].as_str(), f["client_secret"].as_str()),
        ("app_1", "s3cret")
    );

    let public = client(&server, ClientAuth::None);
    assert_eq!(
        public.client_credentials(&[]).await.unwrap_err().code(),
        "invalid_input",
        "a public client cannot use client_credentials"
    );
    public.refresh(&Secret::new("rt1"), &[]).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    let f = form(reqs.last().unwrap());
    assert_eq!(f["client_id"], "app_1");
    assert_eq!(f["grant_type"], "refresh_token");
    assert!(!f.contains_key("client_secret"));
    assert!(reqs.last().unwrap().headers.get("authorization").is_none());
}

#[tokio::test]
async fn refresh_keeps_old_refresh_token_when_not_rotated() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("at2", None, 600)))
        .mount(&server)
        .await;
    let t = client(&server, ClientAuth::None)
        .refresh(&Secret::new("rt1"), &[])
        .await
        .unwrap();
    assert_eq!(t.refresh_token.unwrap().expose(), "rt1");
}

#[tokio::test]
async fn invalid_grant_is_an_oauth_error_not_a_transport_error() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-request-id", "req_9")
                .set_body_json(
                    serde_json::json!({"error":"invalid_grant","error_description":"reused"}),
                ),
        )
        .mount(&server)
        .await;
    let e = client(&server, ClientAuth::None)
        .refresh(&Secret::new("rt"), &[])
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::OAuth { code, status: Some(400), .. } if code == "invalid_grant"));
    assert_eq!(e.request_id(), Some("req_9"));
}

#[tokio::test]
async fn network_failure_is_a_transport_error() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = OAuthClient::new(
        metadata(&format!("http://{addr}")),
        "app_1",
        ClientAuth::Basic("s".into()),
        runtime(TestClock::at(T0)),
    );
    let e = c.client_credentials(&[]).await.unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(e.code(), "network_error");
}

#[tokio::test]
async fn rfc8693_token_exchange_wire_format() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token":"at","token_type":"Bearer","expires_in":300,
            "issued_token_type":"urn:ietf:params:oauth:token-type:access_token"})))
        .mount(&server)
        .await;
    let t = client(&server, ClientAuth::Basic("s".into()))
        .token_exchange(&TokenExchangeRequest {
            subject_token: "sgl_test_abc".into(),
            subject_token_type: token_type::SIGIL_API_KEY.into(),
            actor_token: None,
            requested_token_type: Some(token_type::ACCESS_TOKEN.into()),
            audience: Some("billing".into()),
            resource: None,
            scopes: vec!["a".into(), "b".into()],
        })
        .await
        .unwrap();
    assert_eq!(
        t.issued_token_type.as_deref(),
        Some(token_type::ACCESS_TOKEN)
    );
    let f = form(&server.received_requests().await.unwrap()[0]);
    assert_eq!(
        f["grant_type"],
        "urn:ietf:params:oauth:grant-type:token-exchange"
    );
    assert_eq!(f["subject_token"], "sgl_test_abc");
    assert_eq!(f["subject_token_type"], token_type::SIGIL_API_KEY);
    assert_eq!(f["audience"], "billing");
    assert_eq!(f["scope"], "a b");
    assert!(!f.contains_key("resource"));
}

#[tokio::test]
async fn api_key_exchange_reads_the_sigil_envelope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/token/exchange"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": {"accessToken": "at", "expiresIn": 600, "tokenType": "Bearer"},
            "meta": {"requestId": "r1", "issuedAt": "2026-01-01T00:00:00Z"}})))
        .expect(1)
        .mount(&server)
        .await;
    let t = client(&server, ClientAuth::None)
        .exchange_api_key(&"sgl_test_key".into(), &[])
        .await
        .unwrap();
    assert_eq!(t.access_token.expose(), "at");
    let body: serde_json::Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"apiKey": "sgl_test_key"}));
}

#[tokio::test]
async fn api_key_exchange_errors_are_typed_api_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/token/exchange"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "type":"about:blank","title":"Unauthorized","status":401,
            "code":"invalid_token","requestId":"req_1"})))
        .mount(&server)
        .await;
    let e = client(&server, ClientAuth::None)
        .exchange_api_key(&"sgl_test_revoked".into(), &[])
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Api { status: 401, code, .. } if code == "invalid_token"));
    assert_eq!(e.request_id(), Some("req_1"));
}

#[tokio::test]
async fn introspection_and_revocation() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/introspect"))
        .and(header("authorization", "Basic YXBwXzE6cw=="))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "active": true, "scope": "keys.read", "client_id": "app_1", "sub": "u1", "exp": 99})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, ClientAuth::Basic("s".into()));
    let i = c.introspect("tok", Some("access_token")).await.unwrap();
    assert!(i.active);
    assert_eq!(i.scope.as_deref(), Some("keys.read"));
    c.revoke("tok", Some("refresh_token")).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(form(&reqs[1])["token_type_hint"], "refresh_token");
}

#[tokio::test]
async fn malformed_success_body_is_invalid_response() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
        .mount(&server)
        .await;
    let e = client(&server, ClientAuth::Basic("s".into()))
        .client_credentials(&[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_response");
}

#[tokio::test]
async fn discovery_checks_issuer_and_falls_back_to_openid_configuration() {
    let server = MockServer::start().await;
    let issuer = server.uri();
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": issuer, "token_endpoint": format!("{issuer}/token"),
            "authorization_endpoint": format!("{issuer}/authorize"),
            "code_challenge_methods_supported": ["S256"]})))
        .mount(&server)
        .await;
    let c = OAuthClient::discover(&issuer, "app", ClientAuth::None, runtime(TestClock::at(T0)))
        .await
        .unwrap();
    assert_eq!(c.metadata().token_endpoint, format!("{issuer}/token"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "8414 first, then OIDC"
    );

    let evil = MockServer::start().await;
    Mock::given(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": "https://attacker.example", "token_endpoint": "https://attacker.example/t"})))
        .mount(&evil)
        .await;
    let e = OAuthClient::discover(
        &evil.uri(),
        "app",
        ClientAuth::None,
        runtime(TestClock::at(T0)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_response");
}
