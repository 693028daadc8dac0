//! No secret reaches a log beyond its first 12 characters (SYSTEM.md,
//! "Credentials"). The real binary runs with `SIGIL_LOG=debug`, its stdout
//! and stderr captured to a file; a whole flow produces API keys, client
//! secrets and access tokens (and presents wrong ones); then the log is
//! searched for every one of them.

mod browser;
mod common;

use serde_json::{json, Value};
use sigil_server::crypto;

use common::{BinServer, Http, TempDir};

/// Characters of a secret that may appear in logs.
const SHOWN: usize = 12;

/// Every way `secret` could have leaked into `log`: the whole secret, its
/// first `SHOWN + 1` characters, and for a JWS its signature.
fn leaks(log: &str, secrets: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (label, secret) in secrets {
        let mut needles = vec![("the whole secret", secret.as_str())];
        if secret.len() > SHOWN {
            needles.push(("13 characters", &secret[..=SHOWN]));
        }
        let parts: Vec<&str> = secret.split('.').collect();
        if parts.len() == 3 && parts[2].len() > SHOWN {
            needles.push(("the JWS signature", parts[2]));
        }
        for (what, needle) in needles {
            if let Some(at) = log.find(needle) {
                let line_start = log[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = log[at..].find('\n').map_or(log.len(), |i| at + i);
                found.push(format!(
                    "{label}: {what} in log line: {}",
                    &log[line_start..line_end]
                ));
                break;
            }
        }
    }
    found
}

#[test]
fn the_leak_detector_itself_can_fail() {
    let key = crypto::new_api_key(false);
    let jws = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJlc2ln".to_owned();
    let secrets = vec![("key".to_owned(), key.clone()), ("jws".to_owned(), jws)];
    let shown = format!("INFO api key created key={}\n", &key[..SHOWN]);
    assert!(
        leaks(&shown, &secrets).is_empty(),
        "12 characters are allowed"
    );
    for leaked in [
        format!("DEBUG key={}\n", &key[..=SHOWN]),
        format!("DEBUG authorization: Bearer {key}\n"),
        "DEBUG sig=c2lnbmF0dXJlc2lnbmF0dXJlc2ln\n".to_owned(),
    ] {
        assert_eq!(leaks(&leaked, &secrets).len(), 1, "{leaked}");
    }
}

/// The long values a page handed the browser: form tokens and cookies.
fn page_secrets(what: &str, page: &browser::Page) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in browser::hidden_fields(&page.body) {
        // Form tokens; the other hidden fields (client_id, scope, the PKCE
        // challenge...) are public.
        let secret_name = ["csrf", "token", "secret"].iter().any(|n| name.contains(n));
        if secret_name && value.len() > SHOWN {
            out.push((format!("{what}: form field {name}"), value));
        }
    }
    for c in &page.set_cookies {
        let (name, rest) = c.split_once('=').unwrap();
        let value = rest.split(';').next().unwrap();
        if value.len() > SHOWN {
            out.push((format!("{what}: cookie {name}"), value.to_owned()));
        }
    }
    out
}

async fn ok(what: &str, (status, body, _): (u16, Value, http::HeaderMap)) -> Value {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
    body
}

async fn refused(what: &str, (status, body, _): (u16, Value, http::HeaderMap)) {
    assert!((400..500).contains(&status), "{what}: {status} {body}");
}

#[tokio::test]
async fn no_secret_reaches_the_debug_log() {
    let dir = TempDir::new("secret-logs");
    let db = dir.database_url();
    let log_path = dir.0.join("server.log");
    let env = [("SIGIL_LOG", "debug"), ("RUST_LOG", "debug")];
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut keep = |label: &str, secret: &str| {
        assert!(secret.len() > SHOWN, "{label} is too short to be a secret");
        secrets.push((label.to_owned(), secret.to_owned()));
    };

    let root = common::create_key_cli(&db, "logs@example.com", &[], &env, Some(&log_path));
    keep("bootstrap key", &root);
    // Test mode for the dev mailbox the sign-in code is read from.
    let serve_env = [env[0], env[1], ("SIGIL_TEST_MODE", "true")];
    let server = BinServer::start(&db, &serve_env, Some(&log_path)).await;
    let http: Http = server.http.clone();

    // API keys: created, used both ways, exchanged (seed and RFC 8693).
    let body = ok(
        "create key",
        http.call(
            "POST",
            "/v1/api-keys",
            Some(&root),
            Some(json!({"name": "ci", "preset": "write"})),
        )
        .await,
    )
    .await;
    let key = body["data"]["key"].as_str().unwrap().to_owned();
    let key_id = body["data"]["id"].as_str().unwrap().to_owned();
    keep("created key", &key);
    ok(
        "list",
        http.call("GET", "/v1/api-keys", Some(&key), None).await,
    )
    .await;
    let mut req = http::Request::get(format!("{}/v1/api-keys", http.base))
        .header("x-api-key", &key)
        .body(Vec::new())
        .unwrap();
    req.headers_mut()
        .insert("accept", http::HeaderValue::from_static("application/json"));
    ok("list via X-API-Key", common::send(req).await).await;
    let body = ok(
        "exchange",
        http.call(
            "POST",
            "/auth/token/exchange",
            None,
            Some(json!({"apiKey": key})),
        )
        .await,
    )
    .await;
    let exchanged = body["data"]["accessToken"].as_str().unwrap().to_owned();
    keep("exchanged access token", &exchanged);
    let body = ok(
        "RFC 8693 exchange",
        http.form(
            "/oauth/token",
            None,
            &[
                ("grant_type", sigil_server::oauth::token::TOKEN_EXCHANGE),
                ("subject_token", &key),
                (
                    "subject_token_type",
                    sigil_server::oauth::token::API_KEY_TOKEN_TYPE,
                ),
            ],
        )
        .await,
    )
    .await;
    keep(
        "RFC 8693 access token",
        body["access_token"].as_str().unwrap(),
    );
    ok(
        "list with token",
        http.call("GET", "/v1/api-keys", Some(&exchanged), None)
            .await,
    )
    .await;

    // An app: its secret, client credentials three ways, rotation.
    let body = ok(
        "create app",
        http.call(
            "POST",
            "/v1/apps",
            Some(&root),
            Some(json!({
                "name": "logged", "redirectUris": ["https://logs.example/cb"],
                "scopes": ["keys.read", "profile.basic"],
            })),
        )
        .await,
    )
    .await;
    let client_id = body["data"]["clientId"].as_str().unwrap().to_owned();
    let secret = body["data"]["clientSecret"].as_str().unwrap().to_owned();
    keep("client secret", &secret);
    let body = ok(
        "client_credentials basic",
        http.form(
            "/oauth/token",
            Some((&client_id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    let cc = body["access_token"].as_str().unwrap().to_owned();
    keep("client-credentials access token", &cc);
    let body = ok(
        "client_credentials post",
        http.form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ],
        )
        .await,
    )
    .await;
    keep(
        "client_secret_post access token",
        body["access_token"].as_str().unwrap(),
    );
    let body = ok(
        "seed client token",
        http.call(
            "POST",
            "/auth/client-token",
            None,
            Some(json!({"client_id": client_id, "client_secret": secret})),
        )
        .await,
    )
    .await;
    keep(
        "seed client token",
        body["data"]["accessToken"].as_str().unwrap(),
    );

    // Introspection of each kind of token, then revocation.
    let basic = Some((client_id.as_str(), secret.as_str()));
    let body = ok(
        "introspect",
        http.form("/oauth/introspect", basic, &[("token", &cc)])
            .await,
    )
    .await;
    assert_eq!(body["active"], true);
    ok(
        "introspect a key",
        http.form("/oauth/introspect", basic, &[("token", &key)])
            .await,
    )
    .await;
    ok(
        "seed introspect",
        http.call(
            "POST",
            "/auth/introspect",
            Some(&root),
            Some(json!({"token": exchanged})),
        )
        .await,
    )
    .await;
    ok(
        "revoke",
        http.form("/oauth/revoke", basic, &[("token", &cc)]).await,
    )
    .await;
    refused(
        "revoked token",
        http.call("GET", "/v1/api-keys", Some(&cc), None).await,
    )
    .await;

    let body = ok(
        "rotate secret",
        http.call(
            "POST",
            &format!("/v1/apps/{client_id}/secret"),
            Some(&root),
            None,
        )
        .await,
    )
    .await;
    let rotated = body["data"]["clientSecret"].as_str().unwrap().to_owned();
    keep("rotated client secret", &rotated);
    refused(
        "old secret",
        http.form(
            "/oauth/token",
            basic,
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    let body = ok(
        "rotated secret",
        http.form(
            "/oauth/token",
            Some((&client_id, &rotated)),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    keep(
        "access token after rotation",
        body["access_token"].as_str().unwrap(),
    );

    // The browser flow: sign-in (form tokens, cookies), consent, an
    // authorization code with PKCE, refresh tokens rotated and revoked.
    let email = "reader@example.com";
    let b = browser::Browser::new(&http.base);
    let form_page = b.get("/signin").await;
    assert_eq!(form_page.status, 200, "{}", form_page.body);
    for (label, value) in page_secrets("sign-in page", &form_page) {
        keep(&label, &value);
    }
    let mut form = browser::hidden_fields(&form_page.body);
    form.push(("email".into(), email.into()));
    let sent = b.post("/signin", &form).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    for (label, value) in page_secrets("sign-in post", &sent) {
        keep(&label, &value);
    }
    let verify_page = b.get(&sent.location.unwrap()).await;
    assert_eq!(verify_page.status, 200, "{}", verify_page.body);
    for (label, value) in page_secrets("verify page", &verify_page) {
        keep(&label, &value);
    }
    let body = ok(
        "mailbox",
        http.call("GET", &format!("/dev/mailbox?to={email}"), None, None)
            .await,
    )
    .await;
    let mut form = browser::hidden_fields(&verify_page.body);
    form.push((
        "code".into(),
        body["data"][0]["code"].as_str().unwrap().into(),
    ));
    let signed_in = b.post("/signin/verify", &form).await;
    assert!(signed_in.status < 400, "{}", signed_in.body);
    for (label, value) in page_secrets("signed in", &signed_in) {
        keep(&label, &value);
    }
    let (verifier, challenge) = browser::pkce();
    keep("PKCE verifier", &verifier);
    let url = browser::authorize_url(
        &http.base,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", "https://logs.example/cb"),
            ("scope", "profile.basic"),
            ("state", "state-logs"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let consent = b.consent_page(&url).await;
    for (label, value) in page_secrets("consent page", &consent) {
        keep(&label, &value);
    }
    let back = b.decide(&url, "approve").await;
    let code = browser::param(&back, "code").unwrap();
    keep("authorization code", &code);
    let basic = Some((client_id.as_str(), rotated.as_str()));
    let body = ok(
        "authorization_code",
        http.form(
            "/oauth/token",
            basic,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://logs.example/cb"),
                ("code_verifier", &verifier),
            ],
        )
        .await,
    )
    .await;
    keep("code access token", body["access_token"].as_str().unwrap());
    let rt1 = body["refresh_token"].as_str().unwrap().to_owned();
    keep("refresh token", &rt1);
    let body = ok(
        "refresh",
        http.form(
            "/oauth/token",
            basic,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
        )
        .await,
    )
    .await;
    keep(
        "refreshed access token",
        body["access_token"].as_str().unwrap(),
    );
    let rt2 = body["refresh_token"].as_str().unwrap().to_owned();
    keep("rotated refresh token", &rt2);
    let body = ok(
        "seed refresh",
        http.call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": rt2, "client_id": client_id, "client_secret": rotated})),
        )
        .await,
    )
    .await;
    keep(
        "seed-refreshed access token",
        body["data"]["accessToken"].as_str().unwrap(),
    );
    let rt3 = body["data"]["refreshToken"].as_str().unwrap().to_owned();
    keep("seed-rotated refresh token", &rt3);
    let body = ok(
        "introspect refresh token",
        http.form("/oauth/introspect", basic, &[("token", &rt3)])
            .await,
    )
    .await;
    assert_eq!(body["active"], true, "{body}");
    ok(
        "revoke refresh token",
        http.form("/oauth/revoke", basic, &[("token", &rt3)]).await,
    )
    .await;
    // Reusing a spent refresh token revokes the family (and logs a warning).
    refused(
        "refresh token reuse",
        http.form(
            "/oauth/token",
            basic,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt1)],
        )
        .await,
    )
    .await;

    // Wrong credentials: a typo of a real key, an unknown key, a wrong
    // client secret, a made-up refresh token. A typo is one character away
    // from a real key, so it is as secret as the key.
    let mut typo = key.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    keep("mistyped key", &typo);
    let unknown = crypto::new_api_key(false);
    keep("unknown key", &unknown);
    let wrong_secret = crypto::new_secret(crypto::CLIENT_SECRET_PREFIX);
    keep("wrong client secret", &wrong_secret);
    let made_up_rt = crypto::new_secret(crypto::REFRESH_PREFIX);
    keep("made-up refresh token", &made_up_rt);
    for bad in [&typo, &unknown] {
        refused(
            "bad key",
            http.call("GET", "/v1/api-keys", Some(bad), None).await,
        )
        .await;
        refused(
            "bad key exchange",
            http.call(
                "POST",
                "/auth/token/exchange",
                None,
                Some(json!({"apiKey": bad})),
            )
            .await,
        )
        .await;
    }
    refused(
        "wrong secret",
        http.form(
            "/oauth/token",
            Some((&client_id, &wrong_secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .await;
    refused(
        "made-up refresh token",
        http.form(
            "/oauth/token",
            Some((&client_id, &rotated)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &made_up_rt),
            ],
        )
        .await,
    )
    .await;
    refused(
        "seed refresh",
        http.call(
            "POST",
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": made_up_rt, "client_id": client_id, "client_secret": rotated})),
        )
        .await,
    )
    .await;

    // Revoke the created key and use it once more.
    ok(
        "revoke key",
        http.call(
            "POST",
            &format!("/v1/api-keys/{key_id}/revoke"),
            Some(&root),
            None,
        )
        .await,
    )
    .await;
    refused(
        "revoked key",
        http.call("GET", "/v1/api-keys", Some(&key), None).await,
    )
    .await;

    // Let the last response's log lines land, then stop the server.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(server);

    let log = std::fs::read_to_string(&log_path).unwrap();
    // The capture worked and ran at debug level: the per-request debug spans
    // and the keys' 12-character display prefixes are there.
    assert!(log.contains("DEBUG"), "no debug output captured:\n{log}");
    assert!(log.contains("/oauth/token"), "requests not logged:\n{log}");
    assert!(
        log.contains(&key[..SHOWN]),
        "the key prefix is expected in the log:\n{log}"
    );
    let labels: Vec<&str> = secrets.iter().map(|(l, _)| l.as_str()).collect();
    println!("checked {} secrets: {}", secrets.len(), labels.join(", "));
    let found = leaks(&log, &secrets);
    assert!(
        found.is_empty(),
        "{} of {} secrets leaked into the log:\n{}",
        found.len(),
        secrets.len(),
        found.join("\n")
    );
}
