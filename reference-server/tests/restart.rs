//! What must hold across a restart: refresh-token reuse still revokes the
//! family, revoked families stay revoked, and tokens signed before the
//! restart still verify (signing keys are persisted). The second server opens
//! the same SQLite file with fresh memory, as a restarted process would.

mod common;

use serde_json::Value;
use sigil_server::{tokens, Config};

async fn refresh(s: &common::TestServer, id: &str, secret: &str, rt: &str) -> (u16, Value) {
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((id, secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
    (status, body)
}

#[tokio::test]
async fn refresh_reuse_revokes_the_family_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("sigil-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/sigil.db", dir.display());
    // A restarted server keeps its issuer; the test servers bind new ports.
    let config = || Config {
        database: db.clone(),
        issuer: Some("http://sigil.restart.test".into()),
        ..Config::for_tests()
    };

    let first = common::start_with(config()).await;
    let (user, key) = first.account("restart@example.com").await;
    let (id, secret) = first.confidential_app(&key, &["profile.basic"]).await;
    let rt1 = tokens::refresh_token(
        &first.state,
        "fam_restart",
        &id,
        Some(&user),
        "profile.basic",
        "sid_1",
    )
    .await
    .unwrap();
    let (status, body) = refresh(&first, &id, &secret, &rt1).await;
    assert_eq!(status, 200, "{body}");
    let rt2 = body["refresh_token"].as_str().unwrap().to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();

    let second = common::start_with(config()).await;
    let (status, body) = refresh(&second, &id, &secret, &rt1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "reuse after restart"
    );
    let (status, body) = refresh(&second, &id, &secret, &rt2).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "family revoked"
    );

    // A third start still sees the family revoked.
    let third = common::start_with(config()).await;
    let (status, _) = refresh(&third, &id, &secret, &rt2).await;
    assert_eq!(status, 400);

    // The access token signed by the first process verifies on the third.
    let (status, body, _) = third
        .form(
            "/oauth/introspect",
            Some((&id, &secret)),
            &[("token", &access)],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true, "{body}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_old_signing_key_is_rotated_and_stays_published() {
    let s = common::start().await;
    let old_kid = s.state.keys.current().kid().to_owned();
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
    let (store, now, max_age) = (s.state.store.as_ref(), s.state.clock.now(), 30 * 86_400);

    assert!(
        !s.state
            .keys
            .rotate_if_older(store, now, max_age)
            .await
            .unwrap(),
        "new key: not due"
    );
    assert!(s
        .state
        .keys
        .rotate_if_older(store, now + 31 * 86_400, max_age)
        .await
        .unwrap());
    let new_kid = s.state.keys.current().kid().to_owned();
    assert_ne!(new_kid, old_kid);
    assert!(!s
        .state
        .keys
        .rotate_if_older(store, now + 31 * 86_400, max_age)
        .await
        .unwrap());

    let (_, jwks, _) = s.call("GET", "/.well-known/jwks.json", None, None).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [new_kid.as_str(), old_kid.as_str()],
        "current first, previous kept"
    );
    // A token signed before the rotation still authenticates.
    let (status, _, _) = s.call("GET", "/v1/api-keys", Some(&old_token), None).await;
    assert_eq!(status, 200);
}
