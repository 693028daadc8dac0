//! Provider login end to end against a real upstream OpenID Connect
//! provider: node-oidc-provider (`tests/upstream-oidc/provider.mjs`, from
//! `scripts/prereqs.sh`), driven through its sign-in form over HTTP. Checks
//! the whole flow (login → upstream → callback → single-use code →
//! exchange → refresh), the linking rules, and the refusals: an
//! unregistered redirect URI, an unverified email that an account already
//! holds, a disabled user, a replayed code. Fails, never skips, when node or
//! the package is missing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use sigil_server::core::trust::ModerationState;
use sigil_server::crypto;
use sigil_server::services::federation::ProviderConfig;
use sigil_server::services::moderation::Actor;
use url::Url;

const APP_REDIRECT: &str = "https://app.example/cb";

/// The upstream provider process, killed on drop.
struct Upstream {
    child: Child,
    issuer: String,
    /// Held open: the process would die of EPIPE on its next write.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_upstream(callback: &str) -> Upstream {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/upstream-oidc");
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "tests/upstream-oidc/node_modules is missing: run scripts/prereqs.sh (npm ci there)"
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(&dir)
        .env("SIGIL_CALLBACK", callback)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed (scripts/prereqs.sh)");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("provider.mjs did not start ({e}): {line:?}"));
    Upstream {
        child,
        issuer: started["issuer"].as_str().unwrap().to_owned(),
        _stdout: stdout,
    }
}

struct Fixture {
    server: common::TestServer,
    _upstream: Upstream,
    key: String,
    client_id: String,
    client_secret: String,
}

async fn fixture() -> Fixture {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let upstream = start_upstream(&format!("{base}/auth/oauth/corp/callback"));
    let mut config = sigil_server::Config::for_tests();
    config.oidc_providers = vec![ProviderConfig::parse_flag(&format!(
        "name=corp,issuer={},client_id=sigil,client_secret=sigil-upstream-secret",
        upstream.issuer
    ))
    .unwrap()];
    let server = common::start_on(listener, config).await;
    let (_, key) = server.account("owner@example.com").await;
    let (client_id, client_secret) = server
        .confidential_app(&key, &["identity.read", "profile.basic"])
        .await;
    Fixture {
        server,
        _upstream: upstream,
        key,
        client_id,
        client_secret,
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs `account` in through the upstream, starting at Sigil's login URL;
/// returns the URL the browser is finally sent to on the app.
async fn sign_in(f: &Fixture, account: &str) -> Url {
    let browser = browser();
    let mut url = Url::parse(&format!(
        "{}/auth/oauth/corp/login?client_id={}&redirect_uri={}&state=app-state-1",
        f.server.base, f.client_id, APP_REDIRECT
    ))
    .unwrap();
    for _ in 0..20 {
        let res = browser.get(url.clone()).send().await.unwrap();
        let status = res.status();
        if status.is_redirection() {
            let location = res.headers()["location"].to_str().unwrap();
            let next = url.join(location).unwrap();
            if next.as_str().starts_with(APP_REDIRECT) {
                return next;
            }
            url = next;
            continue;
        }
        let page = res.text().await.unwrap();
        assert_eq!(status, 200, "{url}: {page}");
        let form: &[(&str, &str)] = if page.contains(r#"name="prompt" value="login""#) {
            &[("prompt", "login"), ("login", account), ("password", "x")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            &[("prompt", "consent")]
        } else {
            panic!("unexpected upstream page at {url}: {page}");
        };
        let res = browser.post(url.clone()).form(form).send().await.unwrap();
        assert!(res.status().is_redirection(), "{url}: {}", res.status());
        url = url
            .join(res.headers()["location"].to_str().unwrap())
            .unwrap();
    }
    panic!("no way back to the app after 20 steps");
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn exchange(f: &Fixture, code: &str) -> (u16, Value) {
    let (status, body, headers) = f
        .server
        .call(
            "POST",
            "/auth/oauth/exchange",
            None,
            Some(json!({ "code": code })),
        )
        .await;
    if status == 200 {
        assert_eq!(headers["cache-control"], "no-store");
    }
    (status, body)
}

fn pairwise(f: &Fixture, user_id: &str) -> String {
    crypto::pairwise_sub(&f.server.state.pairwise_secret, &f.client_id, user_id)
}

#[tokio::test]
async fn a_verified_email_links_signs_in_and_the_session_refreshes() {
    let f = fixture().await;
    let alice = sigil_server::seed::user(&f.server.state, "alice@example.com")
        .await
        .unwrap();
    let back = sign_in(&f, "alice").await;
    assert_eq!(param(&back, "state").as_deref(), Some("app-state-1"));
    assert_eq!(param(&back, "iss").as_deref(), Some(f.server.base.as_str()));
    assert!(
        param(&back, "access_token").is_none() && param(&back, "error").is_none(),
        "{back}"
    );
    let code = param(&back, "code").expect("a code for the app");

    let (status, body) = exchange(&f, &code).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert!(body["meta"]["requestId"].is_string());
    assert_eq!(data["expiresIn"], 600);
    assert_eq!(data["tokenType"], "Bearer");
    // Linked by verified email to the existing account: the same user.
    assert_eq!(data["user"]["id"], pairwise(&f, &alice.id));
    assert_eq!(data["user"]["email"], "alice@example.com");
    assert_eq!(data["user"]["provider"], "corp");
    assert_eq!(data["user"]["isNewUser"], false);
    let access = data["accessToken"].as_str().unwrap();
    let (status, lookup, _) = f
        .server
        .call(
            "POST",
            "/auth/introspect",
            Some(&f.key),
            Some(json!({ "token": access })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(lookup["data"]["active"], true);
    assert_eq!(lookup["data"]["sub"], pairwise(&f, &alice.id));

    // The code is single use; a replay revokes the refresh token it issued.
    let (status, again) = exchange(&f, &code).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (400, Some("invalid_grant"))
    );
    let refresh = data["refreshToken"].as_str().unwrap();
    let (status, body, _) = f
        .server
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh, "client_id": f.client_id, "client_secret": f.client_secret })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // A second login by the same upstream account: linked by (issuer, sub).
    let code = param(&sign_in(&f, "alice").await, "code").unwrap();
    let (status, body) = exchange(&f, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], pairwise(&f, &alice.id));
    // /auth/refresh rotates it.
    let refresh = body["data"]["refreshToken"].as_str().unwrap();
    let (status, rotated, _) = f
        .server
        .call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh, "client_id": f.client_id, "client_secret": f.client_secret })),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["data"]["refreshToken"].as_str().unwrap(), refresh);
}

#[tokio::test]
async fn an_unverified_email_never_merges_and_new_users_are_created() {
    let f = fixture().await;
    let bob = sigil_server::seed::user(&f.server.state, "bob@example.com")
        .await
        .unwrap();
    // bob@example.com is a Sigil account, and the upstream did not verify it.
    let back = sign_in(&f, "bob").await;
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    assert!(param(&back, "code").is_none());
    assert_eq!(param(&back, "state").as_deref(), Some("app-state-1"));
    assert!(f
        .server
        .state
        .store
        .linked_user(&f._upstream.issuer, "bob")
        .await
        .unwrap()
        .is_none());
    let _ = bob;

    // carol: unverified, nobody has the address: a new user, without it.
    let code = param(&sign_in(&f, "carol").await, "code").unwrap();
    let (status, body) = exchange(&f, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["isNewUser"], true);
    assert_eq!(body["data"]["user"]["email"], Value::Null);
    assert!(f
        .server
        .state
        .store
        .user_by_email("carol@example.com")
        .await
        .unwrap()
        .is_none());

    // erin: verified and new: created with the address.
    let code = param(&sign_in(&f, "erin").await, "code").unwrap();
    let (status, body) = exchange(&f, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["isNewUser"], true);
    assert_eq!(body["data"]["user"]["email"], "erin@example.com");
}

#[tokio::test]
async fn a_disabled_user_is_refused() {
    let f = fixture().await;
    let dave = sigil_server::seed::user(&f.server.state, "dave@example.com")
        .await
        .unwrap();
    // Disabled after signing in: the code no longer exchanges.
    let code = param(&sign_in(&f, "dave").await, "code").unwrap();
    let state = &f.server.state;
    // Disabled as operators disable accounts (moderation), the one notion.
    state
        .moderation
        .set(
            &dave.id,
            ModerationState::Disabled,
            Some("test"),
            Actor::Operator("usr_operator"),
        )
        .await
        .unwrap();
    let (status, body) = exchange(&f, &code).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled")),
        "{body}"
    );
    // Disabled before: no code at all.
    let back = sign_in(&f, "dave").await;
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    assert!(param(&back, "code").is_none());
}

#[tokio::test]
async fn bad_logins_are_refused_before_anything_redirects() {
    let f = fixture().await;
    let get = |path: String| {
        let browser = browser();
        let url = format!("{}{path}", f.server.base);
        async move {
            let res = browser.get(url).send().await.unwrap();
            let status = res.status().as_u16();
            let location = res.headers().get("location").cloned();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, body, location)
        }
    };
    let cid = &f.client_id;
    // The open-redirect refusal: an unregistered redirect URI gets a 400
    // problem, never a Location.
    for evil in [
        "https://evil.example/cb",
        "https://app.example/cb/extra",
        "https://app.example/cb?x=1",
    ] {
        let enc: String = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect();
        let (status, body, location) = get(format!(
            "/auth/oauth/corp/login?client_id={cid}&redirect_uri={enc}"
        ))
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_redirect_uri")),
            "{evil}"
        );
        assert!(location.is_none());
    }
    let (status, body, _) = get(format!(
        "/auth/oauth/corp/login?client_id=app_nope&redirect_uri={APP_REDIRECT}"
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_client"))
    );
    let (status, body, _) = get(format!(
        "/auth/oauth/nope/login?client_id={cid}&redirect_uri={APP_REDIRECT}"
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_provider"))
    );
    let (status, body, _) = get(format!("/auth/oauth/corp/login?client_id={cid}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, body, _) = get(format!(
        "/auth/oauth/corp/login?client_id={cid}&redirect_uri={APP_REDIRECT}&scope=keys.write"
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_scope"))
    );
    // A forged or replayed callback: no login in flight with that state.
    let (status, body, _) = get("/auth/oauth/corp/callback?state=forged&code=x".into()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_state"))
    );
    let (status, body) = exchange(&f, "sgl_pc_unknown").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_grant"))
    );
}
