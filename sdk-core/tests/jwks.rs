//! Offline token verification through the JWKS cache: fetched once, refetched
//! on an unknown `kid` (key rotation), and never more than once per interval.

mod common;

use std::time::Duration;

use common::*;
use ed25519_dalek::SigningKey;
use sigil::jws::{self, Jwk, Jwks, VerifyOptions};
use sigil::{Error, JwksCache};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn jwks(keys: &[(&SigningKey, &str)]) -> serde_json::Value {
    serde_json::to_value(Jwks {
        keys: keys
            .iter()
            .map(|(k, kid)| Jwk::from_verifying_key(&k.verifying_key(), kid))
            .collect(),
    })
    .unwrap()
}

fn token(k: &SigningKey, kid: &str) -> String {
    jws::sign(
        k,
        kid,
        "at+jwt",
        &serde_json::json!({"iss":"https://as","sub":"u","aud":"api","scope":"a b","exp": T0 + 600, "iat": T0}),
    )
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        audience: Some("api".into()),
        required_scopes: vec!["a".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn fetches_once_then_serves_from_cache() {
    let server = MockServer::start().await;
    let k1 = key(1);
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(&k1, "k1")])))
        .expect(1)
        .mount(&server)
        .await;
    let cache = JwksCache::new(format!("{}/jwks", server.uri()), runtime(TestClock::at(T0)));
    for _ in 0..10 {
        let v = cache.verify(&token(&k1, "k1"), &opts()).await.unwrap();
        assert_eq!(v.claims.sub.as_deref(), Some("u"));
    }
}

#[tokio::test]
async fn unknown_kid_refetches_after_rotation() {
    let server = MockServer::start().await;
    let (k1, k2) = (key(1), key(2));
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(&k1, "k1")])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(&k2, "k2"), (&k1, "k1")])))
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let cache = JwksCache::new(format!("{}/jwks", server.uri()), runtime(clock.clone()));
    cache.verify(&token(&k1, "k1"), &opts()).await.unwrap();
    clock.advance(Duration::from_secs(31));
    cache.verify(&token(&k2, "k2"), &opts()).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn unknown_kid_refetch_is_rate_limited() {
    let server = MockServer::start().await;
    let k1 = key(1);
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(&k1, "k1")])))
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let cache = JwksCache::new(format!("{}/jwks", server.uri()), runtime(clock.clone()))
        .with_min_refresh_interval(Duration::from_secs(30));
    cache.verify(&token(&k1, "k1"), &opts()).await.unwrap();
    for i in 0..20 {
        let forged = token(&key(9), &format!("forged-{i}"));
        let e = cache.verify(&forged, &opts()).await.unwrap_err();
        assert_eq!(e.code(), "unknown_key");
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no refetch within 30 s"
    );
    clock.advance(Duration::from_secs(30));
    let _ = cache.verify(&token(&key(9), "forged-x"), &opts()).await;
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "one refetch after it"
    );
}

#[tokio::test]
async fn claim_failures_are_typed() {
    let server = MockServer::start().await;
    let k1 = key(1);
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(&k1, "k1")])))
        .mount(&server)
        .await;
    let clock = TestClock::at(T0);
    let cache = JwksCache::new(format!("{}/jwks", server.uri()), runtime(clock.clone()));
    let t = token(&k1, "k1");
    let mut o = opts();
    o.required_scopes = vec!["admin".into()];
    assert_eq!(
        cache.verify(&t, &o).await.unwrap_err().code(),
        "insufficient_scope"
    );
    o = opts();
    o.audience = Some("other".into());
    assert_eq!(
        cache.verify(&t, &o).await.unwrap_err().code(),
        "invalid_audience"
    );
    clock.advance(Duration::from_secs(700));
    let e = cache.verify(&t, &opts()).await.unwrap_err();
    assert!(matches!(e, Error::Token(jws::TokenError::Expired { .. })));
    assert_eq!(e.kind(), sigil::ErrorKind::TokenExpired);
}

#[tokio::test]
async fn jwks_endpoint_failure_is_typed() {
    let server = MockServer::start().await;
    Mock::given(path("/jwks"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let cache = JwksCache::new(format!("{}/jwks", server.uri()), runtime(TestClock::at(T0)));
    let e = cache
        .verify(&token(&key(1), "k1"), &opts())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(
        cache.verify("garbage", &opts()).await.unwrap_err().code(),
        "malformed_token"
    );
}
