//! The server's discovery document and JWKS, read by sdk-core's own
//! discovery against a real listening server.

mod common;

use sigil::{ClientAuth, OAuthClient, Runtime};

#[tokio::test]
async fn sdk_core_discovers_the_server() {
    let s = common::start().await;
    let client = OAuthClient::discover(&s.base, "app", ClientAuth::None, Runtime::native())
        .await
        .unwrap();
    let md = client.metadata();
    assert_eq!(md.issuer, s.base);
    assert_eq!(md.token_endpoint, format!("{}/oauth/token", s.base));
    assert!(md.supports_s256());
    assert!(md.authorization_response_iss_parameter_supported);
}

#[tokio::test]
async fn healthz_request_ids_and_typed_404() {
    let s = common::start().await;
    let (status, _, headers) = s.call("GET", "/healthz", None, None).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-request-id"));
    let (status, body, headers) = s.call("GET", "/nope", None, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["requestId"], headers["x-request-id"].to_str().unwrap());
    let (status, body, _) = s.call("DELETE", "/healthz", None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn jwks_keeps_the_previous_key_after_rotation() {
    let s = common::start().await;
    let (_, key) = s.account("rotate@example.com").await;
    let (_, body, _) = s
        .call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(serde_json::json!({"apiKey": key})),
        )
        .await;
    let old_token = body["data"]["accessToken"].as_str().unwrap().to_owned();
    let (_, jwks, _) = s.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);

    s.state
        .keys
        .rotate(s.state.store.as_ref(), s.state.clock.now())
        .await
        .unwrap();
    let (_, jwks, _) = s.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // A token signed before the rotation still works, offline and online.
    let cache = sigil::JwksCache::new(
        format!("{}/.well-known/jwks.json", s.base),
        Runtime::native(),
    );
    let opts = sigil::jws::VerifyOptions {
        audience: Some(s.base.clone()),
        ..Default::default()
    };
    cache.verify(&old_token, &opts).await.unwrap();
    let (status, _, _) = s.call("GET", "/v1/api-keys", Some(&old_token), None).await;
    assert_eq!(status, 200);
}
