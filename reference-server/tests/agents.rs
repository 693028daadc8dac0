//! Agents and agent tokens: the key is shown once, issuance is authenticated
//! by an RFC 9421 signature from the agent key (or an API key with
//! `tokens.issue`), and verification reflects pauses and revocations at once,
//! across a restart, and never fails with a 5xx whatever the token string.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use sigil::httpsig::{self, SignParams};
use sigil_server::Config;

const COVERED: [&str; 3] = ["@method", "@target-uri", "content-digest"];

async fn create_agent(s: &common::TestServer, key: &str, name: &str) -> (String, String) {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(key),
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["data"]["id"].as_str().unwrap().to_owned(),
        body["data"]["agentKey"].as_str().unwrap().to_owned(),
    )
}

fn signing_key(agent_key: &str) -> httpsig::SigningKey {
    let seed = URL_SAFE_NO_PAD
        .decode(agent_key.strip_prefix("sgl_ask_").unwrap())
        .unwrap();
    httpsig::SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &seed.try_into().unwrap(),
    ))
}

/// How to sign a token request.
struct Signing<'a> {
    keyid: &'a str,
    agent_key: &'a str,
    components: &'a [&'a str],
    nonce: Option<&'a str>,
    created: i64,
}

/// A `POST /v1/tokens` signed for `signed_uri` and sent to `send_uri`.
fn signed_request(
    signed_uri: &str,
    send_uri: &str,
    body: &Value,
    how: &Signing,
) -> http::Request<Vec<u8>> {
    let mut req = http::Request::post(signed_uri)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .unwrap();
    let mut params = SignParams::new(how.keyid, how.components.iter().copied(), how.created);
    params.expires = Some(how.created + 60);
    params.nonce = how.nonce.map(str::to_owned);
    httpsig::sign_request(&mut req, &signing_key(how.agent_key), &params).unwrap();
    *req.uri_mut() = send_uri.parse().unwrap();
    req
}

fn nonce() -> String {
    sigil_server::crypto::random_base62(16)
}

async fn issue_signed(
    s: &common::TestServer,
    agent: &str,
    agent_key: &str,
    body: Value,
) -> (u16, Value) {
    let n = nonce();
    let how = Signing {
        keyid: agent,
        agent_key,
        components: &COVERED,
        nonce: Some(&n),
        created: s.state.clock.now(),
    };
    let uri = format!("{}/v1/tokens", s.base);
    let (status, body, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    (status, body)
}

async fn issue_with_key(s: &common::TestServer, key: &str, agent: &str) -> String {
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(key),
            Some(json!({ "agent_id": agent, "scope": ["messages.send"] })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["token"].as_str().unwrap().to_owned()
}

async fn verify(s: &common::TestServer, token: &str, required: Option<&str>) -> Value {
    let mut req = json!({ "token": token });
    if let Some(r) = required {
        req["required_scope"] = r.into();
    }
    let (status, body, _) = s.call("POST", "/v1/tokens/verify", None, Some(req)).await;
    assert_eq!(status, 200, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn create_returns_the_key_once_and_list_never_shows_it() {
    let s = common::start().await;
    let (_, key) = s.account("agents-once@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({ "name": "crawler", "description": "reads things" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    let agent_key = data["agentKey"].as_str().unwrap();
    assert!(agent_key.starts_with("sgl_ask_"));
    let seed = URL_SAFE_NO_PAD.decode(&agent_key[8..]).unwrap();
    assert_eq!(seed.len(), 32);
    let public = ed25519_dalek::SigningKey::from_bytes(&seed.try_into().unwrap()).verifying_key();
    assert_eq!(data["publicKey"], URL_SAFE_NO_PAD.encode(public.as_bytes()));
    assert_eq!(data["status"], "active");
    assert_eq!(data["description"], "reads things");
    let id = data["id"].as_str().unwrap();

    let (status, list, _) = s.call("GET", "/v1/agents", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (status, one, _) = s
        .call("GET", &format!("/v1/agents/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, 200);
    for doc in [&list, &one] {
        let text = doc.to_string();
        assert!(!text.contains("agentKey"), "{text}");
        assert!(!text.contains(&agent_key[8..]), "{text}");
    }

    // Bad input and another owner.
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({ "name": " " })),
        )
        .await;
    assert_eq!(status, 422);
    let (_, other) = s.account("agents-other@example.com").await;
    let (status, _, _) = s
        .call("GET", &format!("/v1/agents/{id}"), Some(&other), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn list_filters_limits_offsets_and_refuses_a_bad_status() {
    let s = common::start().await;
    let (_, key) = s.account("agents-list@example.com").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(create_agent(&s, &key, &format!("a{n}")).await.0);
    }
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{}/pause", ids[0]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{}/revoke", ids[1]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);

    let list = |q: &'static str| {
        let key = key.clone();
        let s = &s;
        async move {
            s.call("GET", &format!("/v1/agents{q}"), Some(&key), None)
                .await
        }
    };
    let ids_of = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, body, _) = list("?status=paused").await;
    assert_eq!(ids_of(&body), [ids[0].clone()]);
    let (_, body, _) = list("?status=revoked").await;
    assert_eq!(ids_of(&body), [ids[1].clone()]);
    let (_, body, _) = list("?status=active").await;
    assert_eq!(ids_of(&body), [ids[2].clone()]);
    let (_, body, _) = list("").await;
    assert_eq!(ids_of(&body).len(), 3);
    assert_eq!(body["meta"]["limit"], 20);
    let (_, page1, _) = list("?limit=2").await;
    assert_eq!(ids_of(&page1).len(), 2);
    assert_eq!(page1["meta"]["hasMore"], true);
    let (_, page2, _) = list("?limit=2&offset=2").await;
    assert_eq!(ids_of(&page2).len(), 1);
    assert_eq!(page2["meta"]["hasMore"], false);
    let mut all = ids_of(&page1);
    all.extend(ids_of(&page2));
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected);

    for bad in [
        "?status=deleted",
        "?limit=0",
        "?limit=101",
        "?limit=x",
        "?offset=-1",
    ] {
        let (status, body, _) = list(bad).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    // Another owner sees none of them.
    let (_, other) = s.account("agents-list-other@example.com").await;
    let (_, body, _) = s.call("GET", "/v1/agents", Some(&other), None).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn signed_issuance_works_and_a_replayed_nonce_is_refused() {
    let s = common::start().await;
    let (_, key) = s.account("agents-signed@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key, "signer").await;
    let body = json!({
        "agent_id": agent, "scope": ["messages.send", "identity.read"], "ttl": 120,
        "target_service": "billing", "intent": "send the invoice",
    });
    let n = nonce();
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &COVERED,
        nonce: Some(&n),
        created: s.state.clock.now(),
    };
    let uri = format!("{}/v1/tokens", s.base);
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(status, 201, "{res}");
    assert_eq!(res["data"]["tokenType"], "Bearer");
    assert_eq!(res["data"]["expiresIn"], 120);
    let token = res["data"]["token"].as_str().unwrap();
    let header = sigil::jws::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("agent+jwt"));
    assert_eq!(header.alg, "EdDSA");
    let v = verify(&s, token, Some("identity.read")).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["agent_id"], agent.as_str());
    assert_eq!(v["aud"], "billing");
    assert_eq!(v["jti"], res["data"]["jti"]);

    // The very same signed request again: the nonce was used.
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (401, Some("replayed_nonce"))
    );
}

#[tokio::test]
async fn a_wrong_key_tampered_body_or_missing_digest_is_refused() {
    let s = common::start().await;
    let (_, key) = s.account("agents-forged@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key, "victim").await;
    let (other, other_key) = create_agent(&s, &key, "other").await;
    let uri = format!("{}/v1/tokens", s.base);
    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let now = s.state.clock.now();
    let n = [nonce(), nonce(), nonce(), nonce(), nonce(), nonce()];

    // Signed by another agent's key under this agent's keyid.
    let how = Signing {
        keyid: &agent,
        agent_key: &other_key,
        components: &COVERED,
        nonce: Some(&n[0]),
        created: now,
    };
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(status, 401, "wrong key: {res}");
    assert!(
        res["detail"]
            .as_str()
            .unwrap()
            .contains("invalid signature"),
        "wrong key: {res}"
    );

    // Body changed after signing (the digest no longer matches).
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &COVERED,
        nonce: Some(&n[1]),
        created: now,
    };
    let mut req = signed_request(&uri, &uri, &body, &how);
    *req.body_mut() =
        serde_json::to_vec(&json!({ "agent_id": agent, "scope": ["agents.write"] })).unwrap();
    let (status, res, _) = s.raw(req).await;
    assert_eq!(status, 401, "tampered body: {res}");
    assert!(
        res["detail"]
            .as_str()
            .unwrap()
            .contains("content digest mismatch"),
        "tampered body: {res}"
    );

    // Content-Digest not covered.
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &["@method", "@target-uri"],
        nonce: Some(&n[2]),
        created: now,
    };
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(status, 401, "no digest: {res}");
    assert!(
        res["detail"].as_str().unwrap().contains("content-digest"),
        "no digest: {res}"
    );

    // No nonce.
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &COVERED,
        nonce: None,
        created: now,
    };
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(status, 401, "no nonce: {res}");
    assert!(
        res["detail"].as_str().unwrap().contains("nonce"),
        "no nonce: {res}"
    );

    // Too old.
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &COVERED,
        nonce: Some(&n[3]),
        created: now - 600,
    };
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(status, 401, "stale: {res}");
    assert!(
        res["detail"].as_str().unwrap().contains("too old"),
        "stale: {res}"
    );

    // Signed for another URI.
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &COVERED,
        nonce: Some(&n[4]),
        created: now,
    };
    let (status, res, _) = s
        .raw(signed_request(
            "https://evil.example/v1/tokens",
            &uri,
            &body,
            &how,
        ))
        .await;
    assert_eq!(status, 401, "other uri: {res}");
    assert!(
        res["detail"]
            .as_str()
            .unwrap()
            .contains("invalid signature"),
        "other uri: {res}"
    );

    // A valid signature by another agent cannot mint for this one.
    let how = Signing {
        keyid: &other,
        agent_key: &other_key,
        components: &COVERED,
        nonce: Some(&n[5]),
        created: now,
    };
    let (status, res, _) = s.raw(signed_request(&uri, &uri, &body, &how)).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("agent_mismatch"))
    );

    // No signature and no credential at all.
    let (status, _, _) = s.call("POST", "/v1/tokens", None, Some(body)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn api_key_with_tokens_issue_works_and_without_it_is_403() {
    let s = common::start().await;
    let (_, key) = s.account("agents-apikey@example.com").await;
    let (agent, _) = create_agent(&s, &key, "keyed").await;
    let token = issue_with_key(&s, &key, &agent).await;
    let v = verify(&s, &token, None).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["aud"], "any");
    assert_eq!(v["scope"], json!(["messages.send"]));

    let (status, res, _) = s
        .call(
            "POST",
            "/v1/api-keys",
            Some(&key),
            Some(json!({ "name": "ro", "scopes": ["agents.read", "messages.send"] })),
        )
        .await;
    assert_eq!(status, 201, "{res}");
    let weak = res["data"]["key"].as_str().unwrap();
    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let (status, res, _) = s
        .call("POST", "/v1/tokens", Some(weak), Some(body.clone()))
        .await;
    assert_eq!(
        (status, res["code"].as_str()),
        (403, Some("insufficient_scope"))
    );

    // Another account's key cannot mint for this agent.
    let (_, other) = s.account("agents-apikey-other@example.com").await;
    let (status, _, _) = s.call("POST", "/v1/tokens", Some(&other), Some(body)).await;
    assert_eq!(status, 404);

    // Unknown scopes are refused.
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(&key),
            Some(json!({ "agent_id": agent, "scope": ["root"] })),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn ttl_out_of_range_is_422() {
    let s = common::start().await;
    let (_, key) = s.account("agents-ttl@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key, "ttl").await;
    for ttl in [0, 86_401] {
        let body = json!({ "agent_id": agent, "scope": ["messages.send"], "ttl": ttl });
        let (status, res, _) = s
            .call("POST", "/v1/tokens", Some(&key), Some(body.clone()))
            .await;
        assert_eq!(status, 422, "ttl {ttl} with a key: {res}");
        let (status, res) = issue_signed(&s, &agent, &agent_key, body).await;
        assert_eq!(status, 422, "ttl {ttl} signed: {res}");
    }
    let body = json!({ "agent_id": agent, "scope": ["messages.send"], "ttl": 86_400 });
    let (status, res) = issue_signed(&s, &agent, &agent_key, body).await;
    assert_eq!(status, 201, "{res}");
    assert_eq!(res["data"]["expiresIn"], 86_400);
}

#[tokio::test]
async fn verify_checks_required_scope() {
    let s = common::start().await;
    let (_, key) = s.account("agents-scope@example.com").await;
    let (agent, _) = create_agent(&s, &key, "scoped").await;
    let token = issue_with_key(&s, &key, &agent).await;
    let v = verify(&s, &token, Some("messages.send")).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["scope"], json!(["messages.send"]));
    let v = verify(&s, &token, Some("agents.write")).await;
    assert_eq!(v, json!({ "valid": false, "reason": "insufficient_scope" }));
}

#[tokio::test]
async fn pause_blocks_tokens_at_once_and_resume_restores_them() {
    let s = common::start().await;
    let (_, key) = s.account("agents-pause@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key, "pausable").await;
    let token = issue_with_key(&s, &key, &agent).await;
    assert_eq!(verify(&s, &token, None).await["valid"], true);

    let (status, res, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{agent}/pause"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(res["data"]["status"], "paused");
    let v = verify(&s, &token, None).await;
    assert_eq!(v, json!({ "valid": false, "reason": "agent_inactive" }));
    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let (status, _) = issue_signed(&s, &agent, &agent_key, body.clone()).await;
    assert_eq!(status, 403, "a paused agent gets no token");

    let (status, res, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{agent}/resume"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(res["data"]["status"], "active");
    assert_eq!(verify(&s, &token, None).await["valid"], true);
    let (status, _) = issue_signed(&s, &agent, &agent_key, body).await;
    assert_eq!(status, 201);

    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{agent}/revoke"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    for action in ["pause", "resume"] {
        let (status, res, _) = s
            .call(
                "POST",
                &format!("/v1/agents/{agent}/{action}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(status, 409, "{action}: {res}");
    }
    assert_eq!(verify(&s, &token, None).await["valid"], false);
}

#[tokio::test]
async fn revoking_an_agent_invalidates_every_token_it_holds() {
    let s = common::start().await;
    let (_, key) = s.account("agents-revoke@example.com").await;
    let (agent, agent_key) = create_agent(&s, &key, "doomed").await;
    let (bystander, _) = create_agent(&s, &key, "bystander").await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(issue_with_key(&s, &key, &agent).await);
    }
    let kept = issue_with_key(&s, &key, &bystander).await;
    let (status, _, _) = s
        .call(
            "POST",
            &format!("/v1/agents/{agent}/revoke"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    for t in &tokens {
        assert_eq!(verify(&s, t, None).await["reason"], "agent_inactive");
    }
    assert_eq!(verify(&s, &kept, None).await["valid"], true);
    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let (status, _) = issue_signed(&s, &agent, &agent_key, body).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn revoking_one_token_invalidates_only_it() {
    let s = common::start().await;
    let (_, key) = s.account("agents-jti@example.com").await;
    let (agent, _) = create_agent(&s, &key, "two-tokens").await;
    let first = issue_with_key(&s, &key, &agent).await;
    let second = issue_with_key(&s, &key, &agent).await;
    let jti = verify(&s, &first, None).await["jti"]
        .as_str()
        .unwrap()
        .to_owned();

    let (_, other) = s.account("agents-jti-other@example.com").await;
    let path = format!("/v1/tokens/{jti}/revoke");
    let (status, _, _) = s.call("POST", &path, Some(&other), None).await;
    assert_eq!(status, 404, "another account cannot revoke it");
    assert_eq!(verify(&s, &first, None).await["valid"], true);

    let (status, res, _) = s.call("POST", &path, Some(&key), None).await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(
        verify(&s, &first, None).await,
        json!({ "valid": false, "reason": "token_revoked" })
    );
    assert_eq!(verify(&s, &second, None).await["valid"], true);
    let (status, _, _) = s
        .call("POST", "/v1/tokens/atk_missing/revoke", Some(&key), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn revocations_and_nonces_survive_a_restart() {
    let dir = common::TempDir::new("agents-restart");
    let db = dir.database_url();
    let issuer = "http://sigil.agents-restart.test";
    let config = || Config {
        database: db.clone(),
        issuer: Some(issuer.into()),
        ..Config::for_tests()
    };
    let first = common::start_with(config()).await;
    let (_, key) = first.account("agents-restart@example.com").await;
    let (agent, agent_key) = create_agent(&first, &key, "kept").await;
    let (paused, _) = create_agent(&first, &key, "paused").await;
    let (revoked, _) = create_agent(&first, &key, "revoked").await;
    let revoked_token = issue_with_key(&first, &key, &agent).await;
    let live_token = issue_with_key(&first, &key, &agent).await;
    let paused_token = issue_with_key(&first, &key, &paused).await;
    let revoked_agent_token = issue_with_key(&first, &key, &revoked).await;
    let jti = verify(&first, &revoked_token, None).await["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path) in [
        ("POST", format!("/v1/tokens/{jti}/revoke")),
        ("POST", format!("/v1/agents/{paused}/pause")),
        ("POST", format!("/v1/agents/{revoked}/revoke")),
    ] {
        let (status, res, _) = first.call(method, &path, Some(&key), None).await;
        assert_eq!(status, 200, "{path}: {res}");
    }
    // A signed request accepted by the first process (signed for the issuer).
    let n = nonce();
    let how = Signing {
        keyid: &agent,
        agent_key: &agent_key,
        components: &COVERED,
        nonce: Some(&n),
        created: first.state.clock.now(),
    };
    let body = json!({ "agent_id": agent, "scope": ["messages.send"] });
    let signed_uri = format!("{issuer}/v1/tokens");
    let req = signed_request(
        &signed_uri,
        &format!("{}/v1/tokens", first.base),
        &body,
        &how,
    );
    let (status, res, _) = first.raw(req).await;
    assert_eq!(status, 201, "{res}");

    let second = common::start_with(config()).await;
    assert_eq!(
        verify(&second, &revoked_token, None).await["reason"],
        "token_revoked"
    );
    assert_eq!(verify(&second, &live_token, None).await["valid"], true);
    assert_eq!(
        verify(&second, &paused_token, None).await["reason"],
        "agent_inactive"
    );
    assert_eq!(
        verify(&second, &revoked_agent_token, None).await["reason"],
        "agent_inactive"
    );
    let req = signed_request(
        &signed_uri,
        &format!("{}/v1/tokens", second.base),
        &body,
        &how,
    );
    let (status, res, _) = second.raw(req).await;
    assert_eq!(
        (status, res["code"].as_str()),
        (401, Some("replayed_nonce")),
        "replay after restart: {res}"
    );
}

#[tokio::test]
async fn batch_verifies_up_to_100_in_order() {
    let s = common::start().await;
    let (_, key) = s.account("agents-batch@example.com").await;
    let (agent, _) = create_agent(&s, &key, "batch").await;
    let good = issue_with_key(&s, &key, &agent).await;
    let tokens: Vec<String> = (0..100)
        .map(|i| {
            if i % 10 == 3 {
                "garbage".to_owned()
            } else {
                good.clone()
            }
        })
        .collect();
    let (status, res, _) = s
        .call(
            "POST",
            "/v1/tokens/verify/batch",
            None,
            Some(json!({ "tokens": tokens, "required_scope": "messages.send" })),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let results = res["data"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["valid"], i % 10 != 3, "result {i}: {r}");
    }

    let mut too_many = tokens.clone();
    too_many.push(good.clone());
    for tokens in [too_many, Vec::new()] {
        let (status, res, _) = s
            .call(
                "POST",
                "/v1/tokens/verify/batch",
                None,
                Some(json!({ "tokens": tokens })),
            )
            .await;
        assert_eq!(status, 422, "{res}");
    }
}

#[tokio::test]
async fn garbage_and_truncated_tokens_are_invalid_never_5xx() {
    let s = common::start().await;
    let (_, key) = s.account("agents-fuzz@example.com").await;
    let (agent, _) = create_agent(&s, &key, "fuzz").await;
    let good = issue_with_key(&s, &key, &agent).await;

    let mut bad: Vec<String> = [
        "",
        "a",
        "a.b.c",
        "....",
        "..",
        "\u{1F600}.\u{1F600}.\u{1F600}",
        "eyJhbGciOiJub25lIn0.e30.",
        "eyJhbGciOiJFZERTQSIsInR5cCI6ImFnZW50K2p3dCJ9.e30.AAAA",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    bad.push("x".repeat(20_000));
    bad.push(format!("{good}.extra"));
    for cut in (1..good.len()).step_by(7) {
        bad.push(good[..cut].to_owned());
    }
    // Flip one character at spread-out positions (header, payload, signature).
    let bytes = good.as_bytes();
    for pos in (0..bytes.len()).step_by(13) {
        if bytes[pos] == b'.' {
            continue;
        }
        let mut flipped = bytes.to_vec();
        flipped[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        bad.push(String::from_utf8(flipped).unwrap());
    }
    // A first-party access token is not an agent token.
    let (status, res, _) = s
        .call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({ "apiKey": key })),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let access = res["data"]["accessToken"]
        .as_str()
        .or(res["data"]["access_token"].as_str())
        .unwrap();
    bad.push(access.to_owned());

    for token in &bad {
        let v = verify(&s, token, None).await;
        assert_eq!(v["valid"], false, "{token:.60}: {v}");
        assert!(v["reason"].is_string(), "{v}");
    }
    for chunk in bad.chunks(40) {
        let (status, res, _) = s
            .call(
                "POST",
                "/v1/tokens/verify/batch",
                None,
                Some(json!({ "tokens": chunk })),
            )
            .await;
        assert_eq!(status, 200, "{res}");
        let results = res["data"]["results"].as_array().unwrap();
        assert_eq!(results.len(), chunk.len());
        for r in results {
            assert_eq!(r["valid"], false, "{r}");
        }
    }
    // Malformed bodies are a 4xx, not a valid:false.
    for body in [
        json!({}),
        json!({ "token": 5 }),
        json!({ "token": "x", "extra": 1 }),
    ] {
        let (status, _, _) = s.call("POST", "/v1/tokens/verify", None, Some(body)).await;
        assert_eq!(status, 422);
    }
    let (status, _, _) = s
        .call(
            "POST",
            "/v1/tokens/verify/batch",
            None,
            Some(json!({ "tokens": "x" })),
        )
        .await;
    assert_eq!(status, 422);
    // The good token still verifies.
    assert_eq!(verify(&s, &good, None).await["valid"], true);
}
