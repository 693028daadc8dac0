//! Acknowledged writes survive `kill -9`: the real binary on an SQLite file,
//! a series of writes each answered 2xx, SIGKILL right after the last
//! answer, a restart on the same file, and every write is still there: keys
//! list and authenticate, the revoked key and the revoked access token stay
//! refused, and the signing key (JWKS `kid`) is unchanged.

mod common;

use std::collections::BTreeSet;

use serde_json::{json, Value};

use common::{expect_2xx, BinServer, Http, TempDir};

async fn kids(http: &Http) -> BTreeSet<String> {
    let (status, body, _) = http.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, 200, "{body}");
    body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = TempDir::new("durability");
    let db = dir.database_url();
    // No server yet: the CLI creates the file, migrates it and the account.
    let root = common::create_key_cli(&db, "durable@example.com", &[], &[], None);

    // The restart lands on another port; a fixed issuer keeps tokens issued
    // before the crash valid after it (as a fixed public URL would).
    let env = [("SIGIL_ISSUER", "http://durable.sigil.test")];
    let mut server = BinServer::start(&db, &env, None).await;
    let http = server.http.clone();
    let kids_before = kids(&http).await;
    assert!(!kids_before.is_empty());

    // Several keys of each preset.
    let mut keys: Vec<(String, String, String)> = Vec::new(); // (id, secret, preset)
    for (i, preset) in ["read", "write", "full", "read", "write"]
        .iter()
        .enumerate()
    {
        let (status, body, _) = http
            .call(
                "POST",
                "/v1/api-keys",
                Some(&root),
                Some(json!({"name": format!("key-{i}"), "preset": preset, "expiresInDays": 30})),
            )
            .await;
        expect_2xx("create key", status, &body);
        keys.push((
            body["data"]["id"].as_str().unwrap().to_owned(),
            body["data"]["key"].as_str().unwrap().to_owned(),
            (*preset).to_owned(),
        ));
    }
    // A rename.
    let (status, body, _) = http
        .call(
            "PATCH",
            &format!("/v1/api-keys/{}", keys[0].0),
            Some(&root),
            Some(json!({"name": "renamed-before-crash"})),
        )
        .await;
    expect_2xx("rename key", status, &body);

    // A confidential app.
    let (status, body, _) = http
        .call(
            "POST",
            "/v1/apps",
            Some(&root),
            Some(json!({
                "name": "durable-app",
                "redirectUris": ["https://durable.example/cb"],
                "scopes": ["keys.read", "apps.read"],
            })),
        )
        .await;
    expect_2xx("create app", status, &body);
    let client_id = body["data"]["clientId"].as_str().unwrap().to_owned();
    let client_secret = body["data"]["clientSecret"].as_str().unwrap().to_owned();
    let basic = Some((client_id.as_str(), client_secret.as_str()));

    // Revoke one key.
    let (revoked_id, revoked_key, _) = keys.remove(1);
    let (status, body, _) = http
        .call(
            "POST",
            &format!("/v1/api-keys/{revoked_id}/revoke"),
            Some(&root),
            None,
        )
        .await;
    expect_2xx("revoke key", status, &body);
    assert_eq!(body["data"]["status"], "revoked");

    // Two client-credentials tokens; one is revoked, the other is a control
    // that must still work after the restart.
    let kept_token = http.client_credentials(basic).await;
    let revoked_token = http.client_credentials(basic).await;
    let (status, body, _) = http
        .form("/oauth/revoke", basic, &[("token", &revoked_token)])
        .await;
    expect_2xx("revoke access token", status, &body);

    // kill -9 right after the last acknowledgement.
    server.kill();
    let status = server.child.wait().unwrap();
    assert!(!status.success(), "the server was killed, not stopped");
    drop(server);

    let server = BinServer::start(&db, &env, None).await;
    let http = server.http.clone();
    let basic = Some((client_id.as_str(), client_secret.as_str()));

    assert_eq!(kids(&http).await, kids_before, "signing keys persisted");

    // Every key lists, with its state.
    let (status, body, _) = http.call("GET", "/v1/api-keys", Some(&root), None).await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<&Value> = body["data"].as_array().unwrap().iter().collect();
    let find = |id: &str| {
        listed
            .iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("key {id} lost: {body}"))
    };
    for (id, _, _) in &keys {
        assert_eq!(find(id)["status"], "active", "{id}");
        assert!(find(id)["expiresAt"].is_string());
    }
    assert_eq!(find(&keys[0].0)["name"], "renamed-before-crash");
    assert_eq!(find(&revoked_id)["status"], "revoked");

    // Every live key authenticates, directly and through the exchange.
    for (id, secret, preset) in &keys {
        let (status, body, _) = http.call("GET", "/v1/api-keys", Some(secret), None).await;
        assert_eq!(status, 200, "key {id} ({preset}): {body}");
        let (status, body, _) = http
            .call(
                "POST",
                "/auth/token/exchange",
                None,
                Some(json!({"apiKey": secret})),
            )
            .await;
        assert_eq!(status, 200, "exchange of {id}: {body}");
    }
    // The revoked key stays revoked.
    let (status, body, _) = http
        .call("GET", "/v1/api-keys", Some(&revoked_key), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );

    // The app and its secret survived.
    let (status, body, _) = http.call("GET", "/v1/apps", Some(&root), None).await;
    assert_eq!(status, 200);
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["clientId"] == client_id.as_str()),
        "{body}"
    );
    http.client_credentials(basic).await;

    // The revoked access token is still refused; the control still works,
    // so the refusal is the revocation and not a new signing key.
    let (status, body, _) = http
        .form("/oauth/introspect", basic, &[("token", &revoked_token)])
        .await;
    assert_eq!((status, &body["active"]), (200, &json!(false)), "{body}");
    let (status, body, _) = http
        .call("GET", "/v1/api-keys", Some(&revoked_token), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    let (status, body, _) = http
        .form("/oauth/introspect", basic, &[("token", &kept_token)])
        .await;
    assert_eq!((status, &body["active"]), (200, &json!(true)), "{body}");
    let (status, body, _) = http
        .call("GET", "/v1/api-keys", Some(&kept_token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    drop(server);
}
