//! The authorization-code flow end to end against wiremock: URL → callback →
//! exchange, and the rule that a code exchange is never retried.

mod common;

use common::*;
use sigil::{AuthorizationRequest, ClientAuth, Error, OAuthClient};
use wiremock::matchers::{body_string_contains, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> OAuthClient {
    OAuthClient::new(
        metadata(&server.uri()),
        "app_1",
        ClientAuth::None,
        runtime(TestClock::at(T0)),
    )
}

fn start(c: &OAuthClient) -> (String, sigil::PendingAuthorization) {
    c.authorization_url(&AuthorizationRequest {
        redirect_uri: "http://127.0.0.1:8080/cb".into(),
        scopes: vec!["profile.basic".into()],
        extra: vec![],
    })
    .unwrap()
}

fn callback(c: &OAuthClient, state: &str) -> String {
    let iss: String =
        url::form_urlencoded::byte_serialize(c.metadata().issuer.as_bytes()).collect();
    format!("http://127.0.0.1:8080/cb?code=the-code&state={state}&iss={iss}")
}

#[tokio::test]
async fn callback_exchanges_code_with_verifier_and_redirect_uri() {
    let server = MockServer::start().await;
    let c = client(&server);
    let (_, pending) = start(&c);
    Mock::given(path("/oauth/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains(format!(
            "code_verifier={}",
            pending.verifier.expose()
        )))
        .and(body_string_contains(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb",
        ))
        .and(body_string_contains("code=the-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("at", Some("rt"), 600)))
        .expect(1)
        .mount(&server)
        .await;
    let url = callback(&c, &pending.state);
    let t = c.handle_callback(&url, pending).await.unwrap();
    assert_eq!(t.refresh_token.unwrap().expose(), "rt");
}

#[tokio::test]
async fn code_exchange_is_never_retried_on_503_or_429() {
    for status in [503u16, 429] {
        let server = MockServer::start().await;
        Mock::given(path("/oauth/token"))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "0"))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let (_, pending) = start(&c);
        let url = callback(&c, &pending.state);
        let e = c.handle_callback(&url, pending).await.unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.retry_after(), Some(std::time::Duration::ZERO));
    }
}

#[tokio::test]
async fn callback_errors_stop_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_json("at", None, 600)))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server);
    let (_, pending) = start(&c);
    let e = c
        .handle_callback(&callback(&c, "forged"), pending)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::StateMismatch));
    let (_, pending) = start(&c);
    let denied = format!(
        "http://127.0.0.1:8080/cb?error=access_denied&state={}&iss={}",
        pending.state,
        url::form_urlencoded::byte_serialize(c.metadata().issuer.as_bytes()).collect::<String>()
    );
    let e = c.handle_callback(&denied, pending).await.unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let (_, pending) = start(&c);
    let no_iss = format!("http://127.0.0.1:8080/cb?code=c&state={}", pending.state);
    assert!(matches!(
        c.handle_callback(&no_iss, pending).await.unwrap_err(),
        Error::IssuerMismatch { .. }
    ));
}
