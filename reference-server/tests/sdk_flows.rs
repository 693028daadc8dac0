//! sdk-core's client against this server: client credentials, API-key
//! exchange (RFC 8693 and the seed endpoint), introspection, revocation, and
//! a renewing API-key session calling the management API.

mod common;

use std::sync::Arc;

use sigil::client::token_type;
use sigil::{
    ClientAuth, Error, MemoryStorage, OAuthClient, Renewal, Runtime, Secret, Session,
    TokenExchangeRequest,
};

async fn client(base: &str, id: &str, auth: ClientAuth) -> OAuthClient {
    OAuthClient::discover(base, id, auth, Runtime::native())
        .await
        .unwrap()
}

#[tokio::test]
async fn client_credentials_then_introspect_then_revoke() {
    let s = common::start().await;
    let (_, key) = s.account("cc@example.com").await;
    let (id, secret) = s.confidential_app(&key, &["keys.read", "apps.read"]).await;
    let c = client(&s.base, &id, ClientAuth::Basic(secret.clone().into())).await;

    let t = c.client_credentials(&["keys.read".into()]).await.unwrap();
    assert_eq!(t.scope.as_deref(), Some("keys.read"));
    assert!(t.refresh_token.is_none());
    assert!(t.expires_at.is_some());

    let i = c
        .introspect(t.access_token.expose(), Some("access_token"))
        .await
        .unwrap();
    assert!(i.active);
    assert_eq!(i.client_id.as_deref(), Some(id.as_str()));
    assert_eq!(i.extra["session_type"], "app");

    // The token works on the management API within its scopes.
    let (status, _, _) = s
        .call("GET", "/v1/api-keys", Some(t.access_token.expose()), None)
        .await;
    assert_eq!(status, 200);
    let (status, body, _) = s
        .call("GET", "/v1/apps", Some(t.access_token.expose()), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );

    c.revoke(t.access_token.expose(), None).await.unwrap();
    assert!(
        !c.introspect(t.access_token.expose(), None)
            .await
            .unwrap()
            .active
    );
    let (status, body, headers) = s
        .call("GET", "/v1/api-keys", Some(t.access_token.expose()), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));

    // client_secret_post works too; a wrong secret is invalid_client.
    let post = client(&s.base, &id, ClientAuth::Post(secret.into())).await;
    post.client_credentials(&[]).await.unwrap();
    let wrong = client(&s.base, &id, ClientAuth::Basic("sgl_cs_wrong".into())).await;
    let e = wrong.client_credentials(&[]).await.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth { code, status: Some(401), .. } if code == "invalid_client"),
        "{e:?}"
    );
    let e = c
        .client_credentials(&["account.write".into()])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_scope");
}

#[tokio::test]
async fn api_key_exchange_through_rfc8693_and_the_seed_endpoint() {
    let s = common::start().await;
    let (_, key) = s.account("xchg@example.com").await;
    let (id, secret) = s.confidential_app(&key, &["keys.read"]).await;
    let c = client(&s.base, &id, ClientAuth::Basic(secret.into())).await;

    let t = c
        .token_exchange(&TokenExchangeRequest {
            subject_token: key.clone().into(),
            subject_token_type: token_type::SIGIL_API_KEY.into(),
            actor_token: None,
            requested_token_type: Some(token_type::ACCESS_TOKEN.into()),
            audience: None,
            resource: None,
            scopes: vec!["keys.read".into()],
        })
        .await
        .unwrap();
    assert_eq!(
        t.issued_token_type.as_deref(),
        Some(token_type::ACCESS_TOKEN)
    );
    assert_eq!(t.scope.as_deref(), Some("keys.read"));

    let t = c.exchange_api_key(&key.clone().into(), &[]).await.unwrap();
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/apps",
            Some(t.access_token.expose()),
            Some(serde_json::json!({"name":"x","redirectUris":[]})),
        )
        .await;
    assert_eq!(status, 201, "a full key's token can manage apps");

    let e = c
        .exchange_api_key(
            &Secret::new("sgl_live_0000000000000000000000000000000000000"),
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 401, code, .. } if code == "invalid_token"),
        "{e:?}"
    );
}

#[tokio::test]
async fn revoked_api_key_is_refused_at_once_everywhere() {
    let s = common::start().await;
    let (_, root) = s.account("revoke@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(&root),
            Some(serde_json::json!({"name": "ci", "preset": "read"})),
        )
        .await;
    assert_eq!(status, 201);
    let (kid, key) = (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["key"].as_str().unwrap().to_owned(),
    );
    let (status, _, _) = s.call("GET", "/v1/api-keys", Some(&key), None).await;
    assert_eq!(status, 200);
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/api-keys/{kid}/revoke"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body, _) = s.call("GET", "/v1/api-keys", Some(&key), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, _, _) = s
        .call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(serde_json::json!({"apiKey": key})),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn api_key_session_renews_and_calls_the_management_api() {
    let s = common::start().await;
    let (_, key) = s.account("session@example.com").await;
    let c = client(&s.base, "cli", ClientAuth::None).await;
    let session = Session::new(
        c,
        Arc::new(MemoryStorage::default()),
        Renewal::ApiKey {
            key: key.into(),
            scopes: vec![],
        },
    );
    for _ in 0..3 {
        let res = session
            .request(
                http::Request::get(format!("{}/v1/api-keys", s.base))
                    .body(Vec::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let e = session
        .request(
            http::Request::get(format!("{}/v1/api-keys/key_missing", s.base))
                .body(Vec::new())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Api { status: 404, code, request_id: Some(_), .. } if code == "not_found"),
        "{e:?}"
    );
}

#[tokio::test]
async fn typed_management_clients_drive_keys_and_apps() {
    use sigil::api::{AppUpdate, NewApiKey, NewApp};
    let s = common::start().await;
    let (_, key) = s.account("typed@example.com").await;
    let session = Session::new(
        client(&s.base, "cli", ClientAuth::None).await,
        Arc::new(MemoryStorage::default()),
        Renewal::ApiKey {
            key: key.into(),
            scopes: vec![],
        },
    );
    let m = sigil::Management::new(Arc::new(session), &s.base).unwrap();

    let created = m
        .api_keys()
        .create(&NewApiKey {
            name: "ci".into(),
            preset: Some("read".into()),
            expires_in_days: Some(7),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.info.status, "active");
    assert!(created.info.expires_at.is_some());
    let listed = m.api_keys().list().await.unwrap();
    assert!(listed
        .iter()
        .any(|k| k.id == created.info.id && k.masked.ends_with(&k.last4)));
    assert_eq!(
        m.api_keys()
            .rename(&created.info.id, "ci-2")
            .await
            .unwrap()
            .name,
        "ci-2"
    );
    assert_eq!(
        m.api_keys().revoke(&created.info.id).await.unwrap().status,
        "revoked"
    );
    m.api_keys().delete(&created.info.id).await.unwrap();
    let e = m.api_keys().get(&created.info.id).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(404), "not_found"));

    let app = m
        .apps()
        .create(&NewApp {
            name: "svc".into(),
            redirect_uris: vec!["https://svc.example/cb".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let first_secret = app.client_secret.clone().expect("confidential app secret");
    let rotated = m.apps().rotate_secret(&app.app.id).await.unwrap();
    assert_ne!(
        rotated.client_secret.unwrap().expose(),
        first_secret.expose()
    );
    let updated = m
        .apps()
        .update(
            &app.app.id,
            &AppUpdate {
                name: Some("svc-2".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "svc-2");
    assert_eq!(
        m.apps().get(&app.app.id).await.unwrap().redirect_uris,
        ["https://svc.example/cb"]
    );
    // The old secret stopped working at rotation.
    let old = client(&s.base, &app.app.id, ClientAuth::Basic(first_secret)).await;
    assert_eq!(
        old.client_credentials(&[]).await.unwrap_err().code(),
        "invalid_client"
    );
    m.apps().delete(&app.app.id).await.unwrap();
    assert!(m.apps().list().await.unwrap().is_empty());
}
