//! The typed management clients against wiremock: envelope unwrapping, safe
//! path building, and typed errors.

mod common;

use std::sync::Arc;

use common::*;
use sigil::api::{NewApiKey, NewApp};
use sigil::{ClientAuth, Error, Management, MemoryStorage, OAuthClient, Renewal, Session};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn management(server: &MockServer) -> Management {
    Mock::given(path("/auth/token/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": {"accessToken": "at", "expiresIn": 600}})))
        .mount(server)
        .await;
    let client = OAuthClient::new(
        metadata(&server.uri()),
        "cli",
        ClientAuth::None,
        runtime(TestClock::at(T0)),
    );
    let session = Session::new(
        client,
        Arc::new(MemoryStorage::default()),
        Renewal::ApiKey {
            key: "sgl_live_k".into(),
            scopes: vec![],
        },
    );
    Management::new(Arc::new(session), &server.uri()).unwrap()
}

fn key_json(id: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "name": "ci", "prefix": "sgl_live_abc", "last4": "wxyz",
        "masked": "sgl_live_abc…wxyz", "scopes": ["keys.read"], "appId": null, "status": "active",
        "expiresAt": null, "revokedAt": null, "lastUsedAt": null, "createdAt": "2026-01-01T00:00:00Z"})
}

#[tokio::test]
async fn create_key_sends_camel_case_and_unwraps_the_envelope() {
    let server = MockServer::start().await;
    let mut created = key_json("key_1");
    created["key"] = "sgl_live_abcdefghijklmnopqrstuvwxyz0123456789ab".into();
    Mock::given(method("POST"))
        .and(path("/v1/api-keys"))
        .and(header("authorization", "Bearer at"))
        .and(body_json(
            serde_json::json!({"name": "ci", "preset": "read", "expiresInDays": 30}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "data": created, "meta": {"requestId": "r", "issuedAt": "2026-01-01T00:00:00Z"}})))
        .expect(1)
        .mount(&server)
        .await;
    let m = management(&server).await;
    let k = m
        .api_keys()
        .create(&NewApiKey {
            name: "ci".into(),
            preset: Some("read".into()),
            expires_in_days: Some(30),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(k.info.id, "key_1");
    assert!(k.key.expose().starts_with("sgl_live_"));
    assert!(
        !format!("{k:?}").contains("0123456789ab"),
        "secret redacted in Debug"
    );
}

#[tokio::test]
async fn ids_are_percent_encoded_into_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/api-keys/..%2Fapps"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": key_json("x")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    management(&server)
        .await
        .api_keys()
        .get("../apps")
        .await
        .unwrap();
}

#[tokio::test]
async fn errors_are_typed_and_delete_needs_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/apps"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "type": "about:blank", "title": "Forbidden", "status": 403,
            "detail": "needs apps.write", "code": "insufficient_scope", "requestId": "req_1"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/apps/app_1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/apps"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"nope\": 1}"))
        .mount(&server)
        .await;
    let m = management(&server).await;
    let e = m
        .apps()
        .create(&NewApp {
            name: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Api { status: 403, code, .. } if code == "insufficient_scope"));
    assert_eq!(e.request_id(), Some("req_1"));
    m.apps().delete("app_1").await.unwrap();
    assert_eq!(
        m.apps().list().await.unwrap_err().code(),
        "invalid_response"
    );
}
