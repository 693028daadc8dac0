//! Trust and moderation against the real server: a disabled user gets no
//! token on any path (and gets them again once clean), a restricted sender's
//! message is refused, app reports are rate-limited and escalate a user
//! once distinct accounts report them, every change is audited and sent as
//! `moderation.changed`, and trust levels reach the identity lookup, the
//! sign-in session and `GET /trust-model`.

mod browser;
mod common;

use browser::{hidden_fields, Browser};
use common::TestServer;
use serde_json::{json, Value};
use sigil_server::{seed, Config};

/// A `client_credentials` token for `app`, or the `/oauth/token` answer.
async fn app_token(s: &TestServer, app: &str, secret: &str) -> (u16, Value) {
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((app, secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    (status, body)
}

async fn moderate(s: &TestServer, key: &str, user: &str, state: &str) -> (u16, Value) {
    let (status, body, _) = s
        .call(
            "PUT",
            &format!("/v1/admin/users/{user}/moderation"),
            Some(key),
            Some(json!({ "state": state, "reason": "  test  " })),
        )
        .await;
    (status, body)
}

/// Sends a message as `token` with a fresh idempotency key.
async fn send(s: &TestServer, token: &str, n: u32) -> (u16, Value, http::HeaderMap) {
    let req = http::Request::post(format!("{}/app/v1/messages", s.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", format!("k{n}"))
        .body(serde_json::to_vec(&json!({ "to": "pw_reader", "body": "hi" })).unwrap())
        .unwrap();
    s.raw(req).await
}

/// Reports the user `slug` as `token`.
async fn report(s: &TestServer, token: &str, slug: &str) -> (u16, Value, http::HeaderMap) {
    s.call(
        "POST",
        "/app/v1/reports",
        Some(token),
        Some(json!({ "userId": slug, "reason": "spam", "details": "bulk messages" })),
    )
    .await
}

/// Asks for a sign-in code through the `/signin` form; returns it unused.
async fn fresh_signin_code(s: &TestServer, email: &str) -> String {
    let b = Browser::new(&s.base);
    let page = b.get("/signin").await;
    let mut form = hidden_fields(&page.body);
    form.push(("email".into(), email.into()));
    assert_eq!(b.post("/signin", &form).await.status, 303);
    browser::mailbox_code(s, email).await
}

#[tokio::test]
async fn a_disabled_user_gets_no_token_until_clean_and_every_change_is_audited_and_sent() {
    let s = common::start().await;
    let ops = s.operator("ops@example.com").await;
    let (alice, key) = s.account("alice@example.com").await;
    let (verifier, mut rx) = s.webhook_sink(&key, &["moderation.changed"]).await;
    let (app, secret) = s.confidential_app(&key, &["identity.read"]).await;
    let exchange = || async {
        s.call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({ "apiKey": key })),
        )
        .await
    };
    assert_eq!(exchange().await.0, 200);

    // Only the operator scope moderates; no preset holds it.
    let (status, body) = moderate(&s, &key, &alice, "disabled").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let (status, body) = moderate(&s, &ops, "usr_nobody", "disabled").await;
    assert_eq!(status, 404, "{body}");

    let (status, body) = moderate(&s, &ops, &alice, "disabled").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["moderation"]["state"], "disabled");
    assert_eq!(body["data"]["moderation"]["reason"], "test");
    assert_eq!(body["data"]["moderation"]["automatic"], false);
    assert_eq!(body["data"]["score"]["behaviourPenalty"], 50);

    // API-key exchange, the OAuth token endpoint, sign-in (form and code
    // exchange) and agent tokens: all refused.
    let (status, body, _) = exchange().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled")),
        "{body}"
    );
    let (status, body) = app_token(&s, &app, &secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body, _) = s
        .form(
            "/oauth/token",
            Some((&app, &secret)),
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", &key),
                (
                    "subject_token_type",
                    "urn:sigil:params:oauth:token-type:api_key",
                ),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let page = Browser::new(&s.base)
        .sign_in_from(&s, "/signin", "alice@example.com")
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    let code = fresh_signin_code(&s, "alice@example.com").await;
    let (status, body, _) = s
        .call(
            "POST",
            "/auth/exchange-code",
            None,
            Some(json!({ "email": "alice@example.com", "code": code })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled")),
        "{body}"
    );
    let (status, agent, _) = s
        .call(
            "POST",
            "/v1/agents",
            Some(&key),
            Some(json!({ "name": "a" })),
        )
        .await;
    assert_eq!(status, 201, "{agent}");
    let (status, body, _) = s
        .call(
            "POST",
            "/v1/tokens",
            Some(&key),
            Some(json!({ "agent_id": agent["data"]["id"], "scope": ["agents.read"] })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled")),
        "{body}"
    );

    // The change reached the user's webhooks and audit log.
    let event = common::next_event(&verifier, &mut rx, "moderation.changed").await;
    assert_eq!(event["data"]["userId"], alice.as_str());
    assert_eq!(
        (event["data"]["from"].as_str(), event["data"]["to"].as_str()),
        (Some("clean"), Some("disabled"))
    );
    let (status, audit, _) = s
        .call("GET", "/v1/audit?type=moderation.changed", Some(&key), None)
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    // Clean again: tokens flow, and that change is sent too.
    assert_eq!(moderate(&s, &ops, &alice, "clean").await.0, 200);
    assert_eq!(exchange().await.0, 200);
    assert_eq!(app_token(&s, &app, &secret).await.0, 200);
    let event = common::next_event(&verifier, &mut rx, "moderation.changed").await;
    assert_eq!(event["data"]["to"], "clean");
}

#[tokio::test]
async fn a_restricted_sender_cannot_send_messages_but_still_gets_tokens() {
    let s = common::start().await;
    let ops = s.operator("ops@example.com").await;
    let (owner, key) = s.account("owner@example.com").await;
    let (app, secret) = s.confidential_app(&key, &["messages.send"]).await;
    let user = seed::user(&s.state, "reader@example.com").await.unwrap();
    s.state
        .store
        .remember_subject(&app, "pw_reader", &user.id, 0)
        .await
        .unwrap();
    let (_, token) = app_token(&s, &app, &secret).await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(send(&s, &token, 1).await.0, 201);

    assert_eq!(moderate(&s, &ops, &owner, "restrict").await.0, 200);
    let (status, body, _) = send(&s, &token, 2).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_restricted")),
        "{body}"
    );
    // Restrict blocks messages only: a new token is still issued.
    assert_eq!(app_token(&s, &app, &secret).await.0, 200);
    assert_eq!(moderate(&s, &ops, &owner, "warn").await.0, 200);
    let (_, token) = app_token(&s, &app, &secret).await;
    let token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(send(&s, &token, 3).await.0, 201);
}

#[tokio::test]
async fn reports_are_rate_limited_and_escalate_once_distinct_accounts_report() {
    let s = common::start_with(Config {
        report_rate_per_min: 1,
        report_rate_burst: 2,
        ..Config::for_tests()
    })
    .await;
    let (bob, bob_key) = s.account("bob@example.com").await;
    let mut tokens = Vec::new();
    for n in 0..3 {
        let (_, key) = s.account(&format!("reporter{n}@example.com")).await;
        let (app, secret) = s
            .confidential_app(&key, &["reports.write", "identity.read"])
            .await;
        s.state
            .store
            .remember_subject(&app, &format!("pw_bob{n}"), &bob, 0)
            .await
            .unwrap();
        let (_, t) = app_token(&s, &app, &secret).await;
        tokens.push(t["access_token"].as_str().unwrap().to_owned());
    }
    let trust = || async {
        s.call("GET", "/v1/account/trust", Some(&bob_key), None)
            .await
            .1
    };

    let (status, body, _) = report(&s, &tokens[0], "pw_bob0").await;
    assert_eq!(status, 201, "{body}");
    assert!(body["data"]["id"].as_str().unwrap().starts_with("rpt_"));
    assert_eq!(body["data"]["userId"], "pw_bob0");
    // A second report from the same account counts once.
    assert_eq!(report(&s, &tokens[0], "pw_bob0").await.0, 201);
    assert_eq!(trust().await["data"]["moderation"]["state"], "clean");
    // The burst is spent: 429 with Retry-After.
    let (status, body, headers) = report(&s, &tokens[0], "pw_bob0").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    // Another app's slug means nothing here.
    assert_eq!(report(&s, &tokens[1], "pw_bob0").await.0, 404);

    assert_eq!(report(&s, &tokens[1], "pw_bob1").await.0, 201);
    let standing = trust().await;
    assert_eq!(
        standing["data"]["moderation"]["state"], "warn",
        "{standing}"
    );
    assert_eq!(standing["data"]["moderation"]["automatic"], true);
    assert_eq!(report(&s, &tokens[2], "pw_bob2").await.0, 201);
    let standing = trust().await;
    assert_eq!(
        standing["data"]["moderation"]["state"], "restrict",
        "{standing}"
    );
    assert_eq!(standing["data"]["reports"]["recent"], 4);
    assert_eq!(standing["data"]["reports"]["reporters"], 3);
    assert_eq!(standing["data"]["score"]["reportPenalty"], 30);
    assert_eq!(standing["data"]["score"]["behaviourPenalty"], 25);
    assert_eq!(standing["data"]["score"]["score"], 0);

    // Reports stop at restrict; and a token without `reports.write` is refused.
    let (_, key) = s.account("plain@example.com").await;
    let (app, secret) = s.confidential_app(&key, &["identity.read"]).await;
    let (_, t) = app_token(&s, &app, &secret).await;
    let (status, body, _) = s
        .call(
            "POST",
            "/app/v1/reports",
            t["access_token"].as_str(),
            Some(json!({ "userId": "pw_x", "reason": "spam" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
}

#[tokio::test]
async fn trust_levels_reach_the_lookup_the_session_and_the_model() {
    let s = common::start().await;
    let (status, model, _) = s.call("GET", "/trust-model", None, None).await;
    assert_eq!(status, 200, "{model}");
    let model = &model["data"];
    assert_eq!(model["levels"].as_array().unwrap().len(), 3);
    assert_eq!(model["moderationStates"].as_array().unwrap().len(), 4);
    assert_eq!(model["transitions"]["restrictAtReporters"], 3);
    assert_eq!(model["reports"]["endpoint"], "POST /app/v1/reports");

    let (_, key) = s.account("owner@example.com").await;
    let (app, secret) = s.confidential_app(&key, &["identity.read"]).await;
    let (user, user_key) = s.account("carol@example.com").await;
    s.state
        .store
        .remember_subject(&app, "pw_carol", &user, 0)
        .await
        .unwrap();
    let (_, t) = app_token(&s, &app, &secret).await;
    let token = t["access_token"].as_str().unwrap().to_owned();
    let level = || async {
        let (status, body, _) = s
            .call(
                "POST",
                "/app/v1/identity/lookup",
                Some(&token),
                Some(json!({ "userId": "pw_carol" })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["trustLevel"].as_str().unwrap().to_owned()
    };
    assert_eq!(level().await, "private");
    let (status, _, _) = s
        .call(
            "PATCH",
            "/v1/account",
            Some(&user_key),
            Some(json!({ "alias": "Carol" })),
        )
        .await;
    assert_eq!(status, 200);
    // The app was not granted `profile.basic`: it sees no alias.
    assert_eq!(level().await, "private");
    s.state
        .store
        .record_consent(&user, &app, &["profile.basic".into()], 0)
        .await
        .unwrap();
    assert_eq!(level().await, "unverified");
    let (status, domain, _) = s
        .call(
            "POST",
            "/v1/domains",
            Some(&user_key),
            Some(json!({ "domain": "carol.example" })),
        )
        .await;
    assert_eq!(status, 201, "{domain}");
    let id = domain["data"]["id"].as_str().unwrap();
    s.state
        .store
        .set_domain_verified(id, &user, 1)
        .await
        .unwrap();
    assert_eq!(level().await, "verified");
    let (_, standing, _) = s
        .call("GET", "/v1/account/trust", Some(&user_key), None)
        .await;
    assert_eq!(standing["data"]["trustLevel"], "verified");
    assert_eq!(standing["data"]["score"]["verifiedDomainBonus"], 20);

    let code = fresh_signin_code(&s, "carol@example.com").await;
    let (status, session, _) = s
        .call(
            "POST",
            "/auth/exchange-code",
            None,
            Some(json!({ "email": "carol@example.com", "code": code })),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["data"]["user"]["trustLevel"], "verified");
}
